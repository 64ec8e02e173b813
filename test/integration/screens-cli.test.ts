import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import type { ApiServices } from '../../src/services/index.js';
import { runLoa } from '../helpers/cli.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { startScreenServices, type ScreenServicesFixture } from '../helpers/screens.js';

describe('loa screens', () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  let screens: ScreenServicesFixture;
  let services: ApiServices;
  let app: FastifyInstance;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    database = await createTestDatabase();
    screens = await startScreenServices(database.store, prefix);
    services = screens.services;
    app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const key = await services.apiKeys.create({ role: 'admin', name: 'cli-admin' }, 'test');
    env = { LOA_URL: url, LOA_TOKEN: key.token };
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  afterAll(async () => {
    await app.close();
    await screens.stop();
    await database.drop();
  });

  const poll = (id: string, token: string) => app.inject({ method: 'GET', url: `/v1/screens/${id}/playlist`, headers: { authorization: `Bearer ${token}` } });

  it('adds a screen and shows its token once, lists it, and replaces the token', async () => {
    const added = await runLoa(['screens', 'add', '--id', 'cho-xuan-khanh', '--name', 'Chợ Xuân Khánh', '--kind', 'led', '--tag', 'cho', '--province', '92'], { ...env, LOA_LANG: 'vi' });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('Đã đăng ký màn hình cho-xuan-khanh');
    const token = /\s(lsc_\S+)/.exec(added.stdout)![1]!;
    expect((await poll('cho-xuan-khanh', token)).statusCode).toBe(200);
    await services.screens!.playlists.flushSeen(); // heartbeats are written once a second

    const list = await runLoa(['screens', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: 'cho-xuan-khanh', kind: 'led', tags: ['cho'], province: '92', status: 'online' })]);
    expect(list.stdout).not.toContain('lsc_');
    const text = await runLoa(['screens', 'list'], { ...env, LOA_LANG: 'en' });
    expect(text.stdout).toContain('cho-xuan-khanh  led  "Chợ Xuân Khánh"  online');

    const rotated = await runLoa(['screens', 'token', 'cho-xuan-khanh', '--json'], env);
    const fresh = (JSON.parse(rotated.stdout) as { token: string }).token;
    expect(fresh).not.toBe(token);
    expect((await poll('cho-xuan-khanh', token)).statusCode).toBe(401);
    expect((await poll('cho-xuan-khanh', fresh)).statusCode).toBe(200);
  });

  it('refuses a kind no adapter has, and an unknown screen', async () => {
    const kind = await runLoa(['screens', 'add', '--id', 'x', '--name', 'x', '--kind', 'hologram'], env);
    expect(kind.code).toBe(2);
    const missing = await runLoa(['screens', 'token', 'khong-co'], { ...env, LOA_LANG: 'en' });
    expect(missing.code).not.toBe(0);
  });
});
