import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { CARRIER_IDS, type CarrierId } from '../../src/domain/carrier.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { SmscSimulator, type SmscSimulatorOptions } from '../../src/sim/smsc-simulator.js';
import type { Store } from '../../src/store/db.js';
import type { MessageState } from '../../src/domain/message-state.js';
import { freePortRun, startServiceProcess, type ServiceProcess } from './processes.js';

/**
 * Recovery tests (issue 9, items 4, 6, 7): `loa serve --role worker` as real processes that a test
 * kills, stops or cuts off, sending to simulated SMSCs in the test process (so the test counts
 * what each SMSC accepted, per recipient, across worker restarts).
 */

const credentials = { systemId: 'loa-test', password: 'secret' };
// Free of vitest (unlike db.ts and engine.ts), so bench/recovery.bench.ts uses it too.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export interface RecoveryRig {
  sims: Record<CarrierId, SmscSimulator>;
  prefix: string;
  /** The test's own connection to the Redis the workers use. */
  redis: Redis;
  queues: JobQueues;
  window: number;
  binds: number;
  /** A worker process; `env` adds to (or overrides) the rig's environment. */
  startWorker(env?: Record<string, string>): ServiceProcess;
  /** Accepted submits over the three SMSCs. */
  accepted(): number;
  /** Recipients an SMSC accepted more than once. */
  duplicates(): number;
  /** Distinct recipients the SMSCs accepted. */
  recipients(): number;
  stop(): Promise<void>;
}

export async function startRecoveryRig(options: {
  databaseUrl: string;
  redisUrl?: string;
  window?: number;
  binds?: number;
  sim?: (carrier: CarrierId) => Partial<SmscSimulatorOptions>;
  env?: Record<string, string>;
}): Promise<RecoveryRig> {
  const window = options.window ?? 20;
  const binds = options.binds ?? 2;
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const sims = {} as Record<CarrierId, SmscSimulator>;
  for (const id of CARRIER_IDS) {
    sims[id] = new SmscSimulator({
      carrier: id,
      ...credentials,
      seed: Math.floor(Math.random() * 2 ** 31),
      messageIds: { submit: 'hex', receipt: 'dec' },
      receipts: { delayMs: { min: 1, max: 50 }, earlyProbability: 0 },
      ...options.sim?.(id),
    });
    await sims[id].listen();
  }
  const dir = mkdtempSync(join(tmpdir(), 'loa-recovery-'));
  const carriersFile = join(dir, 'carriers.yaml');
  writeFileSync(
    carriersFile,
    [
      'carriers:',
      ...CARRIER_IDS.map(
        (id) =>
          `  ${id}: { tps: 20000, window: ${window}, messageId: { submit: hex, receipt: dec }, binds: [{ host: 127.0.0.1, port: ${sims[id].port}, systemId: ${credentials.systemId}, password: ${credentials.password}, count: ${binds} }] }`,
      ),
    ].join('\n'),
  );
  const prefix = `loa-test:${randomBytes(4).toString('hex')}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = new JobQueues(redis, prefix);
  const workers: ServiceProcess[] = [];
  const all = (): SmscSimulator['submits'] => CARRIER_IDS.flatMap((id) => sims[id].submits);
  return {
    sims,
    prefix,
    redis,
    queues,
    window,
    binds,
    startWorker(env = {}) {
      const worker = startServiceProcess(['--role', 'worker'], {
        DATABASE_URL: options.databaseUrl,
        REDIS_URL: redisUrl,
        LOA_REDIS_PREFIX: prefix,
        LOA_CARRIERS: carriersFile,
        LOA_WORKER_LEASE_MS: '3000',
        LOA_RECONCILE_EVERY_MS: '1000',
        ...options.env,
        ...env,
      });
      workers.push(worker);
      return worker;
    },
    accepted: () => all().length,
    duplicates() {
      const seen = new Map<string, number>();
      for (const submit of all()) seen.set(submit.destination, (seen.get(submit.destination) ?? 0) + 1);
      return [...seen.values()].filter((n) => n > 1).length;
    },
    recipients: () => new Set(all().map((submit) => submit.destination)).size,
    async stop() {
      for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
      await queues.close();
      for (const id of CARRIER_IDS) await sims[id].close();
      await deleteKeys(redis, prefix).catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** The run's messages per state, from the rows themselves (not the counters). */
export async function statesOf(store: Store, runId: number): Promise<Partial<Record<MessageState, number>>> {
  const { rows } = await store.pool.query<{ state: MessageState; n: number }>('SELECT state, count(*)::int AS n FROM messages WHERE run_id = $1 GROUP BY state', [runId]);
  return Object.fromEntries(rows.map((row) => [row.state, row.n]));
}

export async function runState(store: Store, runId: number): Promise<string | undefined> {
  const { rows } = await store.pool.query<{ state: string }>('SELECT state FROM runs WHERE id = $1', [runId]);
  return rows[0]?.state;
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A redis-server of the test's own on a spare port, for tests that FLUSHALL (the machine's Redis is shared). */
export async function startOwnRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePortRun(1);
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    'redis-server',
    async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    },
    10_000,
    100,
  );
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
