import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushDispatcher, pushSignature } from '../../src/screens/push-dispatcher.js';
import { hashScreenToken } from '../../src/screens/screens.service.js';
import type { ApiServices } from '../../src/services/index.js';
import { ScreenRepository } from '../../src/store/screen.repository.js';
import { campaignYaml } from '../factories.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { startScreenServices, type ScreenServicesFixture } from '../helpers/screens.js';

const DAYTIME = new Date('2026-11-26T03:00:00Z');

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe(PushDispatcher.name, () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  let screens: ScreenServicesFixture;
  let services: ApiServices;
  let sut: PushDispatcher;

  beforeAll(async () => {
    database = await createTestDatabase();
    screens = await startScreenServices(database.store, prefix, { clock: () => DAYTIME });
    services = screens.services;
    sut = new PushDispatcher(
      { screens: new ScreenRepository(database.store.db), playlists: services.screens!.playlists, changes: services.screens!.changes, redis: screens.redis },
      { leasePrefix: prefix, minBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2000 },
    );
    sut.start();
  });

  afterAll(async () => {
    await sut.stop();
    await screens.stop();
    await database.drop();
  });

  async function launch(id: string, text: string): Promise<void> {
    await services.campaigns.put(id, { text: campaignYaml({ id, priority: 'urgent', screens: [{ targets: { ids: ['san-bay-vca'] }, text: { vi: text }, duration: 10 }] }) }, 'test');
    await services.launches.launch({ campaignId: id }, 'test');
  }

  it('delivers to a controller that was down once it is back: signed, the latest version only, acknowledged', async () => {
    // Find a free port, then leave it closed: the controller is down.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    const { token } = await services.screens!.registry.add({ id: 'san-bay-vca', name: 'Sân bay Cần Thơ', kind: 'airport-board', pushUrl: `http://127.0.0.1:${port}/loa` }, 'test');
    await launch('bao-1', 'Cảnh báo thứ nhất');
    await launch('bao-2', 'Cảnh báo thứ hai');
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few refused attempts
    const latest = (await services.screens!.playlists.playlist('san-bay-vca'))!;

    const received: Received[] = [];
    const controller: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => controller.listen(port, '127.0.0.1', resolve));
    try {
      await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Nothing older than the latest version was sent, once the controller answered.
      expect(received.map((push) => push.headers['x-loa-version'])).toEqual([latest.version]);
      const [push] = received;
      const body = JSON.parse(push!.body) as { version: string; items: Array<{ texts: { vi: string } }> };
      expect(body.version).toBe(latest.version);
      expect(body.items.map((item) => item.texts.vi).sort()).toEqual(['Cảnh báo thứ hai', 'Cảnh báo thứ nhất']);
      expect(push!.headers['x-loa-signature']).toBe(pushSignature(hashScreenToken(token), String(push!.headers['x-loa-timestamp']), push!.body));
      const screen = await database.store.db.selectFrom('screens').select(['version', 'pushed_version']).where('id', '=', 'san-bay-vca').executeTakeFirstOrThrow();
      expect(screen.pushed_version).toBe(screen.version);
    } finally {
      await new Promise((resolve) => controller.close(resolve));
    }
  }, 30_000);
});
