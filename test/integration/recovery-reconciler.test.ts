import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../../src/jobs/reconciler.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { RedisSentinel } from '../../src/jobs/redis.js';
import { MessageRepository, RunRepository, WorkerLeaseRepository } from '../../src/store/index.js';
import { RecoveryRepository } from '../../src/store/recovery.repository.js';
import { RunCountRepository } from '../../src/store/run-count.repository.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL, seedRun, subscriber } from '../helpers/engine.js';
import { testLogger } from '../helpers/smpp.js';
import { statesOf, waitFor } from '../helpers/recovery.js';

/** Issue 9, item 4: the reconciler against the real PostgreSQL and Redis, one pass at a time. */
describe(Reconciler.name, () => {
  let database: TestDatabase;
  let redis: Redis;
  const prefix = testRedisPrefix();
  let queues: JobQueues;
  let leases: WorkerLeaseRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queues = new JobQueues(redis, prefix);
    leases = new WorkerLeaseRepository(database.store.db);
  });
  afterAll(async () => {
    await queues.close();
    await cleanupRedisPrefix(redis, prefix);
    redis.disconnect();
    await database.drop();
  });

  function reconciler(ownClaim?: number, options: ConstructorParameters<typeof Reconciler>[1] = {}): Reconciler {
    const db = database.store.db;
    return new Reconciler(
      {
        runs: new RunRepository(db),
        counts: new RunCountRepository(db),
        recovery: new RecoveryRepository(db),
        queues,
        sentinel: new RedisSentinel(redis, prefix),
        ...(ownClaim === undefined ? {} : { ownClaim }),
        logger: testLogger,
      },
      options,
    );
  }

  /** A running run of 40 messages: 1–10 claimed by a dead worker, 11–20 by a live one, 21–30 by `own`, 31–40 queued. */
  async function strandedRun(name: string, campaign: Record<string, unknown>, own: number): Promise<{ runId: number; live: number }> {
    const runId = await seedRun(database.store, { id: name, audience: { lists: ['none'] }, ...campaign });
    await new MessageRepository(database.store.db, database.store.pool).copyQueued(
      runId,
      Array.from({ length: 40 }, (_, i) => ({ msisdn: subscriber('viettel', i), carrier: 'viettel' as const, partsTotal: 1 })),
    );
    await new RunRepository(database.store.db).setState(runId, 'running', { from: ['scheduled'] });
    const dead = await leases.acquire('dead', 60_000);
    await leases.release(dead);
    const live = await leases.acquire('live', 60_000);
    const claim = (from: number, to: number, lease: number) =>
      database.store.pool.query(`UPDATE messages SET state = 'submitting', claim = $4 WHERE run_id = $1 AND id BETWEEN $2 AND $3`, [runId, from, to, lease]);
    await claim(1, 10, dead);
    await claim(11, 20, live);
    await claim(21, 30, own);
    return { runId, live };
  }

  async function compileJobs(runId: number): Promise<number> {
    const queue = new Queue('compile', { connection: redis, prefix });
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed']);
    await queue.close();
    return jobs.filter((job) => (job.data as { runId: number }).runId === runId).length;
  }

  it("makes a dead worker's submitting rows ambiguous, never a live worker's nor its own, and enqueues the run again at start", async () => {
    const own = await leases.acquire('own', 60_000);
    await leases.release(own); // expired, as after a PostgreSQL outage longer than the lease: still ours
    const { runId } = await strandedRun('reconcile-default', {}, own);

    const result = await reconciler(own).reconcile('start');

    expect(result.ambiguous).toBe(10);
    expect(result.rebuilt).toContain(runId);
    expect(await statesOf(database.store, runId)).toEqual({ ambiguous: 10, submitting: 20, queued: 10 });
    const { rows } = await database.store.pool.query<{ id: number }>(`SELECT id FROM messages WHERE run_id = $1 AND state = 'ambiguous' ORDER BY id`, [runId]);
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(await compileJobs(runId)).toBe(1);

    // A periodic pass with nothing new to do changes nothing and enqueues nothing.
    const again = await reconciler(own).reconcile('periodic');
    expect(again).toEqual({ ambiguous: 0, requeued: 0, rebuilt: [] });
  });

  it('puts them back to queued, and enqueues the run, when the campaign says resendAmbiguous: true', async () => {
    const own = await leases.acquire('own', 60_000);
    const { runId } = await strandedRun('reconcile-resend', { resendAmbiguous: true }, own);

    const result = await reconciler(own).reconcile('periodic');

    expect(result.requeued).toBe(10);
    expect(result.rebuilt).toEqual([runId]);
    expect(await statesOf(database.store, runId)).toEqual({ submitting: 20, queued: 20 });
    const { rows } = await database.store.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE run_id = $1 AND id <= 10 AND state = 'queued' AND claim IS NULL AND parts_submitted = 0`, [runId]);
    expect(rows[0]!.n).toBe(10);
  });

  it("decides a dead worker's rows of a run cancelled meanwhile, without enqueueing it", async () => {
    const own = await leases.acquire('own', 60_000);
    const { runId } = await strandedRun('reconcile-cancelled', {}, own);
    await new RunRepository(database.store.db).setState(runId, 'cancelled');

    const result = await reconciler(own).reconcile('start');

    expect(result.ambiguous).toBe(10);
    expect(result.rebuilt).not.toContain(runId);
    expect(await statesOf(database.store, runId)).toEqual({ ambiguous: 10, submitting: 20, queued: 10 });
    expect(await compileJobs(runId)).toBe(0);
  });

  it('enqueues a running run again when its queued count has not moved for stalledAfterMs (a job BullMQ gave up on)', async () => {
    const own = await leases.acquire('own', 60_000);
    const { runId } = await strandedRun('reconcile-stalled', {}, own);
    const sut = reconciler(own, { stalledAfterMs: 200 });

    expect((await sut.reconcile('periodic')).rebuilt).not.toContain(runId);
    expect((await sut.reconcile('periodic')).rebuilt).not.toContain(runId);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await sut.reconcile('periodic')).rebuilt).toContain(runId);
    // Once: the clock starts again after a rebuild.
    expect((await sut.reconcile('periodic')).rebuilt).not.toContain(runId);
  });

  it('notices that Redis lost its data (the sentinel key is gone) and enqueues the active runs again', async () => {
    const own = await leases.acquire('own', 60_000);
    const { runId } = await strandedRun('reconcile-redis-lost', {}, own);
    const sut = reconciler(own, { intervalMs: 60_000, sentinelEveryMs: 50 });
    await sut.start();
    try {
      expect(await compileJobs(runId)).toBeGreaterThanOrEqual(1);
      // What FLUSHALL does to this test's keys (the machine's Redis is shared: only our prefix).
      await cleanupRedisPrefix(redis, prefix);
      expect(await compileJobs(runId)).toBe(0);
      await waitFor('the compile job to be enqueued again', async () => (await compileJobs(runId)) >= 1, 10_000, 50);
      expect(await redis.exists(`${prefix}:sentinel`)).toBe(1);
    } finally {
      await sut.stop();
    }
  });
});
