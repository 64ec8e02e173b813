import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoudspeakerSchedule } from '../../src/loudspeakers/loudspeaker-adapter.js';
import { PushDispatcher, pushSignature } from '../../src/screens/push-dispatcher.js';
import { hashScreenToken } from '../../src/screens/screens.service.js';
import type { ApiServices } from '../../src/services/index.js';
import { ScreenRepository } from '../../src/store/screen.repository.js';
import { campaignYaml } from '../factories.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { startScreenServices, type ScreenServicesFixture } from '../helpers/screens.js';

const DAYTIME = new Date('2026-11-26T03:00:00Z');

describe('loudspeaker pushes', () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  let screens: ScreenServicesFixture;
  let services: ApiServices;
  let sut: PushDispatcher;
  let controller: Server;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    screens = await startScreenServices(database.store, prefix, { clock: () => DAYTIME });
    services = screens.services;
    sut = new PushDispatcher(
      { screens: new ScreenRepository(database.store.db), playlists: services.screens!.playlists, changes: services.screens!.changes, redis: screens.redis, loudspeakers: services.screens!.loudspeakers },
      { leasePrefix: prefix, minBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2000 },
    );
    sut.start();
    controller = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => controller.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await sut.stop();
    await new Promise((resolve) => controller.close(resolve));
    await screens.stop();
    await database.drop();
  });

  it('POSTs a 4G controller its timed schedule, signed, when an urgent broadcast is launched', async () => {
    const port = (controller.address() as AddressInfo).port;
    const { token } = await services.screens!.loudspeakers.add({ id: 'thoi-lai', name: 'Loa IP xã Thới Lai', commune: '31150', airtime: [{ from: '17:00', to: '18:00' }], pushUrl: `http://127.0.0.1:${port}/loa` }, 'test');
    // The newly registered controller gets its (empty) schedule first.
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
    await services.campaigns.put('thoi-lai-lu', { text: campaignYaml({ id: 'thoi-lai-lu', priority: 'urgent', loudspeakers: [{ targets: { ids: ['thoi-lai'] }, text: 'Khẩn cấp: nước lũ đang lên.', repetitions: 2 }] }) }, 'test');
    await services.launches.launch({ campaignId: 'thoi-lai-lu' }, 'test');
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(2);
    const push = received[1]!;
    const schedule = JSON.parse(push.body) as LoudspeakerSchedule;
    expect(schedule.urgent).toBe(true);
    // At once, then the second of the day in the 17:00–18:00 airtime (10:00–11:00 UTC).
    const today = schedule.slots.filter((slot) => Date.parse(slot.start) < Date.parse('2026-11-26T17:00:00Z'));
    expect(today.map((slot) => slot.priority)).toEqual(['urgent', 'urgent']);
    expect(today[0]!.start).toBe(DAYTIME.toISOString());
    expect(today[1]!.start >= '2026-11-26T10:00:00.000Z' && today[1]!.start < '2026-11-26T11:00:00.000Z').toBe(true);
    expect(push.headers['x-loa-screen']).toBe('thoi-lai');
    expect(push.headers['x-loa-version']).toBe(schedule.version);
    expect(push.headers['x-loa-signature']).toBe(pushSignature(hashScreenToken(token), String(push.headers['x-loa-timestamp']), push.body));
    await expect.poll(async () => (await services.screens!.loudspeakers.get('thoi-lai')).pushedVersion).toBe(Number(schedule.version.split('.')[0]));
  });
});
