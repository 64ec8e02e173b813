import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { roleAllows, type ApiRole } from '../../src/domain/api-key.js';
import type { RunLauncher } from '../../src/jobs/engine-contract.js';
import { createRunStatusReader } from '../../src/jobs/engine.js';
import { simulatorCarriers } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { campaignYaml } from '../factories.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/**
 * Console sign-in against the real app and PostgreSQL: the same /v1 routes and role rules for a
 * cookie session as for an API key, CSRF on every change, argon2 hashes, audit under the person's
 * name, nothing secret in the logs, and the sign-in limit.
 */

const launcher: RunLauncher = { enqueueCompile: async () => undefined };
const PASSWORDS: Record<ApiRole, string> = { admin: 'quan-tri-vien-mat-khau', operator: 'dieu-hanh-mat-khau-1', viewer: 'nguoi-xem-mat-khau-2' };

interface Session {
  cookie: string;
  csrf: string;
}

describe('console sessions on the /v1 API', () => {
  let database: TestDatabase;
  let services: ApiServices;
  let sut: FastifyInstance;
  let logText = '';
  const sessions = {} as Record<ApiRole, Session>;

  const signIn = (name: string, password: string) => sut.inject({ method: 'POST', url: '/v1/session', payload: { name, password } });
  const sessionOf = (response: LightMyRequestResponse): Session => {
    const cookie = response.cookies.find((c) => c.name === 'loa_session');
    return { cookie: `loa_session=${cookie!.value}`, csrf: response.json<{ csrfToken: string }>().csrfToken };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    services = createApiServices(database.store, { launcher, statusReader: createRunStatusReader(database.store, { carriers: simulatorCarriers(2775) }) });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logText += chunk.toString('utf8');
        callback();
      },
    });
    sut = await buildApp({ logger: createLogger('trace', destination), metrics: createMetricsRegistry(), checks: [], services });
    await sut.ready();
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      await services.users!.create({ name: `${role}-1`, role, password: PASSWORDS[role] }, 'test');
      const response = await signIn(`${role}-1`, PASSWORDS[role]);
      expect(response.statusCode).toBe(200);
      sessions[role] = sessionOf(response);
    }
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('sets an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP) and stores only an argon2id hash', async () => {
    const response = await signIn('viewer-1', PASSWORDS.viewer);
    const cookie = response.cookies.find((c) => c.name === 'loa_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie.secure).toBeFalsy();
    const rows = await database.store.db.withTables<{ users: { name: string; password_hash: string } }>().selectFrom('users').select(['name', 'password_hash']).execute();
    for (const row of rows) {
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect(row.password_hash).not.toContain(PASSWORDS.viewer);
    }
  });

  // The role matrix of the key tests, with cookies: each route needs at least `role`.
  const routes: Array<{ method: 'GET' | 'POST' | 'PUT'; url: string; role: ApiRole; body?: string; type?: string }> = [
    { method: 'GET', url: '/v1/campaigns', role: 'viewer' },
    { method: 'GET', url: '/v1/runs', role: 'viewer' },
    { method: 'GET', url: '/v1/session', role: 'viewer' },
    { method: 'PUT', url: '/v1/campaigns/matrix-campaign', role: 'operator', body: campaignYaml({ id: 'matrix-campaign' }), type: 'application/yaml' },
    { method: 'POST', url: '/v1/campaigns/none-such/launch', role: 'operator', body: '{}', type: 'application/json' },
    { method: 'POST', url: '/v1/runs/999999/pause', role: 'operator' },
    { method: 'GET', url: '/v1/keys', role: 'admin' },
    { method: 'GET', url: '/v1/users', role: 'admin' },
  ];
  for (const route of routes) {
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const allowed = roleAllows(role, route.role);
      it(`${route.method} ${route.url} as a signed-in ${role}: ${allowed ? 'allowed' : '403'}`, async () => {
        const { cookie, csrf } = sessions[role];
        const response = await sut.inject({ method: route.method, url: route.url, headers: { cookie, 'x-csrf-token': csrf, ...(route.type ? { 'content-type': route.type } : {}) }, ...(route.body !== undefined ? { payload: route.body } : {}) });
        if (allowed) expect([401, 403], response.body).not.toContain(response.statusCode);
        else expect(response.statusCode, response.body).toBe(403);
        expect(response.statusCode).toBeLessThan(500);
      });
    }
  }

  it('refuses a change without the CSRF token, or with another session’s, even for an admin', async () => {
    const { cookie } = sessions.admin;
    const body = { name: 'csrf-probe', role: 'viewer', password: 'mot-mat-khau-dai' };
    const missing = await sut.inject({ method: 'POST', url: '/v1/users', headers: { cookie }, payload: body });
    expect(missing.statusCode).toBe(403);
    expect(missing.json()).toMatchObject({ error: 'forbidden', message: expect.stringContaining('x-csrf-token') });
    const borrowed = await sut.inject({ method: 'POST', url: '/v1/users', headers: { cookie, 'x-csrf-token': sessions.operator.csrf }, payload: body });
    expect(borrowed.statusCode).toBe(403);
    const right = await sut.inject({ method: 'POST', url: '/v1/users', headers: { cookie, 'x-csrf-token': sessions.admin.csrf }, payload: body });
    expect(right.statusCode).toBe(201);
    // Reads need no token.
    expect((await sut.inject({ method: 'GET', url: '/v1/users', headers: { cookie } })).statusCode).toBe(200);
  });

  it('audits a change under the person’s name, and API keys still work beside cookies', async () => {
    const { cookie, csrf } = sessions.operator;
    const saved = await sut.inject({ method: 'PUT', url: '/v1/campaigns/audited-campaign', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/yaml' }, payload: campaignYaml({ id: 'audited-campaign' }) });
    expect(saved.statusCode).toBe(201);
    const entries = await database.store.db.selectFrom('audit_log').select(['actor', 'action']).where('subject', '=', 'campaign:audited-campaign').execute();
    expect(entries).toEqual([{ actor: expect.stringMatching(/^user:\d+:operator-1$/), action: expect.any(String) }]);
    const key = await services.apiKeys.create({ role: 'viewer', name: 'script' }, 'test');
    expect((await sut.inject({ method: 'GET', url: '/v1/campaigns', headers: { authorization: `Bearer ${key.token}` } })).statusCode).toBe(200);
    // An Authorization header decides alone: a viewer key with an operator's cookie is a viewer.
    const mixed = await sut.inject({ method: 'PUT', url: '/v1/campaigns/audited-campaign', headers: { authorization: `Bearer ${key.token}`, cookie, 'x-csrf-token': csrf, 'content-type': 'application/yaml' }, payload: campaignYaml({ id: 'audited-campaign' }) });
    expect(mixed.statusCode).toBe(403);
  });

  it('gives one answer for a wrong password and an unknown name, audits both, and ends a session on sign-out', async () => {
    const wrong = await signIn('operator-1', 'not-the-password');
    const unknown = await signIn('nobody-here', 'not-the-password');
    expect([wrong.statusCode, unknown.statusCode]).toEqual([401, 401]);
    expect(wrong.json<{ message: string }>().message).toBe(unknown.json<{ message: string }>().message);
    expect(wrong.cookies).toEqual([]);
    const refused = await database.store.db.selectFrom('audit_log').select('subject').where('action', '=', 'session.refused').execute();
    expect(refused.map((entry) => entry.subject)).toEqual(expect.arrayContaining(['user-name:operator-1', 'user-name:nobody-here']));

    const session = sessionOf(await signIn('viewer-1', PASSWORDS.viewer));
    const signedOut = await sut.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
    expect(signedOut.statusCode).toBe(204);
    expect(signedOut.cookies.find((c) => c.name === 'loa_session')?.value).toBe('');
    const after = await sut.inject({ method: 'GET', url: '/v1/campaigns', headers: { cookie: session.cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('answers any cookie or CSRF header with 401 or 403, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), fc.option(fc.string({ maxLength: 80 })), fc.constantFrom('GET', 'POST'), async (value, csrf, method) => {
        const response = await sut.inject({
          method,
          url: method === 'GET' ? '/v1/campaigns' : '/v1/runs/1/pause',
          headers: { cookie: `loa_session=${encodeURIComponent(value)}`, ...(csrf !== null ? { 'x-csrf-token': csrf.replace(/[^\x21-\x7e]/g, '') } : {}) },
        });
        expect([401, 403]).toContain(response.statusCode);
      }),
      { numRuns: 60 },
    );
  });

  it('never logs a password, a session token or a CSRF token', () => {
    expect(logText.length).toBeGreaterThan(0);
    for (const password of Object.values(PASSWORDS)) expect(logText).not.toContain(password);
    for (const session of Object.values(sessions)) {
      expect(logText).not.toContain(session.cookie.split('=')[1]);
      expect(logText).not.toContain(session.csrf);
    }
  });

  it('limits sign-in attempts per address (429), last because it locks this address out', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await signIn('admin-1', 'guessing-the-password')).statusCode);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThan(0);
    // Even the right password waits now.
    expect((await signIn('admin-1', PASSWORDS.admin)).statusCode).toBe(429);
  });
});
