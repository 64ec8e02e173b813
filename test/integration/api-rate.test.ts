import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { RateLimitSettings } from '../../src/api/rate-limit.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { cleanupRedisPrefix, testRedisPrefix } from '../helpers/db.js';
import { startHardenedApi, type HardenedApi } from '../helpers/api-hard.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAX = 5;
const SCREEN_MAX = 3;

describe('rate limiting per key', () => {
  let api: HardenedApi;
  /** A second API process over the same database and the same Redis counters. */
  let second: FastifyInstance;
  let redis: Redis;
  const prefix = testRedisPrefix();
  let settings: RateLimitSettings;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    await new Promise((resolve) => redis.once('ready', resolve));
    settings = { max: MAX, screenMax: SCREEN_MAX, windowMs: 60_000, redis, nameSpace: `${prefix}:rate-limit:` };
    api = await startHardenedApi({ rateLimit: settings });
    second = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services: api.services, rateLimit: settings });
    await second.ready();
  }, 60_000);

  afterAll(async () => {
    await second?.close();
    await api?.stop();
    const cleaner = new Redis(REDIS_URL);
    await cleanupRedisPrefix(cleaner, prefix);
    cleaner.disconnect();
    redis?.disconnect();
  });

  const get = (app: FastifyInstance, url: string, headers: Record<string, string>, remoteAddress = '127.0.0.1') => app.inject({ url, headers, remoteAddress });

  it('answers 429 with Retry-After once a key has made its requests in the window, whatever its address', async () => {
    const viewer = api.headers('viewer');
    for (let i = 0; i < MAX; i += 1) {
      const response = await get(api.app, '/v1/runs', viewer, `10.0.0.${i}`);
      expect(response.statusCode).toBe(200);
      expect(Number(response.headers['x-ratelimit-remaining'])).toBe(MAX - 1 - i);
    }
    const refused = await get(api.app, '/v1/campaigns', viewer, '10.9.9.9');
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.json()).toMatchObject({ error: 'rate_limited', message: expect.stringContaining(`at most ${MAX} requests per 60 s`) });
    // The counters are in Redis: another API process refuses the key too.
    expect((await get(second, '/v1/runs', viewer)).statusCode).toBe(429);
  });

  it('counts each key on its own: another key from the same address is served', async () => {
    expect((await get(api.app, '/v1/runs', api.headers('operator'))).statusCode).toBe(200);
  });

  it('costs nothing to be refused as unauthenticated, and does not let anyone in', async () => {
    for (let i = 0; i < MAX * 2; i += 1) expect((await get(api.app, '/v1/runs', { authorization: 'Bearer loa_wrong' })).statusCode).toBe(401);
    expect((await get(api.app, '/v1/runs', api.headers('admin'))).statusCode).toBe(200);
  });

  it('limits a screen per token on its own budget: wrong tokens on its id do not starve it, API keys are untouched', async () => {
    const screen = `/v1/screens/${api.fixtures.inScreen}/playlist`;
    for (let i = 0; i < SCREEN_MAX * 3; i += 1) expect((await get(api.app, screen, { authorization: 'Bearer wrong-token' })).statusCode).toBeOneOf([401, 429]);
    expect((await get(api.app, screen, { authorization: 'Bearer wrong-token' })).statusCode).toBe(429);
    for (let i = 0; i < SCREEN_MAX; i += 1) expect((await get(api.app, screen, api.headers('screen'))).statusCode).toBe(200);
    const refused = await get(api.app, screen, api.headers('screen'));
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Its polls never came out of an API key's budget.
    const keyed = await get(api.app, '/v1/campaigns', api.headers('scoped'));
    expect(keyed.statusCode).toBe(200);
    expect(Number(keyed.headers['x-ratelimit-remaining'])).toBe(MAX - 1);
  });

  it('never limits /health, /metrics or the documentation', async () => {
    for (let i = 0; i < MAX * 3; i += 1) {
      expect((await api.app.inject('/health')).statusCode).toBe(200);
      expect((await api.app.inject('/metrics')).statusCode).toBe(200);
    }
    expect((await api.app.inject('/docs/json')).statusCode).toBe(200);
  });

  it('lets requests through uncounted when Redis is away, rather than failing them', async () => {
    const away = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    away.on('error', () => undefined);
    const app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services: api.services, rateLimit: { ...settings, redis: away, max: 1 } });
    try {
      for (let i = 0; i < 3; i += 1) expect((await app.inject({ url: '/v1/keys', headers: api.headers('admin') })).statusCode).toBe(200);
    } finally {
      await app.close();
      away.disconnect();
    }
  });
});
