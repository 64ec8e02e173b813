import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import type { ApiServices } from '../../src/services/index.js';
import { ScreenRepository } from '../../src/store/screen.repository.js';
import { campaignYaml } from '../factories.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { startScreenServices, type ScreenServicesFixture } from '../helpers/screens.js';
import { chromiumOptions, FAKE_AUDIO_ARGS } from '../helpers/browser.js';

/** 17:00:00 in Ho Chi Minh City (an airtime window opens), then running at the real pace. */
const STARTED = Date.now();
const clock = () => new Date(Date.parse('2026-11-26T10:00:00Z') + (Date.now() - STARTED));

describe('loudspeaker web player (headless Chromium, fake audio output)', () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  let screens: ScreenServicesFixture | undefined;
  let services: ApiServices;
  let app: FastifyInstance | undefined;
  let browser: BrowserContext;
  let profile: string;
  let port = 0;
  let token = '';

  async function startApp(): Promise<void> {
    app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
    await app.listen({ host: '127.0.0.1', port });
    const address = app.server.address();
    if (address && typeof address === 'object') port = address.port;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    screens = await startScreenServices(database.store, prefix, { clock });
    services = screens.services;
    await startApp();
    const added = await services.screens!.loudspeakers.add({ id: 'an-binh', name: 'Loa xã An Bình', province: '92', commune: '31117', airtime: [{ from: '17:00', to: '17:05' }], blackout: [{ from: '21:00', to: '05:00' }] }, 'test');
    token = added.token;
    profile = mkdtempSync(join(tmpdir(), 'loa-chromium-'));
    browser = await chromium.launchPersistentContext(profile, chromiumOptions(FAKE_AUDIO_ARGS));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await app?.close();
    await screens?.stop();
    await database?.drop();
  });

  const plays = async () =>
    (await sql<{ item_id: number; seconds: number }>`SELECT item_id, extract(epoch FROM played_to - played_from)::float8 AS seconds FROM plays ORDER BY played_from`.execute(database.store.db)).rows;

  it('fetches and schedules the slots, plays them at their time (urgent at once), keeps playing offline and reports every broadcast', async () => {
    await services.campaigns.put('tiem-chung', { text: campaignYaml({ id: 'tiem-chung', loudspeakers: [{ targets: { areas: { commune: ['31117'] } }, text: 'Thông báo: tiêm chủng tại trạm y tế xã.' }] }) }, 'test');
    const normal = await services.launches.launch({ campaignId: 'tiem-chung' }, 'test');

    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/v1/loudspeakers/an-binh/player?token=${encodeURIComponent(token)}`);
    // The token was traded for a cookie: it is no longer in the address.
    expect(page.url()).toBe(`http://127.0.0.1:${port}/v1/loudspeakers/an-binh/player`);
    await expect.poll(() => page.getAttribute('body', 'data-slots'), { timeout: 15_000 }).toBe('1');
    // The normal slot starts at once (the window opened at 17:00): it is played and reported.
    await expect.poll(async () => (await plays()).length, { timeout: 30_000, interval: 500 }).toBe(1);

    // Valid for 40 s: its first play at once, the other two spread inside those 40 s (test time).
    await services.campaigns.put('lu-khan-cap', { text: campaignYaml({ id: 'lu-khan-cap', priority: 'urgent', loudspeakers: [{ targets: { ids: ['an-binh'] }, text: 'Khẩn cấp: nước lũ đang lên.', repetitions: 3, validity: 'PT40S' }] }) }, 'test');
    const urgent = await services.launches.launch({ campaignId: 'lu-khan-cap' }, 'test');
    await expect.poll(() => page.getAttribute('body', 'data-slots'), { timeout: 15_000 }).toBe('4');
    // The first urgent broadcast is reported; then the API goes away while the rest play.
    await expect.poll(async () => (await plays()).length, { timeout: 30_000, interval: 200 }).toBe(2);
    await app!.close();
    app = undefined;
    await expect.poll(() => page.textContent('#status'), { timeout: 15_000 }).toBe('offline');
    expect(await page.getAttribute('body', 'data-slots')).toBe('4');
    // Played offline from the clip fetched earlier, and buffered until the API is back.
    await page.waitForFunction(`JSON.parse(localStorage.getItem('loa:an-binh:plays') ?? '[]').length >= 1`, undefined, { timeout: 30_000 });
    await page.waitForFunction(`document.body.dataset.played === '4'`, undefined, { timeout: 30_000 });
    await startApp();
    await expect.poll(async () => (await plays()).length, { timeout: 30_000, interval: 500 }).toBe(4);

    const recorded = await plays();
    const items = await database.store.db.selectFrom('playlist_items').select(['id', 'run_id', 'audio_ms']).execute();
    const itemOf = (runId: number) => items.find((item) => item.run_id === runId)!;
    expect(recorded.map((play) => play.item_id)).toEqual([itemOf(normal.run.id).id, ...Array(3).fill(itemOf(urgent.run.id).id)]);
    // Each play lasted about as long as its clip (the fake output plays in real time).
    for (const play of recorded) {
      const ms = items.find((item) => item.id === play.item_id)!.audio_ms!;
      expect(play.seconds).toBeGreaterThan(ms / 1000 - 1);
      expect(play.seconds).toBeLessThan(ms / 1000 + 3);
    }
    // Minutes per commune are the sum of what the player reported.
    const repository = new ScreenRepository(database.store.db);
    const byCommune = [...(await repository.broadcastsByCommune(urgent.run.id)), ...(await repository.broadcastsByCommune(normal.run.id))];
    expect(byCommune.map((row) => [row.commune, row.broadcasts])).toEqual([
      ['31117', 3],
      ['31117', 1],
    ]);
    expect(byCommune.reduce((sum, row) => sum + row.minutes, 0)).toBeCloseTo(recorded.reduce((sum, play) => sum + play.seconds, 0) / 60, 6);
    await page.close();
  }, 150_000);
});
