import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { simulatorCarriers } from '../../src/config.js';
import { wallTimeOf } from '../../src/domain/time-zone.js';
import { decodeOpus, levelsOf, withScratch } from '../../src/loudspeakers/audio-tools.js';
import { createRunStatusReader } from '../../src/jobs/engine.js';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import type { LoudspeakerSchedule } from '../../src/loudspeakers/loudspeaker-adapter.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { PlaylistChanges } from '../../src/screens/playlist-changes.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { campaignYaml } from '../factories.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** 10:00 in Asia/Ho_Chi_Minh: outside quiet hours. */
const DAYTIME = new Date('2026-11-26T03:00:00Z');
const NOTICE =
  'Ủy ban nhân dân xã An Bình thông báo: để phòng, chống dịch bệnh, người dân hạn chế đến nơi đông người, đeo khẩu trang khi ra ngoài và báo ngay cho trạm y tế xã khi có triệu chứng sốt, ho, khó thở.';
const AIRTIME = [
  { from: '05:30', to: '06:30' },
  { from: '11:00', to: '12:00' },
  { from: '17:00', to: '18:30' },
];
/** Pupils' online lessons and the night. */
const BLACKOUT = [
  { from: '11:30', to: '13:30' },
  { from: '21:00', to: '05:00' },
];

const localMinute = (iso: string) => {
  const wall = wallTimeOf(new Date(iso), 'Asia/Ho_Chi_Minh');
  return wall.hour * 60 + wall.minute + wall.second / 60;
};
const minute = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3));
const within = (from: number, to: number, window: { from: string; to: string }) => {
  const [a, b] = [minute(window.from), minute(window.to)];
  return a < b ? from >= a && to <= b : from >= a || to <= b;
};
const touches = (from: number, to: number, window: { from: string; to: string }) => {
  const [a, b] = [minute(window.from), minute(window.to)];
  return a < b ? from < b && to > a : from < b || to > a;
};

describe('loudspeakers API', () => {
  let database: TestDatabase;
  const prefix = testRedisPrefix();
  let now = DAYTIME;
  let app: FastifyInstance;
  let services: ApiServices;
  const connections: Redis[] = [];
  let adminKey = '';
  const tokens: Record<string, string> = {};

  const admin = () => ({ authorization: `Bearer ${adminKey}` });
  const speakerAuth = (id: string) => ({ authorization: `Bearer ${tokens[id]}` });

  async function addLoudspeaker(body: Record<string, unknown>): Promise<void> {
    const response = await app.inject({ method: 'POST', url: '/v1/loudspeakers', headers: admin(), payload: body });
    expect(response.statusCode, response.body).toBe(201);
    tokens[String(body.id)] = response.json<{ token: string }>().token;
  }

  async function put(id: string, overrides: Record<string, unknown>): Promise<void> {
    const saved = await app.inject({ method: 'PUT', url: `/v1/campaigns/${id}`, headers: { ...admin(), 'content-type': 'application/yaml' }, payload: campaignYaml({ id, ...overrides }) });
    expect(saved.statusCode, saved.body).toBeLessThan(300);
  }

  async function launch(id: string, overrides: Record<string, unknown>): Promise<number> {
    await put(id, overrides);
    const launched = await app.inject({ method: 'POST', url: `/v1/campaigns/${id}/launch`, headers: admin() });
    expect(launched.statusCode, launched.body).toBeLessThan(300);
    return launched.json<{ run: { id: number } }>().run.id;
  }

  async function schedule(id: string, query = ''): Promise<LoudspeakerSchedule> {
    const response = await app.inject({ method: 'GET', url: `/v1/loudspeakers/${id}/playlist${query}`, headers: speakerAuth(id) });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<LoudspeakerSchedule>();
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    const publisher = new Redis(REDIS_URL);
    const subscriber = new Redis(REDIS_URL);
    connections.push(publisher, subscriber);
    const changes = new PlaylistChanges(publisher, subscriber, `${prefix}:screens:changed`);
    await changes.start();
    services = createApiServices(
      database.store,
      { launcher: { enqueueCompile: async () => undefined }, statusReader: createRunStatusReader(database.store, { carriers: simulatorCarriers(2775) }) },
      { clock: () => now, playlistChanges: changes },
    );
    app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
    await app.ready();
    adminKey = (await services.apiKeys.create({ role: 'admin', name: 'test-admin' }, 'test')).token;
    await addLoudspeaker({ id: 'an-binh-ap-1', name: 'Loa ấp 1, xã An Bình', province: '92', commune: '31117', hamlet: 'ap-1', airtime: AIRTIME, blackout: BLACKOUT });
    await addLoudspeaker({ id: 'an-binh-ap-2', name: 'Loa ấp 2, xã An Bình', province: '92', commune: '31117', hamlet: 'ap-2', airtime: AIRTIME, blackout: BLACKOUT });
    await addLoudspeaker({ id: 'long-tuyen', name: 'Loa phường Long Tuyền', province: '92', commune: '31120', airtime: [{ from: '17:00', to: '18:00' }] });
    await addLoudspeaker({ id: 'tan-loc', name: 'Loa xã Tân Lộc', province: '93', commune: '31125', airtime: [{ from: '17:00', to: '17:01' }] });
    const screen = await services.screens!.registry.add({ id: 'cho-an-binh', name: 'Chợ An Bình', kind: 'led', province: '92', commune: '31117' }, 'test');
    tokens['cho-an-binh'] = screen.token;
  });

  afterAll(async () => {
    await app?.close();
    await services?.screens?.changes.stop();
    for (const connection of connections) connection.disconnect();
    const cleaner = new Redis(REDIS_URL);
    await cleanupRedisPrefix(cleaner, prefix);
    cleaner.disconnect();
    await database?.drop();
  });

  beforeEach(() => {
    now = DAYTIME;
  });

  describe('speech', () => {
    it('renders a Vietnamese notice as Ogg Opus of plausible length, once, served from PostgreSQL', async () => {
      const first = await app.inject({ method: 'POST', url: '/v1/loudspeakers/speech', headers: admin(), payload: { text: NOTICE } });
      expect(first.statusCode, first.body).toBe(200);
      const clip = first.json<{ hash: string; durationMs: number; cached: boolean }>();
      const words = NOTICE.split(/\s+/).length;
      // Read at 150 words a minute with pauses: between 1.5 and 4 words a second.
      expect(clip.durationMs / 1000).toBeGreaterThan(words / 4);
      expect(clip.durationMs / 1000).toBeLessThan(words / 1.5);
      expect(clip.cached).toBe(false);
      const again = await app.inject({ method: 'POST', url: '/v1/loudspeakers/speech', headers: admin(), payload: { text: `  ${NOTICE.normalize('NFD')} ` } });
      expect(again.json()).toEqual({ ...clip, cached: true });
      const audio = await app.inject({ method: 'GET', url: `/v1/loudspeakers/audio/${clip.hash}`, headers: admin() });
      expect(audio.statusCode).toBe(200);
      expect(audio.headers['content-type']).toContain('audio/ogg');
      expect(audio.rawPayload.subarray(0, 4).toString('latin1')).toBe('OggS');
      expect(audio.rawPayload.subarray(0, 100).toString('latin1')).toContain('OpusHead');
      // Speech at 24 kbit/s: a few kB a second, never an empty file.
      expect(audio.rawPayload.length).toBeGreaterThan((clip.durationMs / 1000) * 1500);
    });

    it('refuses a text that renders as silence, naming the field', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/loudspeakers/speech', headers: admin(), payload: { text: '… — …' } });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json<{ message: string }>().message).toMatch(/silence/);
    });

    it('checks uploads: refuses what is not audio or is silent, normalises the loudness of a recording', async () => {
      const notAudio = await app.inject({ method: 'POST', url: '/v1/loudspeakers/audio', headers: { ...admin(), 'content-type': 'application/octet-stream' }, payload: Buffer.from('ID3 not really an mp3') });
      expect(notAudio.statusCode, notAudio.body).toBe(400);
      expect(notAudio.json<{ message: string }>().message).toMatch(/WAV/);
      const broken = wav(3, 0.5).subarray(0, 60);
      broken.writeUInt32LE(10_000_000, 40); // says it holds far more than it does
      const truncated = await app.inject({ method: 'POST', url: '/v1/loudspeakers/audio', headers: { ...admin(), 'content-type': 'audio/wav' }, payload: broken });
      expect(truncated.statusCode, truncated.body).toBe(400);
      const silent = await app.inject({ method: 'POST', url: '/v1/loudspeakers/audio', headers: { ...admin(), 'content-type': 'audio/wav' }, payload: wav(3, 0) });
      expect(silent.statusCode, silent.body).toBe(400);
      expect(silent.json<{ message: string }>().message).toMatch(/silent/);
      const quiet = await app.inject({ method: 'POST', url: '/v1/loudspeakers/audio', headers: { ...admin(), 'content-type': 'audio/wav' }, payload: wav(3, 0.01) });
      expect(quiet.statusCode, quiet.body).toBe(201);
      const clip = quiet.json<{ hash: string; durationMs: number }>();
      expect(clip.durationMs).toBeGreaterThan(2900);
      expect(clip.durationMs).toBeLessThan(3200);
      // Normalised: the quiet tone (−43 dBFS RMS) comes back near the −18 dBFS target, decoded from the stored Opus.
      const stored = await app.inject({ method: 'GET', url: `/v1/loudspeakers/audio/${clip.hash}`, headers: admin() });
      expect(await rmsDbOfOpus(stored.rawPayload)).toBeGreaterThan(-21);
      // Bodies past fastify's 1 MB default are taken (a minute of WAV is 2.6 MB).
      const minute = await app.inject({ method: 'POST', url: '/v1/loudspeakers/audio', headers: { ...admin(), 'content-type': 'audio/wav' }, payload: wav(60, 0.3) });
      expect(minute.statusCode, minute.body).toBe(201);
      expect(minute.json<{ durationMs: number }>().durationMs).toBeGreaterThan(59_000);
    });
  });

  describe('scheduling', () => {
    it('places each daily broadcast only in airtime windows, never in blackout, spread over the windows', async () => {
      const runId = await launch('an-binh-daily', { loudspeakers: [{ targets: { areas: { commune: ['31117'] } }, text: NOTICE, repetitions: 2 }] });
      for (const id of ['an-binh-ap-1', 'an-binh-ap-2']) {
        const sut = await schedule(id);
        const mine = sut.slots.filter((slot) => slot.runId === runId);
        // Launched at 10:00 for 24 hours: today 11:00–11:30 and 17:00–18:30, tomorrow 05:30–06:30 (and not after 10:00).
        expect(mine.length).toBe(4);
        for (const slot of mine) {
          const from = localMinute(slot.start);
          const to = from + slot.duration / 60;
          expect(AIRTIME.some((window) => within(from, to, window)), slot.start).toBe(true);
          expect(BLACKOUT.some((window) => touches(from, to, window)), slot.start).toBe(false);
          expect(slot.audio).toBe(`/v1/loudspeakers/${id}/audio/${slot.hash}`);
        }
        const days = new Set(mine.map((slot) => wallTimeOf(new Date(slot.start), 'Asia/Ho_Chi_Minh').day));
        expect(days.size).toBe(2);
        expect(sut.deadline).not.toBeNull();
        const clip = await app.inject({ method: 'GET', url: mine[0]!.audio, headers: speakerAuth(id) });
        expect(clip.statusCode).toBe(200);
        expect(clip.rawPayload.subarray(0, 4).toString('latin1')).toBe('OggS');
      }
      // Another commune's loudspeaker and the LED screen in the same commune get nothing of it.
      expect((await schedule('long-tuyen')).slots.filter((slot) => slot.runId === runId)).toEqual([]);
      const screen = await app.inject({ method: 'GET', url: '/v1/screens/cho-an-binh/playlist', headers: speakerAuth('cho-an-binh') });
      expect(screen.json<{ items: Array<{ runId: number }> }>().items.filter((item) => item.runId === runId)).toEqual([]);
    });

    it('refuses at launch an item that cannot fit the airtime of a loudspeaker it targets, naming it', async () => {
      // Tân Lộc airs one minute a day: five broadcasts of this notice (about 20 s each) do not fit in it.
      await put('long-tuyen-too-much', { loudspeakers: [{ targets: { areas: { commune: ['31120', '31125'] } }, text: NOTICE, repetitions: 5 }] });
      const refused = await app.inject({ method: 'POST', url: '/v1/campaigns/long-tuyen-too-much/launch', headers: admin() });
      expect(refused.statusCode, refused.body).toBe(400);
      const body = refused.json<{ message: string; details: Array<{ path: string; message: string }> }>();
      expect(body.details[0]!.path).toBe('loudspeakers[0]');
      expect(body.details[0]!.message).toContain('tan-loc');
      expect(body.details[0]!.message).not.toContain('long-tuyen');
      const runs = await database.store.db.selectFrom('runs').select('id').execute();
      const items = await database.store.db.selectFrom('playlist_items').select('id').where('campaign_id', '=', 'long-tuyen-too-much').execute();
      expect(items).toEqual([]);
      expect(runs.length).toBeGreaterThan(0);
    });

    it('answers a held long-poll with an urgent broadcast at once, preempting, whatever the window', async () => {
      // 22:00: blackout (night) — an urgent broadcast plays anyway.
      now = new Date('2026-11-26T15:00:00Z');
      const before = await schedule('long-tuyen');
      const held = app.inject({ method: 'GET', url: '/v1/loudspeakers/long-tuyen/playlist?wait=20', headers: { ...speakerAuth('long-tuyen'), 'if-none-match': `"${before.version}"` } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      const runId = await launch('lu-khan-cap', { priority: 'urgent', validity: 'P2D', loudspeakers: [{ targets: { ids: ['long-tuyen'] }, text: 'Khẩn cấp: nước lũ đang lên, người dân di chuyển lên chỗ cao ngay.', repetitions: 3 }] });
      const answer = await held;
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(answer.statusCode).toBe(200);
      const sut = answer.json<LoudspeakerSchedule>();
      expect(sut.urgent).toBe(true);
      const urgent = sut.slots.filter((slot) => slot.runId === runId);
      expect(urgent.every((slot) => slot.priority === 'urgent')).toBe(true);
      // Tonight: no airtime left, so the three plays follow one another from now.
      const midnight = new Date('2026-11-26T17:00:00Z').getTime();
      const tonight = urgent.filter((slot) => Date.parse(slot.start) < midnight);
      expect(tonight).toHaveLength(3);
      expect(Date.parse(tonight[0]!.start)).toBe(now.getTime());
      expect(Date.parse(tonight[2]!.start) - now.getTime()).toBeLessThan(5 * 60_000);
      // Tomorrow, still valid: three again, in the 17:00–18:00 airtime.
      const tomorrow = urgent.filter((slot) => Date.parse(slot.start) >= midnight);
      expect(tomorrow).toHaveLength(3);
      for (const slot of tomorrow) expect(within(localMinute(slot.start), localMinute(slot.start) + slot.duration / 60, { from: '17:00', to: '18:00' })).toBe(true);

      // The clock moved on to the next afternoon: the player is told the same three plays of that day, spread in its window.
      now = new Date('2026-11-27T09:00:00Z');
      const nextDay = (await schedule('long-tuyen')).slots.filter((slot) => slot.runId === runId && Date.parse(slot.start) < midnight + 86_400_000);
      expect(nextDay.map((slot) => slot.start)).toEqual(tomorrow.map((slot) => slot.start));
      const starts = nextDay.map((slot) => Date.parse(slot.start));
      expect(starts[1]! - starts[0]!).toBeGreaterThan(nextDay[0]!.duration * 1000 + 10_000);
    });
  });

  describe('run control', () => {
    it('an operator’s cancel takes the run’s broadcasts off the loudspeakers at once, waking the long-poll', async () => {
      const runId = await launch('an-binh-cancel', { loudspeakers: [{ targets: { ids: ['an-binh-ap-2'] }, text: 'Thông báo sẽ bị hủy.', repetitions: 1 }] });
      const before = await schedule('an-binh-ap-2');
      expect(before.slots.some((slot) => slot.runId === runId)).toBe(true);
      const held = app.inject({ method: 'GET', url: '/v1/loudspeakers/an-binh-ap-2/playlist?wait=20', headers: { ...speakerAuth('an-binh-ap-2'), 'if-none-match': `"${before.version}"` } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const cancelled = await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel`, headers: admin() });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      const after = (await held).json<LoudspeakerSchedule>();
      expect(after.version).not.toBe(before.version);
      expect(after.slots.some((slot) => slot.runId === runId)).toBe(false);
    });
  });

  describe('token isolation', () => {
    it('a loudspeaker token reads only its own loudspeaker; a screen token and an API key read none', async () => {
      const cases = [
        { url: '/v1/loudspeakers/an-binh-ap-2/playlist', headers: speakerAuth('an-binh-ap-1') },
        { url: '/v1/loudspeakers/an-binh-ap-1/playlist', headers: speakerAuth('cho-an-binh') },
        { url: '/v1/loudspeakers/an-binh-ap-1/playlist', headers: admin() },
        { url: '/v1/loudspeakers/an-binh-ap-1/playlist', headers: {} },
        { url: '/v1/loudspeakers/an-binh-ap-1/player?token=wrong', headers: {} },
        { url: '/v1/loudspeakers', headers: speakerAuth('an-binh-ap-1') },
        { url: '/v1/loudspeakers/an-binh-ap-1', headers: speakerAuth('an-binh-ap-1') },
        { url: `/v1/loudspeakers/audio/${'0'.repeat(64)}`, headers: speakerAuth('an-binh-ap-1') },
      ];
      for (const request of cases) {
        const response = await app.inject({ method: 'GET', ...request });
        expect(response.statusCode, request.url).toBe(401);
        expect(response.body).not.toContain('An Bình');
      }
      const plays = await app.inject({ method: 'POST', url: '/v1/loudspeakers/an-binh-ap-2/plays', headers: speakerAuth('an-binh-ap-1'), payload: { plays: [] } });
      expect(plays.statusCode).toBe(401);
      // A clip of another loudspeaker's schedule is not served to this one.
      const theirs = (await schedule('long-tuyen')).slots[0]!;
      const mineOnly = await app.inject({ method: 'GET', url: `/v1/loudspeakers/an-binh-ap-1/audio/${theirs.hash}`, headers: speakerAuth('an-binh-ap-1') });
      expect(mineOnly.statusCode).toBe(404);
    });
  });

  describe('proof of broadcast', () => {
    it('run status gives broadcasts and minutes per commune equal to the sum of reported plays', async () => {
      now = DAYTIME;
      const runId = await launch('an-binh-proof', { loudspeakers: [{ targets: { areas: { province: ['92'] } }, text: 'Thông báo lịch tiêm chủng tại trạm y tế.', repetitions: 1 }] });
      now = new Date('2026-11-26T11:00:00Z'); // 18:00, after the evening window
      const reported: Record<string, number> = {};
      for (const [id, seconds] of [
        ['an-binh-ap-1', [30, 45]],
        ['an-binh-ap-2', [60]],
        ['long-tuyen', [90]],
      ] as const) {
        const slot = (await schedule(id)).slots.find((candidate) => candidate.runId === runId)!;
        const plays = seconds.map((length, index) => {
          const from = Date.parse('2026-11-26T10:05:00Z') + index * 120_000;
          return { item: slot.item, from: new Date(from).toISOString(), to: new Date(from + length * 1000).toISOString() };
        });
        const response = await app.inject({ method: 'POST', url: `/v1/loudspeakers/${id}/plays`, headers: speakerAuth(id), payload: { plays: [...plays, plays[0], { item: slot.item, from: 'yesterday', to: plays[0]!.to }] } });
        expect(response.json()).toEqual({ accepted: plays.length, duplicates: 1, rejected: [{ index: plays.length + 1, reason: 'bad_time' }] });
        const commune = id === 'long-tuyen' ? '31120' : '31117';
        reported[commune] = (reported[commune] ?? 0) + seconds.reduce((a: number, b: number) => a + b, 0) / 60;
      }
      const status = await app.inject({ method: 'GET', url: `/v1/runs/${runId}`, headers: admin() });
      expect(status.statusCode, status.body).toBe(200);
      const loudspeakers = status.json<RunStatus>().loudspeakers!;
      expect(loudspeakers.byCommune.map((row) => [row.commune, row.broadcasts, Number(row.minutes.toFixed(6))])).toEqual([
        ['31117', 3, Number(reported['31117']!.toFixed(6))],
        ['31120', 1, Number(reported['31120']!.toFixed(6))],
      ]);
      expect(loudspeakers.broadcasts).toBe(4);
      expect(loudspeakers.minutes).toBeCloseTo(reported['31117']! + reported['31120']!, 6);
      // Loudspeaker broadcasts are not counted again as screen plays.
      expect(status.json<RunStatus>().screens.plays).toBe(0);
    });
  });
});

/** RMS level (dBFS) of an Ogg Opus clip, decoded with opusdec and measured with sox. */
async function rmsDbOfOpus(bytes: Buffer): Promise<number> {
  return withScratch(async (dir) => {
    await writeFile(join(dir, 'clip.opus'), bytes);
    await decodeOpus(join(dir, 'clip.opus'), join(dir, 'clip.wav'));
    return (await levelsOf(join(dir, 'clip.wav'))).rmsDb;
  });
}

/** A mono 16-bit 22.05 kHz WAV of `seconds` of a 440 Hz tone at `amplitude` (0–1). */
function wav(seconds: number, amplitude: number): Buffer {
  const rate = 22_050;
  const samples = Math.round(seconds * rate);
  const buffer = Buffer.alloc(44 + samples * 2);
  buffer.write('RIFF', 0, 'latin1');
  buffer.writeUInt32LE(36 + samples * 2, 4);
  buffer.write('WAVEfmt ', 8, 'latin1');
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20);
  buffer.writeUInt16LE(1, 22);
  buffer.writeUInt32LE(rate, 24);
  buffer.writeUInt32LE(rate * 2, 28);
  buffer.writeUInt16LE(2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36, 'latin1');
  buffer.writeUInt32LE(samples * 2, 40);
  for (let index = 0; index < samples; index += 1) buffer.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * index) / rate) * amplitude * 32_767), 44 + index * 2);
  return buffer;
}
