import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, validateCampaign } from '../../src/domain/campaign.js';
import type { CarrierId } from '../../src/domain/carrier.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { startScheduler } from '../../src/jobs/scheduler-role.js';
import { UrgentFirst } from '../../src/jobs/urgent-first.js';
import { CampaignRepository, RunRepository } from '../../src/store/index.js';
import { campaignDocument } from '../factories.js';
import { testLogger } from '../helpers/smpp.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
const NORMAL = 1_500;
const URGENT = 60;
/** Urgent handsets are numbered from here, so the simulator tells the two runs apart. */
const URGENT_BASE = 5_000_000;

describe(UrgentFirst.name, () => {
  let database: TestDatabase;
  let fixture: EngineFixture;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
    // A slow carrier: 2 binds of window 10 and 100 ms per answer, about 200 messages/s. A normal
    // run of 1,500 fills its windows for several seconds, with every one of the 4 normal submit
    // slots of the carrier's queue in use.
    fixture = await startEngineFixture(database.store, {
      binds: 2,
      window: 10,
      sim: () => ({
        latencyMs: { min: 100, max: 100 },
        receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 5 } },
      }),
      // Small batches: the normal run is several jobs at once, as a 1 M run is.
      engine: { compile: { batchSize: 300 } },
    });
    await seedList(database.store, 'normal-many', Array.from({ length: NORMAL }, (_, i) => ({ msisdn: subscriber('viettel', i) })));
    await seedList(database.store, 'urgent-few', Array.from({ length: URGENT }, (_, i) => ({ msisdn: subscriber('viettel', URGENT_BASE + i) })));
    await seedList(database.store, 'evening', Array.from({ length: 600 }, (_, i) => ({ msisdn: subscriber('viettel', 6_000_000 + i) })));
    await seedList(database.store, 'night-normal', Array.from({ length: 50 }, (_, i) => ({ msisdn: subscriber('viettel', 7_000_000 + i) })));
  }, 60_000);

  afterAll(async () => {
    await fixture?.stop();
    await database?.drop();
  });

  it('sends an urgent run ahead of a normal run saturating the same carrier, and the normal run completes afterwards', async () => {
    const carrier: CarrierId = 'viettel';
    const sim = fixture.sims[carrier];
    const isUrgent = (destination: string): boolean => Number(destination.slice(4)) >= URGENT_BASE;
    const normalRun = await seedRun(database.store, { id: 'normal-broadcast', audience: { lists: ['normal-many'] }, operators: ['viettel'] });
    await fixture.engine.queues.enqueueCompile(normalRun, { priority: 'normal' });
    // Saturating: the normal run has been sending for a while.
    await waitForStatus(fixture.engine, normalRun, (s) => s.totals.submitted + s.totals.delivered >= 200, 30_000);

    const urgentRun = await seedRun(database.store, { id: 'urgent-alert', priority: 'urgent', audience: { lists: ['urgent-few'] }, operators: ['viettel'] });
    const launchedAt = sim.submits.length;
    await fixture.engine.queues.enqueueCompile(urgentRun, { priority: 'urgent' });
    const urgentDone = await waitForStatus(fixture.engine, urgentRun, (s) => s.state === 'completed', 30_000);
    expect(urgentDone.totals.delivered).toBe(URGENT);

    // At the SMSC, in arrival order: once the first urgent part arrived, no normal part arrived
    // until the last urgent one — the normal batches gave way, they did not interleave.
    const order = sim.submits.slice(launchedAt).map((submit) => isUrgent(submit.destination));
    const first = order.indexOf(true);
    const last = order.lastIndexOf(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(order.slice(first, last + 1).filter((urgent) => !urgent)).toHaveLength(0);
    expect(last - first + 1).toBe(URGENT);

    // The normal run goes on afterwards and completes: every subscriber once, nothing lost.
    const normalDone = await waitForStatus(fixture.engine, normalRun, (s) => s.state === 'completed', 60_000);
    expect(normalDone.totals.delivered).toBe(NORMAL);
    expect(sum(normalDone.totals)).toBe(NORMAL);
    const perDestination = sim.submitsByDestination();
    const duplicates = [...perDestination.values()].filter((submits) => submits.length > 1);
    expect(duplicates).toHaveLength(0);
    expect(perDestination.size).toBe(NORMAL + URGENT);
    // The urgent batch did not wait for a normal one to end: every normal batch (all four slots of
    // the carrier's normal lane were busy) finished after the first urgent part reached the SMSC.
    const firstUrgentAt = sim.submits[launchedAt + first]!.at;
    const queue = new Queue('submit-viettel', { connection: fixture.redis, prefix: fixture.prefix });
    const normalJobs = (await queue.getJobs(['completed'])).filter((job) => (job.data as { runId: number }).runId === normalRun);
    await queue.close();
    expect(normalJobs.length).toBe(NORMAL / 300);
    expect(normalJobs.filter((job) => job.finishedOn! <= firstUrgentAt)).toEqual([]);
    // The normal run did send after the urgent one finished.
    const after = sim.submits.slice(launchedAt + last + 1).filter((submit) => !isUrgent(submit.destination));
    expect(after.length).toBeGreaterThan(0);
  }, 120_000);

  /** A scheduled campaign that has existed since before the tests' clock. */
  async function saveScheduled(overrides: Record<string, unknown>): Promise<void> {
    const campaign = validateCampaign(campaignDocument(overrides));
    const campaigns = new CampaignRepository(database.store.db);
    await campaigns.upsert({ id: campaign.id, name: campaign.name });
    await database.store.db.updateTable('campaigns').set({ created_at: new Date('2026-01-01T00:00:00Z') } as never).where('id', '=', campaign.id).execute();
    await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'test' });
  }

  it('quiet hours pause a sending normal run and defer a normal occurrence, while an urgent occurrence is sent; after them both normal ones complete', async () => {
    const quietHours = { from: '22:00', to: '07:00' };
    const runs = new RunRepository(database.store.db);
    const sent = async (runId: number): Promise<number> => {
      const status = (await fixture.engine.status.get(runId))!;
      return status.totals.submitted + status.totals.delivered;
    };
    const evening = await seedRun(database.store, { id: 'evening-normal', audience: { lists: ['evening'] }, operators: ['viettel'], schedule: { start: '2030-01-01T08:00', quietHours } });
    await saveScheduled({ id: 'night-urgent', priority: 'urgent', audience: { lists: ['urgent-few'] }, operators: ['viettel'], schedule: { start: '2026-11-26T22:30', quietHours } });
    await saveScheduled({ id: 'night-normal', audience: { lists: ['night-normal'] }, operators: ['viettel'], schedule: { start: '2026-11-26T22:30', quietHours } });
    let now = new Date('2026-11-26T21:59:00+07:00');
    const sut = startScheduler({
      store: database.store,
      launcher: new JobQueues(fixture.redis, fixture.prefix),
      config: { alertWebhook: null, leaseMs: 10_000, tickMs: 3_600_000, lookbackMs: 86_400_000 },
      logger: testLogger,
      clock: () => now,
      options: { leaseName: 'sharing-quiet' },
    });
    const runOf = async (campaignId: string) =>
      database.store.db
        .selectFrom('runs')
        .innerJoin('campaign_versions as v', 'v.id', 'runs.campaign_version_id')
        .select(['runs.id', 'runs.priority'])
        .where('v.campaign_id', '=', campaignId)
        .executeTakeFirst();
    try {
      await fixture.engine.queues.enqueueCompile(evening);
      await waitForStatus(fixture.engine, evening, (s) => s.totals.submitted + s.totals.delivered >= 100, 30_000);

      // 22:00: the sending normal run pauses; what is in the window finishes, nothing more leaves.
      now = new Date('2026-11-26T22:00:00+07:00');
      expect((await sut.scheduler.tick()).paused).toEqual([evening]);
      await waitForStatus(fixture.engine, evening, (s) => s.totals.submitting === 0, 10_000);
      const sentAtPause = await sent(evening);
      expect(sentAtPause).toBeLessThan(600);

      // 22:30: the urgent occurrence launches and is sent; the normal one waits for 07:00.
      now = new Date('2026-11-26T22:30:05+07:00');
      const night = await sut.scheduler.tick();
      expect(night.launched).toHaveLength(1);
      const urgent = await runOf('night-urgent');
      expect(urgent).toMatchObject({ priority: 'urgent' });
      expect(await runOf('night-normal')).toBeUndefined();
      const urgentDone = await waitForStatus(fixture.engine, urgent!.id, (s) => s.state === 'completed', 30_000);
      expect(urgentDone.totals.delivered).toBe(URGENT);
      expect(await sent(evening)).toBe(sentAtPause);
      expect((await runs.get(evening))!.state).toBe('paused');

      // 07:00: the paused run resumes and the deferred occurrence launches; both complete.
      now = new Date('2026-11-27T07:00:02+07:00');
      const morning = await sut.scheduler.tick();
      expect(morning.resumed).toEqual([evening]);
      expect(morning.launched).toHaveLength(1);
      const deferred = await runOf('night-normal');
      expect(deferred).toBeDefined();
      const [eveningDone, deferredDone] = await Promise.all([
        waitForStatus(fixture.engine, evening, (s) => s.state === 'completed', 60_000),
        waitForStatus(fixture.engine, deferred!.id, (s) => s.state === 'completed', 60_000),
      ]);
      expect(eveningDone.totals.delivered).toBe(600);
      expect(sum(eveningDone.totals)).toBe(600);
      expect(deferredDone.totals.delivered).toBe(50);
    } finally {
      await sut.stop();
    }
  }, 150_000);
});
