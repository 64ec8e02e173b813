import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaylistChanges } from '../../src/screens/playlist-changes.js';
import { PushDispatcher, pushSignature } from '../../src/screens/push-dispatcher.js';
import { hashScreenToken } from '../../src/screens/screens.service.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { ScreenRepository } from '../../src/store/screen.repository.js';
import { campaignYaml } from '../factories.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DAYTIME = new Date('2026-11-26T03:00:00Z');

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe(PushDispatcher.name, () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  const connections: Redis[] = [];
  let services: ApiServices;
  let sut: PushDispatcher;

  beforeAll(async () => {
    database = await createTestDatabase();
    connections.push(new Redis(REDIS_URL), new Redis(REDIS_URL));
    const changes = new PlaylistChanges(connections[0]!, connections[1]!, `${prefix}:screens:changed`);
    await changes.start();
    const store = database.store;
    services = createApiServices(
      store,
      {
        launcher: { enqueueCompile: async () => undefined },
        statusReader: { get: async () => undefined },
      },
      { clock: () => DAYTIME, playlistChanges: changes },
    );
    sut = new PushDispatcher(
      { screens: new ScreenRepository(store.db), playlists: services.screens!.playlists, changes, redis: connections[0]! },
      { leasePrefix: prefix, minBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2000 },
    );
    sut.start();
  });

  afterAll(async () => {
    await sut.stop();
    await services.screens!.changes.stop();
    for (const connection of connections) connection.disconnect();
    const cleaner = new Redis(REDIS_URL);
    await cleanupRedisPrefix(cleaner, prefix);
    cleaner.disconnect();
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
