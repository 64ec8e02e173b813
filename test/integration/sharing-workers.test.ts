import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_IDS, type CarrierId } from '../../src/domain/carrier.js';
import { isFinal, type MessageState } from '../../src/domain/message-state.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { createRedis } from '../../src/jobs/redis.js';
import { SmscSimulator } from '../../src/sim/smsc-simulator.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL, seedList, seedRun, subscriber } from '../helpers/engine.js';
import { freePortRun, isPortFree, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

const credentials = { systemId: 'loa-test', password: 'secret' };
/** Viettel's grant and binds: what every worker together must stay within. */
const GRANT = 600;
const ALLOWED_BINDS = 3;
/** LOA_WORKER_MAX_BINDS: each worker holds at most 2 of the 3, so both hold viettel binds at once. */
const WORKER_MAX_BINDS = 2;
const WINDOW = 20;
/** Three submit batches (5,000 each at most) for the workers to share. */
const VIETTEL = 12_000;
const VNPT = 300;

/**
 * Issue 9 item 5: two `--role worker` processes share one run and its carriers, the SMSCs outside
 * them (here simulators in the test process, reached over TCP; `loa sim` in production). One is
 * killed with SIGKILL mid-run; the other takes its bind leases and its batches over.
 */
describe('several workers', () => {
  let database: TestDatabase;
  const sims = {} as Record<CarrierId, SmscSimulator>;
  const redis = createRedis(REDIS_URL, 'loa-test-sharing');
  const prefix = testRedisPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'loa-sharing-'));
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    for (const id of CARRIER_IDS) {
      // Uncapped and without a bind limit of their own: they count what the workers do, refuse nothing.
      sims[id] = new SmscSimulator({
        carrier: id,
        ...credentials,
        seed: Math.floor(Math.random() * 2 ** 31),
        messageIds: { submit: 'hex', receipt: 'dec' },
        receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 20 } },
      });
      await sims[id].listen();
    }
    const carrier = (id: CarrierId, binds: number): string =>
      `  ${id}: { tps: ${GRANT}, window: ${WINDOW}, messageId: { submit: hex, receipt: dec }, binds: [{ host: 127.0.0.1, port: ${sims[id].port}, systemId: ${credentials.systemId}, password: ${credentials.password}, count: ${binds} }] }`;
    writeFileSync(join(dir, 'carriers.yaml'), ['carriers:', carrier('viettel', ALLOWED_BINDS), carrier('vnpt', 1), carrier('mobifone', 1)].join('\n'));
    await seedList(database.store, 'shared', [
      ...Array.from({ length: VIETTEL }, (_, i) => ({ msisdn: subscriber('viettel', i) })),
      ...Array.from({ length: VNPT }, (_, i) => ({ msisdn: subscriber('vnpt', i) })),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    for (const id of CARRIER_IDS) await sims[id]?.close();
    await cleanupRedisPrefix(redis, prefix);
    redis.disconnect();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(): ServiceProcess {
    const worker = startServiceProcess(['--role', 'worker'], {
      DATABASE_URL: database.url,
      REDIS_URL,
      LOA_REDIS_PREFIX: prefix,
      LOA_CARRIERS: join(dir, 'carriers.yaml'),
      LOA_SHUTDOWN_TIMEOUT_MS: '5000',
      LOA_WORKER_MAX_BINDS: String(WORKER_MAX_BINDS),
    });
    workers.push(worker);
    return worker;
  }

  /** The worker process holding a carrier's bind slot, from its lease value (host:pid:random). */
  async function holderOf(carrier: CarrierId, slot: number): Promise<number | null> {
    const owner = await redis.get(`${prefix}:bind:${carrier}:${slot}`);
    return owner ? Number(owner.split(':')[1]) : null;
  }

  async function holders(carrier: CarrierId, slots: number): Promise<Array<number | null>> {
    return Promise.all(Array.from({ length: slots }, (_, slot) => holderOf(carrier, slot)));
  }

  async function states(runId: number): Promise<Array<{ carrier: CarrierId; state: string; claim: number | null; n: number }>> {
    const result = await sql<{ carrier: CarrierId; state: string; claim: number | null; n: string }>`
      SELECT carrier, state::text AS state, claim, count(*) AS n FROM messages WHERE run_id = ${runId} GROUP BY 1, 2, 3`.execute(database.store.db);
    return result.rows.map((row) => ({ ...row, n: Number(row.n) }));
  }

  it('share one run and its carriers; after one is killed the other finishes it: nothing twice, binds and rate within the grant', async () => {
    const a = startWorker();
    const b = startWorker();
    const leaseOf = new Map<number, number>();
    for (const worker of [a, b]) {
      const started = await worker.waitForLog((line) => line.msg === 'engine started', 60_000);
      leaseOf.set(worker.child.pid!, started.leaseId as number);
    }
    // Both are up and each holds part of viettel's binds (at most WORKER_MAX_BINDS of the 3).
    const deadline = Date.now() + 30_000;
    while ((await holders('viettel', ALLOWED_BINDS)).includes(null) || sims.viettel.boundConnections < ALLOWED_BINDS) {
      if (Date.now() > deadline) throw new Error('viettel binds did not come up');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(new Set(await holders('viettel', ALLOWED_BINDS))).toEqual(new Set([a.child.pid, b.child.pid]));

    const runId = await seedRun(database.store, { id: 'shared-run', audience: { lists: ['shared'] }, operators: ['viettel', 'vnpt'] });
    const queues = new JobQueues(redis, prefix);
    await queues.enqueueCompile(runId);
    await queues.close();

    // A third of the way, kill the process holding viettel's first bind.
    while (sims.viettel.submits.length < VIETTEL / 3) await new Promise((resolve) => setTimeout(resolve, 20));
    const victimPid = (await holderOf('viettel', 0))!;
    const victim = [a, b].find((worker) => worker.child.pid === victimPid)!;
    const survivor = victim === a ? b : a;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const deadLease = leaseOf.get(victimPid)!;

    // The survivor takes the dead worker's bind leases (after they expire) and its batches (after
    // their job locks expire) and sends the rest. Done when nothing is queued and nothing waits
    // for a receipt: what is left is the dead worker's claim (ambiguous: it may have been sent).
    let rows = await states(runId);
    const finishBy = Date.now() + 180_000;
    while (rows.some((row) => row.state === 'queued' || row.state === 'submitted' || (row.state === 'submitting' && row.claim !== deadLease))) {
      if (Date.now() > finishBy) throw new Error(`run not finished: ${JSON.stringify(rows)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      rows = await states(runId);
    }
    expect(survivor.child.exitCode).toBeNull();
    // The survivor took the dead worker's leases over, up to its own limit.
    expect((await holders('viettel', ALLOWED_BINDS)).filter((pid) => pid === survivor.child.pid)).toHaveLength(WORKER_MAX_BINDS);

    for (const [carrier, audience] of [['viettel', VIETTEL], ['vnpt', VNPT]] as const) {
      const mine = rows.filter((row) => row.carrier === carrier);
      const count = (state: string) => mine.filter((row) => row.state === state).reduce((n, row) => n + row.n, 0);
      // The dead worker's claimed rows (left `submitting`, or `ambiguous` once a reconciler has
      // seen its lease expire): at most 3 windows of the binds it held (submit.worker.ts).
      const left = mine.filter((row) => row.state === 'submitting' || row.state === 'ambiguous');
      expect(left.every((row) => row.claim === deadLease)).toBe(true);
      const ambiguous = left.reduce((n, row) => n + row.n, 0);
      expect(ambiguous).toBeLessThanOrEqual(3 * WINDOW * WORKER_MAX_BINDS);
      expect(count('delivered') + ambiguous).toBe(audience);

      const received = sims[carrier].submitsByDestination();
      // Nothing twice at the SMSC; every delivered message was received, the others at most once.
      expect([...received.values()].filter((submits) => submits.length > 1)).toHaveLength(0);
      expect(received.size).toBeGreaterThanOrEqual(count('delivered'));
      expect(received.size).toBeLessThanOrEqual(audience);
    }

    // Binds at each SMSC never above the allowed count, even while the leases changed hands.
    expect(Math.max(...sims.viettel.bindTimeline.map((entry) => entry.binds))).toBeLessThanOrEqual(ALLOWED_BINDS);
    expect(Math.max(...sims.vnpt.bindTimeline.map((entry) => entry.binds))).toBeLessThanOrEqual(1);
    // Every worker together within the grant in each calendar second at the SMSC. Tolerance: the
    // buckets' burst (one part per bind), and what a stall of the simulator's event loop (it runs
    // in this busy test process) can hold back into the next second — at most a window per bind,
    // since nothing more leaves a bind until its window is answered.
    const perSecond = [...sims.viettel.receivedPerSecond.values()];
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(GRANT + ALLOWED_BINDS * (WINDOW + 1));
  }, 300_000);

  it('run against `loa sim` as its own process: the workers open no simulator port, and a run completes through them', async () => {
    const simPort = await freePortRun(3);
    const sim = startServiceProcess(['sim'], { LOA_SIM_PORT: String(simPort) }, 'src/cli/main.ts');
    workers.push(sim);
    const listening = (): number => sim.lines.filter((line) => String(line.msg).startsWith('simulated')).length;
    await sim.waitForLog(() => listening() === CARRIER_IDS.length, 30_000);
    const otherPrefix = testRedisPrefix();
    const env = { DATABASE_URL: database.url, REDIS_URL, LOA_REDIS_PREFIX: otherPrefix, LOA_SIM_PORT: String(simPort), LOA_SHUTDOWN_TIMEOUT_MS: '5000' };
    const pair = [startServiceProcess(['--role', 'worker'], env), startServiceProcess(['--role', 'worker'], env)];
    workers.push(...pair);
    try {
      for (const worker of pair) await worker.waitForLog((line) => line.msg === 'engine started', 60_000);
      // Every carrier bound, by one worker or the other, and both still running (no port clash).
      const bound = new Set<string>();
      const deadline = Date.now() + 30_000;
      while (bound.size < CARRIER_IDS.length) {
        if (Date.now() > deadline) throw new Error(`carriers bound: ${[...bound].join(', ')}`);
        for (const worker of pair) for (const line of worker.lines) if (line.msg === 'carrier bound') bound.add(String(line.carrier));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(pair.map((worker) => worker.child.exitCode)).toEqual([null, null]);
      expect(pair.some((worker) => worker.lines.some((line) => line.msg === 'simulated SMSCs listening'))).toBe(false);

      await seedList(database.store, 'via-sim', CARRIER_IDS.flatMap((carrier) => Array.from({ length: 50 }, (_, i) => ({ msisdn: subscriber(carrier, 100_000 + i) }))));
      const runId = await seedRun(database.store, { id: 'via-sim', audience: { lists: ['via-sim'] } });
      const queues = new JobQueues(redis, otherPrefix);
      await queues.enqueueCompile(runId);
      await queues.close();
      const finishBy = Date.now() + 60_000;
      let run = await database.store.db.selectFrom('runs').select(['state']).where('id', '=', runId).executeTakeFirstOrThrow();
      while (run.state !== 'completed') {
        if (Date.now() > finishBy) throw new Error(`run is ${run.state}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
        run = await database.store.db.selectFrom('runs').select(['state']).where('id', '=', runId).executeTakeFirstOrThrow();
      }
      const final = await states(runId);
      expect(final.reduce((n, row) => n + row.n, 0)).toBe(150);
      expect(final.filter((row) => !isFinal(row.state as MessageState))).toEqual([]);
      // SIGTERM: both stop cleanly, including submit queues they may never have taken jobs from.
      expect(await Promise.all(pair.map((worker) => worker.stop()))).toEqual([0, 0]);
    } finally {
      await Promise.all(pair.map((worker) => worker.stop()));
      await sim.stop();
      await cleanupRedisPrefix(redis, otherPrefix);
    }
    // Stopped: its ports are free again (it, not a worker, held them).
    expect(await isPortFree(simPort)).toBe(true);
  }, 180_000);
});
