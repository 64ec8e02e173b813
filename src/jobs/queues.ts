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

/** Queues: compile, and one submit queue per carrier so that a slow carrier never holds up the others. */
export const QUEUE_NAMES = ['compile', ...CARRIER_IDS.map((id) => `submit-${id}` as const)] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function queueOf<N extends JobName>(name: N, payload: JobPayloads[N]): QueueName {
  return name === 'compile' ? 'compile' : `submit-${(payload as JobPayloads['submit']).carrier}`;
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
    await this.queue(queueOf(name, payload)).add(name, payload, {
      jobId: jobId(name, payload),
      priority: PRIORITY[options.priority ?? 'normal'],
      ...(delay > 0 ? { delay } : {}),
    });
  }

  async addBulk(jobs: ReadonlyArray<{ payload: JobPayloads['submit']; priority?: CampaignPriority }>): Promise<void> {
    const byQueue = new Map<QueueName, Array<Parameters<Queue['addBulk']>[0][number]>>();
    for (const { payload, priority } of jobs) {
      const queue = queueOf('submit', payload);
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
}

/**
 * The consumer side: one BullMQ Worker per queue, dispatching by job name to `handlers`.
 * Start-up fails when a job name has no handler, rather than jobs failing one by one later.
 */
export class JobWorkers {
  private readonly workers: Worker[] = [];
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

  start(queues: readonly QueueName[] = QUEUE_NAMES): void {
    const log = this.logger.child({ component: 'jobs' });
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
          concurrency: this.options.concurrency?.[name] ?? (name === 'compile' ? 1 : 4),
          // Long submit batches: BullMQ renews the lock meanwhile.
          lockDuration: 60_000,
        },
      );
      worker.on('failed', (job, error) => log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: error }, 'job failed'));
      worker.on('error', (error) => log.warn({ queue: name, err: error }, 'worker error'));
      this.workers.push(worker);
    }
  }

  /** Stops taking jobs; active handlers see their signal abort and finish (their rows go back to queued). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.workers.map((worker) => worker.close()));
    this.workers.length = 0;
  }
}
