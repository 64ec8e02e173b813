import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('buildApp', () => {
  let database: TestDatabase;
  let sut: FastifyInstance;
  let redisUp = true;

  beforeAll(async () => {
    database = await createTestDatabase();
    sut = await buildApp({
      logger: createLogger('silent'),
      metrics: createMetricsRegistry(),
      checks: [
        {
          name: 'postgres',
          check: async () => {
            if (!(await database.store.ping())) throw new Error('PostgreSQL did not answer');
          },
        },
        {
          name: 'redis',
          check: async () => {
            if (!redisUp) throw new Error('Redis connection is end');
          },
        },
      ],
    });
    // Routes that throw our domain errors, to check the one error handler maps them.
    sut.get('/test/not-found', async () => {
      throw new NotFoundError('run 42');
    });
    sut.get('/test/invalid', async () => {
      throw new ValidationError('campaign is invalid', [{ path: 'message.text', message: 'is required' }]);
    });
    sut.get('/test/bug', async () => {
      throw new TypeError('undefined is not a function');
    });
    sut.post('/test/body', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => ({ ok: true }));
    await sut.ready();
  });

  afterAll(async () => {
    await sut.close();
    await database.drop();
  });

  it('reports healthy dependencies with 200 and names a failed one with 503', async () => {
    expect((await sut.inject('/health')).statusCode).toBe(200);
    redisUp = false;
    const response = await sut.inject('/health');
    redisUp = true;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      status: 'unavailable',
      checks: { postgres: { ok: true }, redis: { ok: false, error: 'Redis connection is end' } },
    });
  });

  it('serves Prometheus metrics and the OpenAPI document', async () => {
    const metrics = await sut.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('loa_process_cpu_user_seconds_total');
    const docs = await sut.inject('/docs/json');
    expect(docs.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./), paths: { '/health': expect.any(Object) } });
  });

  it.each([
    ['GET', '/test/not-found', undefined, 404, 'not_found'],
    ['GET', '/test/invalid', undefined, 400, 'validation_failed'],
    ['GET', '/nowhere', undefined, 404, 'not_found'],
    ['POST', '/test/body', '{"name":', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ['POST', '/test/body', '{"nam":"x"}', 400, 'validation_failed'],
    ['GET', '/test/bug', undefined, 500, 'internal'],
  ] as const)('%s %s %s answers %i %s as JSON', async (method, url, payload, status, code) => {
    const response = await sut.inject({ method, url, payload, headers: payload ? { 'content-type': 'application/json' } : {} });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ error: code });
  });

  it('names the field a request body got wrong', async () => {
    const response = await sut.inject({ method: 'POST', url: '/test/body', payload: { nam: 'x' } });
    expect(response.json().details).toEqual([{ path: 'body', message: "must have required property 'name'" }]);
  });

  it('hides the internals of an unexpected error', async () => {
    const response = await sut.inject('/test/bug');
    expect(response.body).not.toContain('undefined is not a function');
  });
});
