import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, validateCampaign } from '../../src/domain/campaign.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { createRedis } from '../../src/jobs/redis.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { RunControlService } from '../../src/services/run-control.service.js';
import { AuditRepository, CampaignRepository, RunControlRepository, RunRepository, ScheduleRepository } from '../../src/store/index.js';
import { campaignDocument } from '../factories.js';
import { createTestDatabase, testRedisPrefix, cleanupRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/engine.js';
import { startScreenServices, type ScreenServicesFixture } from '../helpers/screens.js';
import { testLogger } from '../helpers/smpp.js';

/** An instant given as Vietnam wall-clock time (UTC+7). */
const vn = (local: string): Date => new Date(`${local}+07:00`);

/**
 * Issue 11, the scheduler's runs: an occurrence of a recurring campaign puts its `screens:` and
 * `loudspeakers:` items on the devices as a manual launch does, once per run, and an operator's
 * pause takes them off again.
 */
describe('scheduled occurrences on screens and loudspeakers', () => {
  let database: TestDatabase;
  let fixture: ScreenServicesFixture;
  const prefix = testRedisPrefix();
  const redis = createRedis(REDIS_URL, 'loa-test-loud-scheduled');
  let queues: JobQueues;
  let now = vn('2026-11-26T07:00:10');

  beforeAll(async () => {
    database = await createTestDatabase();
    queues = new JobQueues(redis, prefix);
    fixture = await startScreenServices(database.store, prefix, { clock: () => now });
    const screens = fixture.services.screens!;
    await screens.registry.add({ id: 'cho-an-binh', name: 'Chợ An Bình', kind: 'led', province: '92', commune: '31117' }, 'test');
    await screens.loudspeakers.add({ id: 'an-binh-ap-1', name: 'Loa ấp 1', province: '92', commune: '31117', airtime: [{ from: '05:30', to: '06:30' }, { from: '17:00', to: '18:30' }] }, 'test');
  });

  afterAll(async () => {
    await queues?.close();
    await cleanupRedisPrefix(redis, prefix);
    redis.disconnect();
    await fixture?.stop();
    await database?.drop();
  });

  function scheduler(): Scheduler {
    const runs = new RunRepository(database.store.db);
    const audit = new AuditRepository(database.store.db);
    const controlStore = new RunControlRepository(database.store.db);
    const control = new RunControlService({ runs, control: controlStore, audit, resumer: queues, clock: () => now, logger: testLogger });
    return new Scheduler(
      { schedule: new ScheduleRepository(database.store.db), runs, control, controlStore, audit, launcher: queues, clock: () => now, logger: testLogger, broadcasts: fixture.services.screens!.broadcasts },
      { lookbackMs: 6 * 3_600_000, leaseMs: 10_000, leaseName: `${prefix}:lease` },
    );
  }

  /** A daily campaign at `time` with one screens item and one loudspeakers item (`speech`: its text or recording). */
  async function saveDaily(id = 'ban-tin-sang', time = '07:00', speech: Record<string, unknown> = { text: 'Bản tin sáng của xã An Bình: người dân đeo khẩu trang nơi công cộng.' }): Promise<number> {
    const campaigns = new CampaignRepository(database.store.db);
    const campaign = validateCampaign(
      campaignDocument({
        id,
        schedule: { start: `2026-11-01T${time}`, rrule: 'FREQ=DAILY' },
        validity: 'PT12H',
        screens: [{ targets: { areas: { province: ['92'] }, kinds: ['led'] }, text: { vi: 'Bản tin sáng: đeo khẩu trang nơi công cộng' }, duration: 10 }],
        loudspeakers: [{ targets: { areas: { commune: ['31117'] } }, ...speech, repetitions: 2 }],
      }),
    );
    await campaigns.upsert({ id: campaign.id, name: campaign.name });
    await database.store.db.updateTable('campaigns').set({ created_at: new Date('2026-01-01T00:00:00Z') } as never).where('id', '=', campaign.id).execute();
    return (await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'test' })).version.id;
  }

  const itemsOf = (runId: number) =>
    database.store.db.selectFrom('playlist_items').select(['entry', 'audio_hash', 'valid_from', 'valid_to', 'withdrawn_at']).where('run_id', '=', runId).orderBy('entry').execute();

  it('places an occurrence’s screen and loudspeaker items once, on the devices they target, and a pause withdraws them', async () => {
    await saveDaily();
    const sut = scheduler();
    const first = await sut.tick();
    expect(first.launched).toHaveLength(1);
    const runId = first.launched[0]!;
    const items = await itemsOf(runId);
    expect(items.map((item) => item.entry)).toEqual([0, 1000]);
    expect(items[0]!.audio_hash).toBeNull();
    expect(items[1]!.audio_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(items.every((item) => item.valid_from.getTime() === vn('2026-11-26T07:00').getTime() && item.valid_to.getTime() === vn('2026-11-26T19:00').getTime())).toBe(true);

    // The devices see them: the screen's playlist, and the loudspeaker's two slots in its 17:00 window.
    const screen = await fixture.services.screens!.playlists.device('cho-an-binh');
    expect(screen!.stored.map((item) => item.run_id)).toEqual([runId]);
    const schedule = await fixture.services.screens!.loudspeakers.schedule('an-binh-ap-1');
    expect(schedule!.slots.filter((slot) => slot.runId === runId)).toHaveLength(2);

    // Ticking again (the run now compiling, or still scheduled and due) adds nothing.
    now = vn('2026-11-26T07:01:00');
    const second = await sut.tick();
    expect(second.launched).toEqual([]);
    await database.store.db.updateTable('runs').set({ state: 'scheduled' }).where('id', '=', runId).execute();
    const third = await sut.tick();
    expect(third.enqueued).toContain(runId);
    expect(await itemsOf(runId)).toEqual(items);

    // An operator's pause (the API's run control) takes them off; the scheduler does not put them back.
    await database.store.db.updateTable('runs').set({ state: 'running' }).where('id', '=', runId).execute();
    await fixture.services.runControl.pause(runId, 'test-operator');
    expect((await itemsOf(runId)).every((item) => item.withdrawn_at !== null)).toBe(true);
    await sut.tick();
    expect((await itemsOf(runId)).every((item) => item.withdrawn_at !== null)).toBe(true);

    // The next day's occurrence is a run of its own, with its own items.
    now = vn('2026-11-27T07:00:05');
    const nextDay = await sut.tick();
    expect(nextDay.launched).toHaveLength(1);
    expect((await itemsOf(nextDay.launched[0]!)).map((item) => item.entry)).toEqual([0, 1000]);
    await sut.stop();
  });

  it('places the items of a run a leader launched but died before placing, when the next leader finds it due', async () => {
    now = vn('2026-11-28T08:00:05');
    const versionId = await saveDaily('ban-tin-8h', '08:00');
    const schedule = new ScheduleRepository(database.store.db);
    const dead = (await schedule.acquire(`${prefix}:dead`, 'dead-leader', now, 10_000))!;
    const launched = await schedule.launch(dead, {
      campaignId: 'ban-tin-8h',
      campaignVersionId: versionId,
      occurrenceId: 'ban-tin-8h@2026-11-28T01:00:00.000Z',
      nominal: vn('2026-11-28T08:00'),
      scheduledFor: vn('2026-11-28T08:00'),
      expiresAt: vn('2026-11-28T20:00'),
      priority: 'normal',
    });
    if (typeof launched !== 'object') throw new Error(`launch: ${launched}`);
    expect(await itemsOf(launched.runId)).toEqual([]);

    const sut = scheduler();
    const result = await sut.tick();
    expect(result.launched).not.toContain(launched.runId);
    expect(result.enqueued).toContain(launched.runId);
    expect((await itemsOf(launched.runId)).map((item) => item.entry)).toEqual([0, 1000]);
    await sut.stop();
  });

  it('still sends the SMS of an occurrence whose loudspeaker recording is gone, and audits why it is not broadcast', async () => {
    now = vn('2026-11-28T09:00:05');
    await saveDaily('ban-tin-9h', '09:00', { audio: 'f'.repeat(64) });
    const sut = scheduler();
    const result = await sut.tick();
    expect(result.launched).toHaveLength(1);
    const runId = result.launched[0]!;
    expect(result.enqueued).toContain(runId);
    // The screens item is placed first; the loudspeaker one cannot be.
    expect((await itemsOf(runId)).map((item) => item.entry)).toEqual([0]);
    const audit = await new AuditRepository(database.store.db).listForSubject(`run:${runId}`);
    expect(audit.map((entry) => [entry.actor, entry.action])).toEqual([['scheduler', 'run.broadcast-failed']]);
    expect(JSON.stringify(audit[0]!.details)).toContain('loudspeakers[0].audio');
    await sut.stop();
  });
});
