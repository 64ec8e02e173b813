import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import type { ApiServices } from '../../src/services/index.js';
import { audienceCsv, campaignYaml } from '../factories.js';
import { expectOneLine, runLoa } from '../helpers/cli.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { startScreenServices, type ScreenServicesFixture } from '../helpers/screens.js';

const NOTICE = 'Xã An Bình thông báo: sáng thứ bảy tiêm vắc xin cho trẻ em tại trạm y tế xã.';

describe('loa speak, loa loudspeakers, loa validate (loudspeakers)', () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  let screens: ScreenServicesFixture;
  let services: ApiServices;
  let app: FastifyInstance;
  let env: Record<string, string> = {};
  let work: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    screens = await startScreenServices(database.store, prefix);
    services = screens.services;
    app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const key = await services.apiKeys.create({ role: 'admin', name: 'cli-admin' }, 'test');
    env = { LOA_URL: url, LOA_TOKEN: key.token };
    work = mkdtempSync(join(tmpdir(), 'loa-speak-'));
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  afterAll(async () => {
    await app.close();
    await screens.stop();
    await database.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('speak renders the text exactly as the service will (same clip hash), as Ogg Opus of plausible length', async () => {
    const out = join(work, 'thong-bao.opus');
    const run = await runLoa(['speak', NOTICE, '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { durationMs: number; bytes: number; hash: string };
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(result.bytes);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('OggS');
    const words = NOTICE.split(' ').length;
    expect(result.durationMs / 1000).toBeGreaterThan(words / 4);
    expect(result.durationMs / 1000).toBeLessThan(words / 1.5);
    const server = await app.inject({ method: 'POST', url: '/v1/loudspeakers/speech', headers: { authorization: `Bearer ${env.LOA_TOKEN}` }, payload: { text: NOTICE } });
    expect(server.json<{ hash: string; durationMs: number }>()).toMatchObject({ hash: result.hash, durationMs: result.durationMs });

    const human = await runLoa(['speak', NOTICE, '--out', out], { LOA_LANG: 'vi' });
    expect(human.stdout).toMatch(/^Đã ghi .*thong-bao\.opus: \d+\.\d giây/);
  });

  it('speak refuses a text with nothing to read, in one line, exit 1', async () => {
    const run = await runLoa(['speak', '?!…', '--out', join(work, 'empty.opus')], { LOA_LANG: 'en' });
    expect(run.code).toBe(1);
    expectOneLine(run.stderr);
    expect(run.stderr).toContain('cannot read this text out');
  });

  it('loudspeakers add/list/token through the API; a malformed window is refused naming the option', async () => {
    const added = await runLoa(['loudspeakers', 'add', '--id', 'an-binh-ap-3', '--name', 'Loa ấp 3', '--commune', '31117', '--hamlet', 'ap-3', '--airtime', '05:30-06:30', '--airtime', '17:00–18:30', '--blackout', '21:00-05:00', '--json'], env);
    expect(added.code, added.stderr).toBe(0);
    const { loudspeaker, token } = JSON.parse(added.stdout) as { loudspeaker: { airtime: unknown; blackout: unknown }; token: string };
    expect(loudspeaker).toMatchObject({ airtime: [{ from: '05:30', to: '06:30' }, { from: '17:00', to: '18:30' }], blackout: [{ from: '21:00', to: '05:00' }] });
    expect((await app.inject({ method: 'GET', url: '/v1/loudspeakers/an-binh-ap-3/playlist', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);

    const list = await runLoa(['loudspeakers', 'list'], { ...env, LOA_LANG: 'vi' });
    expect(list.stdout).toContain('an-binh-ap-3  "Loa ấp 3"  địa bàn 31117/ap-3  giờ phát 05:30–06:30, 17:00–18:30  giờ cấm 21:00–05:00');
    expect(list.stdout).not.toContain(token);

    const rotated = await runLoa(['loudspeakers', 'token', 'an-binh-ap-3', '--json'], env);
    expect((JSON.parse(rotated.stdout) as { token: string }).token).not.toBe(token);
    expect((await app.inject({ method: 'GET', url: '/v1/loudspeakers/an-binh-ap-3/playlist', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);

    const bad = await runLoa(['loudspeakers', 'add', '--id', 'x-1', '--name', 'X', '--commune', '1', '--airtime', '5h30'], { ...env, LOA_LANG: 'en' });
    expect(bad.code).toBe(1);
    expectOneLine(bad.stderr);
    expect(bad.stderr).toContain('--airtime: "5h30" is not a window');
  });

  it('validate and preview show each loudspeaker item with its length; text and audio together are refused', async () => {
    const good = join(work, 'good.yaml');
    writeFileSync(good, campaignYaml({ id: 'an-binh-loa', loudspeakers: [{ targets: { areas: { commune: ['31117'] } }, text: NOTICE, repetitions: 3 }] }));
    const ok = await runLoa(['validate', good], { LOA_LANG: 'en' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/loudspeakers:\n {4}"Xã An Bình thông báo: .*…", \d+\.\d s, 3× a day, to commune 31117/);

    const audience = join(work, 'audience.csv');
    writeFileSync(audience, audienceCsv([{ msisdn: '0912345678' }, { msisdn: '0987654321' }]));
    const preview = await runLoa(['preview', good, '--audience', audience, '--json']);
    expect(preview.code, preview.stderr).toBe(0);
    const [item] = (JSON.parse(preview.stdout) as { loudspeakers: Array<{ index: number; durationMs: number; repetitions: number; dailySeconds: number }> }).loudspeakers;
    expect(item).toMatchObject({ index: 0, repetitions: 3 });
    expect(item!.durationMs).toBeGreaterThan(3000);
    expect(item!.dailySeconds).toBeCloseTo((item!.durationMs * 3) / 1000, 1);
    const previewText = await runLoa(['preview', good, '--audience', audience], { LOA_LANG: 'vi' });
    expect(previewText.stdout).toMatch(/loa truyền thanh:\n {4}"Xã An Bình .*", \d+\.\d giây, 3 lần\/ngày, tới commune 31117/);

    const both = join(work, 'both.yaml');
    writeFileSync(both, campaignYaml({ id: 'an-binh-loa', loudspeakers: [{ targets: { ids: ['a'] }, text: NOTICE, audio: 'a'.repeat(64) }] }));
    const refused = await runLoa(['validate', both], { LOA_LANG: 'en' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/both\.yaml:\d+:\d+: loudspeakers\[0\]: needs exactly one of text \(read out\) and audio/);
  });
});
