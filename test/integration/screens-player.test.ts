import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import type { ApiServices } from '../../src/services/index.js';
import { campaignYaml } from '../factories.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { startScreenServices, type ScreenServicesFixture } from '../helpers/screens.js';
import { chromiumOptions } from '../helpers/browser.js';

/** 10:00 in Ho Chi Minh City, then running at the real pace: outside quiet hours whenever the test runs. */
const STARTED = Date.now();
const clock = () => new Date(Date.parse('2026-11-26T03:00:00Z') + (Date.now() - STARTED));
const MESSAGE = 'Bão số 9 sắp đổ bộ: người dân ở trong nhà';

describe('web player (headless Chromium)', () => {
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
    const added = await services.screens!.registry.add({ id: 'ben-xe', name: 'Bến xe Cần Thơ', kind: 'led', languages: ['vi'] }, 'test');
    token = added.token;
    await services.campaigns.put('bao-so-9', { text: campaignYaml({ id: 'bao-so-9', screens: [{ targets: { ids: ['ben-xe'] }, text: { vi: MESSAGE }, duration: 1 }] }) }, 'test');
    await services.launches.launch({ campaignId: 'bao-so-9' }, 'test');
    profile = mkdtempSync(join(tmpdir(), 'loa-chromium-'));
    // A fresh profile (playwright passes it as --user-data-dir); Debian's chromium, never a download.
    browser = await chromium.launchPersistentContext(profile, chromiumOptions());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await app?.close();
    await screens?.stop();
    await database?.drop();
  });

  const playCount = async () => Number((await database.store.db.selectFrom('plays').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('shows the launched message, keeps it when the API goes away, and reports its plays', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/v1/screens/ben-xe/player?token=${encodeURIComponent(token)}`);
    // The token was traded for a cookie: it is no longer in the address.
    expect(page.url()).toBe(`http://127.0.0.1:${port}/v1/screens/ben-xe/player`);
    await expect.poll(() => page.textContent('#message'), { timeout: 15_000 }).toBe(MESSAGE);
    await expect.poll(playCount, { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);

    await app!.close();
    app = undefined;
    await expect.poll(() => page.textContent('#status'), { timeout: 15_000 }).toBe('offline');
    expect(await page.textContent('#message')).toBe(MESSAGE);
    const before = await playCount();
    // Plays made while offline wait in the player and arrive once the API is back.
    await page.waitForFunction(`JSON.parse(localStorage.getItem('loa:ben-xe:plays') ?? '[]').length >= 2`, undefined, { timeout: 15_000 });
    await startApp();
    await expect.poll(playCount, { timeout: 30_000, interval: 500 }).toBeGreaterThanOrEqual(before + 2);
    expect(await page.textContent('#message')).toBe(MESSAGE);
    await page.close();
  }, 120_000);
});
