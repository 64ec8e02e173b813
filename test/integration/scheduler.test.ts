import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, validateCampaign } from '../../src/domain/campaign.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { Scheduler, type SchedulerOptions } from '../../src/jobs/scheduler.js';
import { createRedis } from '../../src/jobs/redis.js';
import { RunControlService } from '../../src/services/run-control.service.js';
import { AuditRepository, CampaignRepository, RunControlRepository, RunRepository, ScheduleRepository } from '../../src/store/index.js';
import { campaignDocument } from '../factories.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/engine.js';
import { testLogger } from '../helpers/smpp.js';

/** An instant given as Vietnam wall-clock time (UTC+7, no daylight saving). */
const vn = (local: string): Date => new Date(`${local}+07:00`);

describe(Scheduler.name, () => {
  let database: TestDatabase;
  const redis = createRedis(REDIS_URL, 'loa-test-scheduler');
  const prefix = testRedisPrefix();
  let queues: JobQueues;
  let campaigns: CampaignRepository;
  let runs: RunRepository;
  let schedule: ScheduleRepository;
  let lease = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    queues = new JobQueues(redis, prefix);
    campaigns = new CampaignRepository(database.store.db);
    runs = new RunRepository(database.store.db);
    schedule = new ScheduleRepository(database.store.db);
  });

  afterAll(async () => {
    await queues.close();
    await cleanupRedisPrefix(redis, prefix);
    redis.disconnect();
    await database.drop();
  });

  /** A scheduler on the test database and Redis prefix, its own lease name per test, driven by `clock`. */
  function scheduler(clock: () => Date, options: SchedulerOptions & { leaseName: string }): Scheduler {
    const audit = new AuditRepository(database.store.db);
    const controlStore = new RunControlRepository(database.store.db);
    const control = new RunControlService({ runs, control: controlStore, audit, resumer: queues, clock, logger: testLogger });
    return new Scheduler({ schedule, runs, control, controlStore, audit, launcher: queues, clock, logger: testLogger }, { lookbackMs: 6 * 3_600_000, leaseMs: 10_000, ...options });
  }

  async function saveVersion(overrides: Record<string, unknown>): Promise<number> {
    const campaign = validateCampaign(campaignDocument(overrides));
    await campaigns.upsert({ id: campaign.id, name: campaign.name });
    // The tests' clocks stand in November 2026: the campaign has existed since before then.
    await database.store.db.updateTable('campaigns').set({ created_at: new Date('2026-01-01T00:00:00Z') } as never).where('id', '=', campaign.id).execute();
    const { version } = await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'test' });
    return version.id;
  }

  async function runsOf(campaignId: string) {
    return database.store.db
      .selectFrom('runs')
      .innerJoin('campaign_versions as v', 'v.id', 'runs.campaign_version_id')
      .selectAll('runs')
      .where('v.campaign_id', '=', campaignId)
      .orderBy('runs.id')
      .execute();
  }

  async function compileJob(runId: number) {
    const queue = new Queue('compile', { connection: redis, prefix });
    try {
      return await queue.getJob(`run-${runId}.compile`);
    } finally {
      await queue.close();
    }
  }

  it('launches an occurrence once per campaign: editing the campaign after 08:00 does not send 08:00 again', async () => {
    let now = vn('2026-11-26T08:00:30');
    const sut = scheduler(() => now, { leaseName: `lease-${++lease}` });
    const daily = { id: 'daily-news', schedule: { start: '2026-11-01T08:00', rrule: 'FREQ=DAILY' }, validity: 'PT6H' };
    const v1 = await saveVersion(daily);

    const first = await sut.tick();
    expect(first.leader).toBe(true);
    expect(first.launched).toHaveLength(1);
    const [run] = await runsOf('daily-news');
    expect(run).toMatchObject({ campaign_version_id: v1, occurrence_id: 'daily-news@2026-11-26T01:00:00.000Z', launched_by: 'scheduler', scheduled_for: vn('2026-11-26T08:00') });
    expect(await compileJob(run!.id)).toBeDefined();

    now = vn('2026-11-26T09:15:00');
    const v2 = await saveVersion({ ...daily, name: 'Bản tin sáng (sửa)' });
    expect(v2).not.toBe(v1);
    const second = await sut.tick();
    expect(second.launched).toEqual([]);
    expect(await runsOf('daily-news')).toHaveLength(1);

    // The next day's occurrence comes from the new version.
    now = vn('2026-11-27T08:00:05');
    const third = await sut.tick();
    expect(third.launched).toHaveLength(1);
    const all = await runsOf('daily-news');
    expect(all.map((r) => r.campaign_version_id)).toEqual([v1, v2]);
    const audit = await new AuditRepository(database.store.db).listForSubject('campaign:daily-news');
    expect(audit.filter((entry) => entry.action === 'campaign.launch' && entry.actor === 'scheduler')).toHaveLength(2);
    await sut.stop();
  });

  it('after downtime launches a missed occurrence still valid, and records one past its validity as skipped', async () => {
    let now = vn('2026-11-26T10:30:00');
    const sut = scheduler(() => now, { leaseName: `lease-${++lease}` });
    // 08:00 is past 08:00 + 1 h validity; 10:00 is still valid at 10:30.
    await saveVersion({ id: 'missed', schedule: { start: '2026-11-26T08:00', rrule: 'FREQ=DAILY;BYHOUR=8,10' }, validity: 'PT1H' });
    const result = await sut.tick();
    expect(result.skipped).toEqual(['missed@2026-11-26T01:00:00.000Z']);
    expect(result.launched).toHaveLength(1);
    const decided = await schedule.occurrences('missed');
    expect(decided.map(({ occurrenceId, state, reason }) => ({ occurrenceId, state, reason }))).toEqual([
      { occurrenceId: 'missed@2026-11-26T01:00:00.000Z', state: 'skipped', reason: 'expired' },
      { occurrenceId: 'missed@2026-11-26T03:00:00.000Z', state: 'launched', reason: null },
    ]);
    const [run] = await runsOf('missed');
    expect(run!.scheduled_for).toEqual(vn('2026-11-26T10:00'));
    now = vn('2026-11-26T10:45:00');
    expect((await sut.tick()).launched).toEqual([]);
    await sut.stop();
  });

  it('defers a normal occurrence out of quiet hours and lets an urgent one through', async () => {
    let now = vn('2026-11-26T23:00:10');
    const sut = scheduler(() => now, { leaseName: `lease-${++lease}` });
    const at23 = { start: '2026-11-26T23:00', quietHours: { from: '22:00', to: '07:00' } };
    await saveVersion({ id: 'night-normal', schedule: at23 });
    await saveVersion({ id: 'night-urgent', priority: 'urgent', schedule: at23 });

    const night = await sut.tick();
    expect(night.launched).toHaveLength(1);
    expect(await runsOf('night-normal')).toHaveLength(0);
    const [urgent] = await runsOf('night-urgent');
    expect(urgent).toMatchObject({ priority: 'urgent', scheduled_for: vn('2026-11-26T23:00') });

    now = vn('2026-11-27T07:00:03');
    const morning = await sut.tick();
    expect(morning.launched).toHaveLength(1);
    const [normal] = await runsOf('night-normal');
    expect(normal).toMatchObject({ priority: 'normal', occurrence_id: 'night-normal@2026-11-26T16:00:00.000Z', scheduled_for: vn('2026-11-27T07:00') });
    expect(await compileJob(normal!.id)).toBeDefined();
    await sut.stop();
  });

  it('pauses a running normal run when quiet hours begin and resumes only the runs it paused when they end; urgent runs go on', async () => {
    let now = vn('2026-11-26T21:59:00');
    const sut = scheduler(() => now, { leaseName: `lease-${++lease}` });
    const quiet = { start: '2030-01-01T08:00', quietHours: { from: '22:00', to: '07:00' } };
    const normalVersion = await saveVersion({ id: 'long-normal', schedule: quiet });
    const urgentVersion = await saveVersion({ id: 'long-urgent', priority: 'urgent', schedule: quiet });
    const start = async (versionId: number, priority: 'normal' | 'urgent', occurrenceId: string): Promise<number> => {
      const { run } = await runs.createIfAbsent({ campaignVersionId: versionId, occurrenceId, scheduledFor: now, launchedBy: 'test', priority });
      await runs.setState(run.id, 'compiling');
      await runs.setState(run.id, 'running');
      return run.id;
    };
    const normal = await start(normalVersion, 'normal', 'now:normal');
    const urgent = await start(urgentVersion, 'urgent', 'now:urgent');
    const byOperator = await start(normalVersion, 'normal', 'now:operator');
    // Launched with --now inside quiet hours: the officer's choice stands.
    const { run: overridden } = await runs.createIfAbsent({ campaignVersionId: normalVersion, occurrenceId: 'now:override', scheduledFor: now, launchedBy: 'test', ignoreQuietHours: true });
    await runs.setState(overridden.id, 'compiling');
    await runs.setState(overridden.id, 'running');

    expect((await sut.tick()).paused).toEqual([]);
    now = vn('2026-11-26T22:00:01');
    const begin = await sut.tick();
    expect(begin.paused.sort()).toEqual([normal, byOperator].sort());
    expect(await runs.get(normal)).toMatchObject({ state: 'paused', paused_reason: 'quiet-hours' });
    expect((await runs.get(normal))!.error).toMatch(/quiet hours 22:00–07:00/);
    expect((await runs.get(urgent))!.state).toBe('running');
    expect((await runs.get(overridden.id))!.state).toBe('running');

    // An operator takes one over: resumes it by hand, then pauses it themselves. The scheduler leaves it paused.
    const control = new RunControlService({ runs, control: new RunControlRepository(database.store.db), audit: new AuditRepository(database.store.db), resumer: queues, logger: testLogger });
    await control.resume(byOperator, 'key:1:officer');
    await control.pause(byOperator, 'key:1:officer');

    now = vn('2026-11-27T03:00:00');
    expect((await sut.tick()).resumed).toEqual([]);
    now = vn('2026-11-27T07:00:00');
    const end = await sut.tick();
    expect(end.resumed).toEqual([normal]);
    expect(await runs.get(normal)).toMatchObject({ state: 'running', paused_reason: null, error: null });
    expect(await runs.get(byOperator)).toMatchObject({ state: 'paused', paused_reason: 'operator' });
    const audit = await new AuditRepository(database.store.db).listForSubject(`run:${normal}`);
    expect(audit.map((entry) => [entry.actor, entry.action])).toEqual([
      ['scheduler', 'run.resume'],
      ['scheduler', 'run.pause'],
    ]);
    await sut.stop();
  });

  it('fails over: the follower takes over when the leader stops renewing, no occurrence launches twice or is lost, and a stale leader is fenced', async () => {
    let now = vn('2026-11-26T09:00:05');
    const leaseName = `lease-${++lease}`;
    const a = scheduler(() => now, { leaseName, holder: 'a' });
    const b = scheduler(() => now, { leaseName, holder: 'b' });
    const versionId = await saveVersion({ id: 'hourly', schedule: { start: '2026-11-26T09:00', rrule: 'FREQ=HOURLY;COUNT=6', quietHours: null }, validity: 'PT2H' });

    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect([ra.leader, rb.leader].sort()).toEqual([false, true]);
    const [leader, follower] = ra.leader ? [a, b] : [b, a];
    const staleToken = leader.token!;
    expect((ra.leader ? ra : rb).launched).toHaveLength(1);

    // 10:00: the leader ticks (renews) and launches; the follower stays a follower.
    now = vn('2026-11-26T10:00:01');
    expect((await leader.tick()).launched).toHaveLength(1);
    expect((await follower.tick()).leader).toBe(false);

    // The leader stops renewing (a long GC pause, a partition). 10 s later the lease has expired.
    now = vn('2026-11-26T11:00:20');
    const takeover = await follower.tick();
    expect(takeover.leader).toBe(true);
    expect(takeover.token).toBeGreaterThan(staleToken);
    expect(takeover.launched).toHaveLength(1);

    // The old leader wakes up still believing it leads and tries to launch 12:00 with its token.
    const stale = await schedule.launch(
      { name: leaseName, holder: 'old', token: staleToken, expiresAt: vn('2026-11-26T12:00:00') },
      { campaignId: 'hourly', campaignVersionId: versionId, occurrenceId: 'hourly@2026-11-26T05:00:00.000Z', nominal: vn('2026-11-26T12:00'), scheduledFor: vn('2026-11-26T12:00'), expiresAt: vn('2026-11-26T14:00'), priority: 'normal' },
    );
    expect(stale).toBe('fenced');
    // Through its own tick it finds it no longer leads (its renewal is refused) and launches nothing.
    now = vn('2026-11-26T12:00:02');
    const woke = await leader.tick();
    expect(woke).toMatchObject({ leader: false, launched: [] });

    // The new leader was down over 13:00 and 14:00 too: both still valid (2 h), both launched late.
    const caughtUp = await follower.tick();
    expect(caughtUp.launched).toHaveLength(1);
    now = vn('2026-11-26T14:30:00');
    expect((await follower.tick()).launched).toHaveLength(2);

    const occurrences = await schedule.occurrences('hourly');
    expect(occurrences.map((o) => o.occurrenceId)).toEqual([9, 10, 11, 12, 13, 14].map((h) => `hourly@2026-11-26T${String(h - 7).padStart(2, '0')}:00:00.000Z`));
    expect(occurrences.every((o) => o.state === 'launched')).toBe(true);
    const launched = await runsOf('hourly');
    expect(launched).toHaveLength(6);
    expect(new Set(launched.map((r) => r.occurrence_id)).size).toBe(6);
    expect(occurrences.filter((o) => o.token === staleToken).length).toBe(2);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('enqueues the compile job of a due scheduled run whose job Redis lost (a deferred manual launch)', async () => {
    const now = vn('2026-11-27T07:00:05');
    const sut = scheduler(() => now, { leaseName: `lease-${++lease}` });
    const versionId = await saveVersion({ id: 'deferred-manual' });
    const { run } = await runs.createIfAbsent({ campaignVersionId: versionId, occurrenceId: 'now:deferred', scheduledFor: vn('2026-11-27T07:00'), launchedBy: 'key:1:officer' });
    const { run: later } = await runs.createIfAbsent({ campaignVersionId: versionId, occurrenceId: 'now:later', scheduledFor: vn('2026-11-27T09:00'), launchedBy: 'key:1:officer' });
    expect(await compileJob(run.id)).toBeUndefined();
    const result = await sut.tick();
    expect(result.enqueued).toContain(run.id);
    expect(result.enqueued).not.toContain(later.id);
    expect(await compileJob(run.id)).toBeDefined();
    expect(await compileJob(later.id)).toBeUndefined();
    await sut.stop();
  });

  it('does not launch occurrences from before the campaign existed', async () => {
    const now = new Date();
    const sut = scheduler(() => now, { leaseName: `lease-${++lease}` });
    const campaign = validateCampaign(campaignDocument({ id: 'new-hourly', schedule: { start: '2026-01-01T00:00', rrule: 'FREQ=HOURLY', quietHours: null }, validity: 'P1D' }));
    await campaigns.upsert({ id: campaign.id, name: campaign.name });
    await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'test' });
    const result = await sut.tick();
    expect(await runsOf('new-hourly')).toHaveLength(0);
    expect(result.skipped.filter((id) => id.startsWith('new-hourly'))).toEqual([]);
    await sut.stop();
  });
});
