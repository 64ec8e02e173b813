import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { simulatorCarriers } from '../../src/config.js';
import type { RunLauncher } from '../../src/jobs/engine-contract.js';
import { createRunStatusReader } from '../../src/jobs/engine.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { PlaylistChanges } from '../../src/screens/playlist-changes.js';
import type { Playlist } from '../../src/screens/screen-adapter.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { campaignYaml } from '../factories.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const launcher: RunLauncher = { enqueueCompile: async () => undefined };
/** 10:00 in Asia/Ho_Chi_Minh: outside quiet hours. */
const DAYTIME = new Date('2026-11-26T03:00:00Z');

/** One API process: its own Redis connections and app over the shared database and channel. */
interface Process {
  app: FastifyInstance;
  services: ApiServices;
  redis: Redis[];
}

describe('screens API', () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  let now = DAYTIME;
  let logText = '';
  let first: Process;
  let second: Process;
  let adminKey = '';
  const tokens: Record<string, string> = {};

  async function startProcess(): Promise<Process> {
    const publisher = new Redis(REDIS_URL);
    const subscriber = new Redis(REDIS_URL);
    const changes = new PlaylistChanges(publisher, subscriber, `${prefix}:screens:changed`);
    await changes.start();
    const store = database.store;
    const services = createApiServices(
      store,
      {
        launcher,
        statusReader: createRunStatusReader(store, { carriers: simulatorCarriers(2775) }),
      },
      { clock: () => now, playlistChanges: changes },
    );
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logText += chunk.toString('utf8');
        callback();
      },
    });
    const app = await buildApp({ logger: createLogger('trace', destination), metrics: createMetricsRegistry(), checks: [], services });
    await app.ready();
    return { app, services, redis: [publisher, subscriber] };
  }

  async function stopProcess(process: Process): Promise<void> {
    await process.app.close();
    await process.services.screens?.changes.stop();
    for (const connection of process.redis) connection.disconnect();
  }

  const admin = () => ({ authorization: `Bearer ${adminKey}` });
  const screenAuth = (id: string) => ({ authorization: `Bearer ${tokens[id]}` });

  async function addScreen(body: Record<string, unknown>): Promise<void> {
    const response = await first.app.inject({ method: 'POST', url: '/v1/screens', headers: admin(), payload: body });
    expect(response.statusCode, response.body).toBe(201);
    tokens[String(body.id)] = response.json<{ token: string }>().token;
  }

  async function launch(id: string, overrides: Record<string, unknown>): Promise<number> {
    const saved = await first.app.inject({ method: 'PUT', url: `/v1/campaigns/${id}`, headers: { ...admin(), 'content-type': 'application/yaml' }, payload: campaignYaml({ id, ...overrides }) });
    expect(saved.statusCode, saved.body).toBeLessThan(300);
    const launched = await first.app.inject({ method: 'POST', url: `/v1/campaigns/${id}/launch`, headers: admin() });
    expect(launched.statusCode, launched.body).toBeLessThan(300);
    return launched.json<{ run: { id: number } }>().run.id;
  }

  async function playlist(process: Process, id: string, query = ''): Promise<Playlist> {
    const response = await process.app.inject({ method: 'GET', url: `/v1/screens/${id}/playlist${query}`, headers: screenAuth(id) });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Playlist>();
  }

  async function screenVersion(id: string): Promise<number> {
    return (await database.store.db.selectFrom('screens').select('version').where('id', '=', id).executeTakeFirstOrThrow()).version;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    first = await startProcess();
    second = await startProcess();
    adminKey = (await first.services.apiKeys.create({ role: 'admin', name: 'test-admin' }, 'test')).token;
    await addScreen({ id: 'cho-an-binh', name: 'Chợ An Bình', kind: 'led', tags: ['cho'], province: '92', languages: ['vi', 'en'] });
    await addScreen({ id: 'vca-arrivals', name: 'Cần Thơ airport arrivals', kind: 'airport-board', tags: ['san-bay'], province: '92', languages: ['vi', 'en'] });
    await addScreen({ id: 'hanoi-led', name: 'Hà Nội', kind: 'led', tags: ['cho'], province: '01', languages: ['vi'] });
  });

  afterAll(async () => {
    await stopProcess(first);
    await stopProcess(second);
    const cleaner = new Redis(REDIS_URL);
    await cleanupRedisPrefix(cleaner, prefix);
    cleaner.disconnect();
    await database.drop();
  });

  beforeEach(() => {
    now = DAYTIME;
  });

  describe('token isolation', () => {
    it('refuses a screen token on another screen, on operator routes and no token at all, with no data', async () => {
      const cases = [
        { url: '/v1/screens/vca-arrivals/playlist', headers: screenAuth('cho-an-binh') },
        { url: '/v1/screens/cho-an-binh/playlist', headers: {} },
        { url: '/v1/screens/cho-an-binh/playlist?token=wrong', headers: {} },
        { url: '/v1/screens', headers: screenAuth('cho-an-binh') },
        { url: '/v1/screens/cho-an-binh', headers: screenAuth('cho-an-binh') },
        { url: '/v1/campaigns', headers: screenAuth('cho-an-binh') },
        { url: '/v1/runs/1/plays', headers: screenAuth('cho-an-binh') },
      ];
      for (const request of cases) {
        const response = await first.app.inject({ method: 'GET', ...request });
        expect(response.statusCode, request.url).toBe(401);
        expect(response.body).not.toMatch(/items|Chợ|version/);
      }
      const plays = await first.app.inject({ method: 'POST', url: '/v1/screens/vca-arrivals/plays', headers: screenAuth('cho-an-binh'), payload: { plays: [] } });
      expect(plays.statusCode).toBe(401);
    });

    it('never lists a token or its hash, and never logs a ?token=', async () => {
      const list = await first.app.inject({ method: 'GET', url: '/v1/screens', headers: admin() });
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toMatch(/token|lsc_/i);
      await first.app.inject({ method: 'GET', url: `/v1/screens/cho-an-binh/playlist?token=${tokens['cho-an-binh']}` });
      const player = await first.app.inject({ method: 'GET', url: `/v1/screens/cho-an-binh/player?token=${tokens['cho-an-binh']}` });
      expect(player.statusCode).toBe(303);
      expect(player.headers.location).toBe('/v1/screens/cho-an-binh/player');
      expect(logText).toContain('token=[redacted]');
      expect(logText).not.toContain(tokens['cho-an-binh']!);
    });
  });

  it('answers 304 while nothing changed and a new version when a campaign targeting the screen launches, bumping only its screens', async () => {
    const before = await playlist(first, 'cho-an-binh');
    const unchanged = await first.app.inject({ method: 'GET', url: '/v1/screens/cho-an-binh/playlist', headers: { ...screenAuth('cho-an-binh'), 'if-none-match': `"${before.version}"` } });
    expect(unchanged.statusCode).toBe(304);
    const boardVersion = await screenVersion('vca-arrivals');

    await launch('cho-khau-trang', { screens: [{ targets: { kinds: ['led'], areas: { province: ['92'] } }, text: { vi: 'Đeo khẩu trang nơi công cộng', en: 'Wear a mask in public' }, duration: 15 }] });

    await expect.poll(async () => (await playlist(second, 'cho-an-binh')).version).not.toBe(before.version);
    const after = await playlist(second, 'cho-an-binh');
    expect(after.items.map((item) => item.texts.vi)).toContain('Đeo khẩu trang nơi công cộng');
    expect(after.urgent).toBe(false);
    expect(after.now).toBe(DAYTIME.toISOString());
    expect(after.deadline).not.toBeNull();
    const changed = await first.app.inject({ method: 'GET', url: '/v1/screens/cho-an-binh/playlist', headers: { ...screenAuth('cho-an-binh'), 'if-none-match': `"${before.version}"` } });
    expect(changed.statusCode).toBe(200);
    // Another kind, and the same kind in another province: untouched.
    expect(await screenVersion('vca-arrivals')).toBe(boardVersion);
    expect((await playlist(first, 'hanoi-led')).items).toEqual([]);
  });

  it('makes a run’s items once, however often its launch is retried', async () => {
    const saved = await first.app.inject({ method: 'PUT', url: '/v1/campaigns/nhac-lai', headers: { ...admin(), 'content-type': 'application/yaml' }, payload: campaignYaml({ id: 'nhac-lai', screens: [{ targets: { ids: ['hanoi-led'] }, text: { vi: 'Nhắc lại' }, duration: 5 }] }) });
    expect(saved.statusCode).toBeLessThan(300);
    const again = () => first.app.inject({ method: 'POST', url: '/v1/campaigns/nhac-lai/launch', headers: { ...admin(), 'idempotency-key': 'nhac-lai-1' } });
    const runId = (await again()).json<{ run: { id: number } }>().run.id;
    const version = await screenVersion('hanoi-led');
    expect((await again()).json<{ run: { id: number } }>().run.id).toBe(runId);
    const items = await database.store.db.selectFrom('playlist_items').select('id').where('run_id', '=', runId).execute();
    expect(items).toHaveLength(1);
    expect(await screenVersion('hanoi-led')).toBe(version);
    await first.services.screens!.playlists.withdrawRun(runId);
  });

  it('wakes a pending long-poll held by a second API process when an urgent campaign launches', async () => {
    const before = await playlist(second, 'vca-arrivals');
    const pending = second.app.inject({ method: 'GET', url: '/v1/screens/vca-arrivals/playlist?wait=50', headers: { ...screenAuth('vca-arrivals'), 'if-none-match': `"${before.version}"` } });
    // The poll is held (not answered) until the launch on the first process.
    await expect.poll(() => second.services.screens!.changes.pending).toBe(1);
    await launch('bao-lu', { priority: 'urgent', validity: 'PT1H', screens: [{ targets: { ids: ['vca-arrivals'] }, text: { vi: 'Cảnh báo lũ: sơ tán ngay', en: 'Flood warning: evacuate now' }, duration: 20 }] });
    const response = await pending;
    expect(response.statusCode).toBe(200);
    const body = response.json<Playlist>();
    expect(body.urgent).toBe(true);
    expect(body.items.map((item) => item.texts.en)).toEqual(['Flood warning: evacuate now']);
  }, 40_000);

  it('plays only urgent items while one is valid, and the normal playlist again when it expires', async () => {
    await launch('nuoc-sach', { screens: [{ targets: { tags: ['san-bay'] }, text: { vi: 'Tiết kiệm nước sạch' }, duration: 10 }] });
    const during = await playlist(first, 'vca-arrivals');
    expect(during.urgent).toBe(true);
    expect(during.items.every((item) => item.priority === 'urgent')).toBe(true);
    expect(during.deadline).toBe(new Date(DAYTIME.getTime() + 3600_000).toISOString());

    now = new Date(DAYTIME.getTime() + 3600_000 + 1000);
    const after = await playlist(first, 'vca-arrivals');
    expect(after.urgent).toBe(false);
    expect(after.items.map((item) => item.texts.vi)).toEqual(['Tiết kiệm nước sạch']);
    expect(after.version).not.toBe(during.version);
  });

  it('withdraws a cancelled run’s items and restores them', async () => {
    const runId = await launch('tiem-chung', { screens: [{ targets: { ids: ['hanoi-led'] }, text: { vi: 'Tiêm chủng mũi 3' }, duration: 10 }] });
    expect((await playlist(first, 'hanoi-led')).items).toHaveLength(1);
    const versionBefore = await screenVersion('hanoi-led');
    const boardVersion = await screenVersion('vca-arrivals');

    expect(await first.services.screens!.playlists.withdrawRun(runId)).toEqual(['hanoi-led']);
    // The second process hears of it through Redis, a moment later.
    await expect.poll(async () => (await playlist(second, 'hanoi-led')).items).toEqual([]);
    expect(await screenVersion('hanoi-led')).toBe(versionBefore + 1);
    expect(await screenVersion('vca-arrivals')).toBe(boardVersion);
    expect(await first.services.screens!.playlists.withdrawRun(runId)).toEqual([]);

    await first.services.screens!.playlists.restoreRun(runId);
    await expect.poll(async () => (await playlist(second, 'hanoi-led')).items.map((item) => item.texts.vi)).toEqual(['Tiêm chủng mũi 3']);
  });

  it('stores valid plays, refuses each bad record with its reason, and counts a resent backlog once', async () => {
    const item = (await playlist(first, 'cho-an-binh')).items[0]!;
    const at = (seconds: number) => new Date(DAYTIME.getTime() + seconds * 1000).toISOString();
    now = new Date(DAYTIME.getTime() + 600_000);
    const batch = [
      { item: item.id, from: at(10), to: at(25) },
      { item: item.id, from: at(40), to: at(55) },
      { item: item.id, from: at(60), to: at(50) },
      { item: 999_999, from: at(10), to: at(20) },
      { item: item.id, from: 'yesterday', to: at(20) },
      { item: item.id, from: at(3000), to: at(3015) },
    ];
    const post = (plays: unknown[]) => first.app.inject({ method: 'POST', url: '/v1/screens/cho-an-binh/plays', headers: screenAuth('cho-an-binh'), payload: { plays } });
    const response = await post(batch);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [
        { index: 2, reason: 'ends_before_start' },
        { index: 3, reason: 'unknown_item' },
        { index: 4, reason: 'bad_time' },
        { index: 5, reason: 'in_future' },
      ],
    });
    const resent = await post(batch.slice(0, 2));
    expect(resent.json()).toMatchObject({ accepted: 0, duplicates: 2, rejected: [] });
    // Another screen's item is not this screen's to report.
    const board = (await playlist(first, 'vca-arrivals')).items[0]!;
    expect((await post([{ item: board.id, from: at(10), to: at(20) }])).json()).toMatchObject({ accepted: 0, rejected: [{ index: 0, reason: 'unknown_item' }] });

    const counts = await first.app.inject({ method: 'GET', url: `/v1/runs/${item.runId}/plays`, headers: admin() });
    expect(counts.json()).toEqual([{ screenId: 'cho-an-binh', campaignId: 'cho-khau-trang', plays: 2, seconds: 30 }]);
    // The same in the run's status, with the campaign's plays over all its runs.
    const status = await first.app.inject({ url: `/v1/runs/${item.runId}`, headers: admin() });
    expect(status.json()).toMatchObject({ screens: { plays: 2, seconds: 30, campaignPlays: 2, byScreen: [{ screenId: 'cho-an-binh', plays: 2, seconds: 30 }] } });
  });

  it('marks a screen offline when unseen for 3 poll intervals', async () => {
    await first.app.inject({ method: 'POST', url: '/v1/screens', headers: admin(), payload: { id: 'benh-vien', name: 'Bệnh viện', kind: 'led', pollInterval: 30 } }).then((response) => {
      tokens['benh-vien'] = response.json<{ token: string }>().token;
    });
    const status = async () => (await first.app.inject({ method: 'GET', url: '/v1/screens/benh-vien', headers: admin() })).json<{ status: string; lastSeen: string | null }>();
    expect((await status()).status).toBe('never');
    await playlist(first, 'benh-vien');
    await first.services.screens!.playlists.flushSeen();
    expect(await status()).toEqual(expect.objectContaining({ status: 'online', lastSeen: DAYTIME.toISOString() }));
    now = new Date(DAYTIME.getTime() + 89_000);
    expect((await status()).status).toBe('online');
    now = new Date(DAYTIME.getTime() + 91_000);
    expect((await status()).status).toBe('offline');
  });

  it('renders the playlist as RSS, an LED crawl and board pages', async () => {
    const rss = await first.app.inject({ method: 'GET', url: `/v1/screens/cho-an-binh/playlist?format=rss&token=${tokens['cho-an-binh']}` });
    expect(rss.headers['content-type']).toContain('application/rss+xml');
    expect(rss.body).toContain('<title>Đeo khẩu trang nơi công cộng</title>');
    const led = await first.app.inject({ method: 'GET', url: '/v1/screens/cho-an-binh/playlist?format=led', headers: screenAuth('cho-an-binh') });
    expect(led.json<{ crawl: { text: string } }>().crawl.text).toBe('Đeo khẩu trang nơi công cộng • Wear a mask in public');
    const board = await first.app.inject({ method: 'GET', url: '/v1/screens/vca-arrivals/playlist?format=board', headers: screenAuth('vca-arrivals') });
    expect(board.json<{ pages: Array<{ lang: string }> }>().pages.map((page) => page.lang)).toEqual(['vi', 'en']);
    // Each format has its own ETag.
    expect(board.headers.etag).toMatch(/-board"$/);
  });

  it('streams an urgent launch to a server-sent-events client', async () => {
    const address = await second.app.listen({ host: '127.0.0.1', port: 0 });
    const abort = new AbortController();
    const response = await fetch(`${address}/v1/screens/hanoi-led/events`, { headers: screenAuth('hanoi-led'), signal: abort.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const read = async (until: string) => {
      while (!text.includes(until)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${until}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await read('event: playlist');
    await launch('chay-rung', { priority: 'urgent', validity: 'PT30M', screens: [{ targets: { ids: ['hanoi-led'] }, text: { vi: 'Nguy cơ cháy rừng cấp V' }, duration: 20 }] });
    await read('Nguy cơ cháy rừng cấp V');
    abort.abort();
  }, 20_000);
});
