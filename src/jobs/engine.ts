import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { BindPool } from '../smpp/bind-pool.js';
import { CompileRepository } from '../store/compile.repository.js';
import type { Store } from '../store/db.js';
import { MessageRepository } from '../store/message.repository.js';
import type { ReceiptRepository } from '../store/receipt.repository.js';
import { RunControlRepository } from '../store/run-control.repository.js';
import { RunCountRepository } from '../store/run-count.repository.js';
import { RunRepository } from '../store/run.repository.js';
import { ScreenRepository } from '../store/screen.repository.js';
import { WorkerLeaseRepository } from '../store/worker-lease.repository.js';
import { SUBMIT_QUEUES, takeSubmitJobsWhileLeased } from './bound-queues.js';
import { CompileWorker, type CompileWorkerOptions } from './compile.worker.js';
import type { LateResponseTracker, RunStatusReader } from './engine-contract.js';
import { JobQueues, JobWorkers, type WorkerOptions } from './queues.js';
import { RecoveryRepository } from '../store/recovery.repository.js';
import { Reconciler, type ReconcilerOptions } from './reconciler.js';
import { RedisSentinel } from './redis.js';
import { RunStatusService } from './run-status.js';
import { RunSweeper, type RunSweeperOptions } from './run-sweeper.js';
import { SubmitWorker, type SubmitWorkerOptions } from './submit.worker.js';

/** The api role's producer side: `launcher.enqueueCompile(runId, …)` after RunRepository.createIfAbsent. */
export function createRunLauncher(redis: Redis, config: Pick<Config, 'redisPrefix'>): JobQueues {
  return new JobQueues(redis, config.redisPrefix);
}

/** The api role's status reader (GET /v1/runs/:id, `loa status`). */
export function createRunStatusReader(store: Store, config: Pick<Config, 'carriers'>): RunStatusReader {
  return new RunStatusService({
    runs: new RunRepository(store.db),
    counts: new RunCountRepository(store.db),
    grantedTps: (carrier) => config.carriers[carrier].tps,
    plays: new ScreenRepository(store.db),
  });
}

export interface EngineOptions {
  compile?: CompileWorkerOptions;
  submit?: SubmitWorkerOptions;
  sweeper?: RunSweeperOptions;
  workers?: WorkerOptions;
  /** How long a worker lease lasts unrenewed (renewed every third of it): how soon a dead worker's rows are decided. */
  leaseMs?: number;
  reconciler?: ReconcilerOptions;
}

export interface Engine {
  readonly queues: JobQueues;
  readonly status: RunStatusReader;
  /** This process's worker lease (messages.claim of the rows it claims). */
  readonly leaseId: number;
  /** Rebuilds the queues from PostgreSQL: at start, periodically, and when Redis lost its data. */
  readonly reconciler: Reconciler;
  /** Stop taking jobs, let the window settle, return unsent rows to queued, end the lease. */
  stop(): Promise<void>;
}

/**
 * The worker role's engine: compile and submit workers on BullMQ, the completion sweeper and this
 * process's worker lease. The carrier binds (BindPools) are started and stopped by the caller.
 */
export async function startEngine(deps: {
  store: Store;
  redis: Redis;
  config: Pick<Config, 'redisPrefix' | 'carriers'>;
  pools: Readonly<Record<CarrierId, BindPool>>;
  /** Where submitted parts' SMSC ids go (the receipt lookup). */
  receipts: Pick<ReceiptRepository, 'markSubmitted' | 'receiptWindowMs'>;
  /** Told of every PDU that timed out, so a late submit_sm_resp still counts (CarrierBinds.lateResponses). */
  late: LateResponseTracker;
  logger: Logger;
  options?: EngineOptions;
}): Promise<Engine> {
  const { store, redis, config, logger, options = {} } = deps;
  const log = logger.child({ component: 'engine' });
  const runs = new RunRepository(store.db);
  const messages = new MessageRepository(store.db, store.pool);
  const counts = new RunCountRepository(store.db);
  const leases = new WorkerLeaseRepository(store.db);
  const leaseMs = options.leaseMs ?? 30_000;
  const leaseId = await leases.acquire(`${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`, leaseMs);
  const renew = setInterval(() => {
    void (async () => {
      if (await leases.renew(leaseId, leaseMs)) return;
      // Expired (renewals failed for a whole lease, e.g. PostgreSQL away that long): this process
      // lives, so the lease is taken up again; another worker's reconciler may have decided some
      // of its rows meanwhile (ambiguous), which is why the lease should outlast PostgreSQL restarts.
      await leases.revive(leaseId, leaseMs);
      log.error({ leaseId }, 'worker lease had expired and was taken up again; another worker may have decided some of its rows');
    })().catch((error: unknown) => log.warn({ err: error }, 'worker lease renewal failed'));
  }, leaseMs / 3);
  renew.unref();

  const queues = new JobQueues(redis, config.redisPrefix);
  const recovery = new RecoveryRepository(store.db);
  const compile = new CompileWorker({ runs, messages, compile: new CompileRepository(store.db), queues, logger }, options.compile);
  const submit = new SubmitWorker({ runs, messages, receipts: deps.receipts, pools: deps.pools, late: deps.late, claim: () => leaseId, recovery, logger }, options.submit);
  const workers = new JobWorkers(
    redis,
    config.redisPrefix,
    {
      compile: (payload, { signal }) => compile.process(payload, signal),
      submit: (payload, { signal }) => submit.process(payload, signal),
    },
    logger,
    options.workers,
  );
  // Several workers: a carrier's submit jobs go only to processes holding a bind lease of it (bound-queues.ts).
  workers.start(undefined, SUBMIT_QUEUES);
  const stopFollowingBinds = takeSubmitJobsWhileLeased(workers, deps.pools, logger);
  const sweeper = new RunSweeper({ runs, messages, counts, cancelled: new RunControlRepository(store.db), logger }, options.sweeper);
  sweeper.start();
  const status = new RunStatusService({ runs, counts, grantedTps: (carrier) => config.carriers[carrier].tps, plays: new ScreenRepository(store.db) });
  const reconciler = new Reconciler(
    {
      runs,
      counts,
      recovery,
      queues,
      sentinel: new RedisSentinel(redis, config.redisPrefix),
      ownClaim: leaseId,
      resolver: { recovery, receiptWindowMs: deps.receipts.receiptWindowMs },
      logger,
    },
    { ...options.reconciler, stalledAfterMs: options.reconciler?.stalledAfterMs ?? Math.max(60_000, leaseMs * 2) },
  );
  // Not awaited: with PostgreSQL or Redis away the worker still starts; the pass retries.
  void reconciler.start();
  log.info({ leaseId, leaseMs }, 'engine started');

  let stopping: Promise<void> | undefined;
  return {
    queues,
    status,
    leaseId,
    reconciler,
    stop: () =>
      (stopping ??= (async () => {
        await reconciler.stop();
        await sweeper.stop();
        stopFollowingBinds();
        // Active submit jobs see their signal abort: parts not yet sent come back unsent and are
        // requeued, parts in flight settle and are written, then the jobs end (and are retried later).
        await workers.stop();
        submit.dispose();
        clearInterval(renew);
        await leases.release(leaseId).catch((error: unknown) => log.warn({ err: error }, 'could not end the worker lease'));
        await queues.close();
      })()),
  };
}
