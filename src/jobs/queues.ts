/**
 * The one job registry (CONVENTIONS.md, Shape 5): every queue, job name and payload type of the
 * engine. Jobs carry ids only; the worker reloads what it needs, so a replayed job is harmless.
 * BullMQ refuses ':' in custom job ids, so ids read `run-7.compile`, `run-7.viettel.1001`.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { CampaignPriority } from '../store/database.js';
import type { RunLauncher } from './engine-contract.js';

export interface JobPayloads {
  /**
   * Resolve the run's audience into messages, chunk by chunk, and enqueue its submit batches. On a
   * run already compiled it enqueues the batches again (`resume`: after a pause, or to rebuild the
   * queues from PostgreSQL); the claim makes a batch enqueued twice harmless.
   */
  compile: { runId: number; resume?: number };
  /** Send the queued messages of one carrier in [fromId, toId] (a dense id range, see compile.repository.ts). */
  submit: { runId: number; carrier: CarrierId; fromId: number; toId: number; resume?: number };
}
export type JobName = keyof JobPayloads;
export const JOB_NAMES: readonly JobName[] = ['compile', 'submit'];

/**
 * Queues: compile, and one submit queue per carrier so that a slow carrier never holds up the
 * others; each in two lanes, normal and urgent. BullMQ's priority orders only the jobs still
 * waiting: once a 1 M-recipient normal run's batches hold every slot of a queue (concurrency), an
 * urgent job behind them would wait for one to finish (minutes). An urgent lane has slots of its
 * own, so an urgent job starts at once; the submit worker then makes the normal batches on that
 * carrier give way (submit.worker.ts, UrgentFirst).
 */
export const QUEUE_NAMES = [
  'compile',
  'compile-urgent',
  ...CARRIER_IDS.flatMap((id) => [`submit-${id}` as const, `submit-${id}-urgent` as const]),
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** The queue of a job: its kind and carrier, in the lane of its run's priority. */
export function queueOf<N extends JobName>(name: N, payload: JobPayloads[N], priority: CampaignPriority = 'normal'): QueueName {
  const lane = priority === 'urgent' ? '-urgent' : '';
  return (name === 'compile' ? `compile${lane}` : `submit-${(payload as JobPayloads['submit']).carrier}${lane}`) as QueueName;
}

/** The submit queues of a carrier, both lanes (a worker without a bind of it takes neither). */
export function submitQueuesOf(carrier: CarrierId): QueueName[] {
  return [`submit-${carrier}`, `submit-${carrier}-urgent`];
}

export function jobId<N extends JobName>(name: N, payload: JobPayloads[N]): string {
  if (name === 'compile') {
    const resume = (payload as JobPayloads['compile']).resume;
    return resume === undefined ? `run-${payload.runId}.compile` : `run-${payload.runId}.resume-${resume}`;
  }
  const submit = payload as JobPayloads['submit'];
  // A resumed run's batches get ids of their own: BullMQ keeps finished jobs a while and would
  // ignore a job added again under the same id.
  return `run-${submit.runId}.${submit.carrier}.${submit.fromId}-${submit.toId}${submit.resume === undefined ? '' : `.r${submit.resume}`}`;
}

/** BullMQ: a lower number is served first. Every job has one, so urgent runs overtake normal ones. */
export const PRIORITY: Readonly<Record<CampaignPriority, number>> = { urgent: 1, normal: 10 };

export interface EnqueueOptions {
  priority?: CampaignPriority;
  notBefore?: Date;
}

/** What a handler gets: the payload, and a signal that fires when the process stops taking work. */
export type JobHandler<N extends JobName> = (payload: JobPayloads[N], context: { job: Job; signal: AbortSignal }) => Promise<unknown>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

/**
 * The producer side: the API constructs it (RunLauncher), the engine uses it to enqueue batches.
 * Only a Redis connection is needed; `prefix` is the config's LOA_REDIS_PREFIX.
 */
export class JobQueues implements RunLauncher {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.redis,
        prefix: this.prefix,
        defaultJobOptions: {
          removeOnComplete: { age: 3600, count: 10_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
          attempts: 20,
          backoff: { type: 'exponential', delay: 1000 },
        },
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Idempotent per job id: adding a job whose id is still in the queue does nothing. */
  async add<N extends JobName>(name: N, payload: JobPayloads[N], options: EnqueueOptions = {}): Promise<void> {
    const delay = options.notBefore ? Math.max(0, options.notBefore.getTime() - Date.now()) : 0;
    await this.queue(queueOf(name, payload, options.priority)).add(name, payload, {
      jobId: jobId(name, payload),
      priority: PRIORITY[options.priority ?? 'normal'],
      ...(delay > 0 ? { delay } : {}),
    });
  }

  async addBulk(jobs: ReadonlyArray<{ payload: JobPayloads['submit']; priority?: CampaignPriority }>): Promise<void> {
    const byQueue = new Map<QueueName, Array<Parameters<Queue['addBulk']>[0][number]>>();
    for (const { payload, priority } of jobs) {
      const queue = queueOf('submit', payload, priority);
      const list = byQueue.get(queue) ?? [];
      list.push({ name: 'submit', data: payload, opts: { jobId: jobId('submit', payload), priority: PRIORITY[priority ?? 'normal'] } });
      byQueue.set(queue, list);
    }
    await Promise.all([...byQueue].map(([queue, list]) => this.queue(queue).addBulk(list)));
  }

  enqueueCompile(runId: number, options: { notBefore?: Date; priority?: CampaignPriority } = {}): Promise<void> {
    return this.add('compile', { runId }, options);
  }

  /**
   * Enqueues the submit batches of every message the run has compiled (and finishes its compile if
   * it stopped): call after moving a paused run back to `running`, or after Redis lost the queues.
   */
  resume(runId: number, options: { priority?: CampaignPriority } = {}): Promise<void> {
    return this.add('compile', { runId, resume: Date.now() }, options);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}

export interface WorkerOptions {
  /** Jobs processed at once per queue. */
  concurrency?: Partial<Record<QueueName, number>>;
  /**
   * How long a job's lock lasts without renewal (BullMQ renews it every half of this while the
   * job runs). A killed worker's jobs go back to waiting after this plus `stalledIntervalMs`, for
   * another worker to take: their claim makes a replay harmless.
   */
  lockDurationMs?: number;
  /** How often each worker looks for stalled jobs (locks that expired). */
  stalledIntervalMs?: number;
}

/** Default concurrency: compile one at a time per lane; four submit batches per carrier per lane. */
function defaultConcurrency(name: QueueName): number {
  return name.startsWith('compile') ? 1 : 4;
}

/**
 * The consumer side: one BullMQ Worker per queue, dispatching by job name to `handlers`.
 * Start-up fails when a job name has no handler, rather than jobs failing one by one later.
 */
export class JobWorkers {
  private readonly workers = new Map<QueueName, Worker>();
  /** Queues whose worker has been running (started, or resumed once): resume() must not start one twice. */
  private readonly started = new Set<QueueName>();
  private readonly abort = new AbortController();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly handlers: JobHandlers,
    private readonly logger: Logger,
    private readonly options: WorkerOptions = {},
  ) {
    const missing = JOB_NAMES.filter((name) => typeof (handlers as Partial<JobHandlers>)[name] !== 'function');
    if (missing.length > 0) throw new Error(`no handler for job(s): ${missing.join(', ')}`);
  }

  /** Starts taking jobs of `queues`; `paused` ones are made but take nothing until resume(). */
  start(queues: readonly QueueName[] = QUEUE_NAMES, paused: readonly QueueName[] = []): void {
    const log = this.logger.child({ component: 'jobs' });
    const lockDuration = this.options.lockDurationMs ?? 30_000;
    for (const name of queues) {
      const worker = new Worker(
        name,
        async (job: Job) => {
          const handler = this.handlers[job.name as JobName] as JobHandler<JobName> | undefined;
          if (!handler) throw new Error(`no handler for job ${job.name}`);
          return handler(job.data as JobPayloads[JobName], { job, signal: this.abort.signal });
        },
        {
          connection: this.redis,
          prefix: this.prefix,
          concurrency: this.options.concurrency?.[name] ?? defaultConcurrency(name),
          // Long submit batches: BullMQ renews the lock meanwhile.
          lockDuration,
          stalledInterval: this.options.stalledIntervalMs ?? lockDuration / 2,
          // A job of a killed worker comes back each time its worker dies; the claim makes that harmless.
          maxStalledCount: 10,
          autorun: !paused.includes(name),
        },
      );
      if (!paused.includes(name)) this.started.add(name);
      worker.on('failed', (job, error) => log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: error }, 'job failed'));
      worker.on('error', (error) => log.warn({ queue: name, err: error }, 'worker error'));
      this.workers.set(name, worker);
    }
  }

  /**
   * Stops taking new jobs from `queues` (the jobs running go on). A worker process holding no bind
   * lease of a carrier pauses that carrier's submit queues, so that its batches go to a process
   * that can send them instead of waiting here (bound-queues.ts).
   */
  pause(queues: readonly QueueName[]): void {
    for (const name of queues) {
      const worker = this.workers.get(name);
      if (worker && worker.isRunning() && !worker.isPaused()) worker.pause(true).catch(() => undefined);
    }
  }

  /** Takes jobs from `queues` again (or for the first time, for queues started paused). */
  resume(queues: readonly QueueName[]): void {
    if (this.abort.signal.aborted) return;
    for (const name of queues) {
      const worker = this.workers.get(name);
      // resume() also starts a worker made with autorun off; once is enough.
      if (worker && (worker.isPaused() || !this.started.has(name))) {
        this.started.add(name);
        worker.resume();
      }
    }
  }

  /** Stops taking jobs; active handlers see their signal abort and finish (their rows go back to queued). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.workers.values()].map((worker) => worker.close()));
    this.workers.clear();
  }
}
