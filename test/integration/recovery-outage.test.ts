import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_IDS } from '../../src/domain/carrier.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, subscriber } from '../helpers/engine.js';
import { runState, startOwnRedis, startRecoveryRig, statesOf, waitFor, type RecoveryRig } from '../helpers/recovery.js';
import type { ServiceProcess } from '../helpers/processes.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/** Issue 9: PostgreSQL cut for 10 s mid-run (item 7) and Redis losing everything mid-run (item 4), with a real worker process. */
describe('recovery from PostgreSQL and Redis outages', () => {
  let database: TestDatabase;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await database.drop();
  });

  async function launch(listId: string, perCarrier: number, campaign: Record<string, unknown> = {}): Promise<number> {
    const rows = CARRIER_IDS.flatMap((carrier) => Array.from({ length: perCarrier }, (_, i) => ({ msisdn: subscriber(carrier, i) })));
    await seedList(database.store, listId, rows);
    return seedRun(database.store, { id: `${listId}-campaign`, audience: { lists: [listId] }, validity: 'PT20S', ...campaign });
  }

  async function expectCompleteOnce(rig: RecoveryRig, runId: number, total: number, worker: ServiceProcess): Promise<Record<string, number>> {
    await waitFor('the run to complete', async () => (await runState(database.store, runId)) === 'completed', 120_000, 250).catch((error: Error) => {
      throw new Error(`${error.message}; worker log tail: ${worker.output().slice(-3000)}`);
    });
    const states = await statesOf(database.store, runId);
    expect(Object.values(states).reduce((a, b) => a + b, 0)).toBe(total);
    // Nothing lost, nothing twice: every recipient accepted by its SMSC exactly once, every message delivered.
    expect(rig.duplicates()).toBe(0);
    expect(rig.recipients()).toBe(total);
    expect(states).toEqual({ delivered: total });
    return states;
  }

  it('PostgreSQL cut for 10 s mid-run: the worker holds its results, retries and finishes; nothing lost or twice, no process exits', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5432);
    const port = await proxy.listen();
    cleanups.push(() => proxy.close());
    const url = new URL(database.url);
    url.port = String(port);
    url.hostname = '127.0.0.1';
    const rig = await startRecoveryRig({ databaseUrl: url.toString() });
    cleanups.push(() => rig.stop());
    const total = 15_000;
    const runId = await launch('pg-cut', total / 3, { throttle: { viettel: 1500, vnpt: 1500, mobifone: 1500 } });
    const worker = rig.startWorker();
    await worker.waitForLog((line) => line.msg === 'engine started');
    await rig.queues.enqueueCompile(runId);
    await waitFor('a third of the run at the SMSCs', () => rig.accepted() >= total / 3, 60_000, 5);

    proxy.down();
    const cutAt = rig.accepted();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    // Nothing can be claimed while PostgreSQL is away: at most the window in flight at the cut was sent meanwhile.
    expect(rig.accepted() - cutAt).toBeLessThanOrEqual(CARRIER_IDS.length * rig.window * rig.binds);
    expect(worker.child.exitCode).toBeNull();
    proxy.up();

    const states = await expectCompleteOnce(rig, runId, total, worker);
    expect(worker.child.exitCode).toBeNull();
    console.info(`PostgreSQL cut: accepted at the cut ${cutAt}; states ${JSON.stringify(states)}`);
    expect(await worker.stop()).toBe(0);
  }, 180_000);

  it('Redis loses everything mid-run (FLUSHALL on its own redis-server): the reconciler rebuilds the queues and the run completes once', async () => {
    const redis = await startOwnRedis();
    cleanups.push(() => redis.stop());
    const rig = await startRecoveryRig({ databaseUrl: database.url, redisUrl: redis.url });
    cleanups.push(() => rig.stop());
    const total = 15_000;
    const runId = await launch('flush', total / 3, { throttle: { viettel: 1500, vnpt: 1500, mobifone: 1500 } });
    const worker = rig.startWorker();
    await worker.waitForLog((line) => line.msg === 'engine started');
    await rig.queues.enqueueCompile(runId);
    await waitFor('a third of the run at the SMSCs', () => rig.accepted() >= total / 3, 60_000, 5);

    await rig.redis.flushall();
    const flushedAt = rig.accepted();
    const flushed = Date.now();
    await worker.waitForLog((line) => line.component === 'reconciler' && line.reason === 'redis-lost', 30_000);
    await waitFor('sending again', () => rig.accepted() > flushedAt + 3 * rig.window * rig.binds * CARRIER_IDS.length, 60_000, 5);
    const resumedMs = Date.now() - flushed;

    const states = await expectCompleteOnce(rig, runId, total, worker);
    expect(worker.child.exitCode).toBeNull();
    console.info(`Redis FLUSHALL: sending again ${resumedMs} ms after; states ${JSON.stringify(states)}`);
    expect(await worker.stop()).toBe(0);
  }, 180_000);
});
