import type { Logger } from '../logger.js';
import type { RecoveryRepository } from '../store/recovery.repository.js';
import type { RunCountRepository } from '../store/run-count.repository.js';
import type { RunRepository } from '../store/run.repository.js';
import type { Run, RunState } from '../store/database.js';
import type { JobQueues } from './queues.js';
import type { RedisSentinel } from './redis.js';

export interface ReconcilerOptions {
  /** How often orphaned `submitting` rows are decided and stalled runs looked for (LOA_RECONCILE_EVERY_MS). */
  intervalMs?: number;
  /** How often Redis is checked for lost data (the sentinel key). */
  sentinelEveryMs?: number;
  /** A running run with queued messages whose queued count has not moved for this long gets its batches again. */
  stalledAfterMs?: number;
  /**
   * A run where a pass resolved no ambiguous message by its receipts is looked at again when its
   * ambiguous count changes, or after this long (receipts keep coming; a number another message
   * awaited a receipt for may be free by then). Default: four reconcile intervals.
   */
  resolveRetryMs?: number;
}

/** Why a pass runs: at start and after Redis lost its data every active run's jobs are enqueued again. */
export type ReconcileReason = 'start' | 'redis-lost' | 'periodic';

export interface ReconcileResult {
  /** Orphaned rows → ambiguous, per run. */
  ambiguous: number;
  /** Orphaned rows → queued (campaigns with resendAmbiguous). */
  requeued: number;
  /** Runs whose jobs were enqueued again. */
  rebuilt: number[];
  /** Ambiguous messages resolved by their receipts (RecoveryRepository.resolveAmbiguous). */
  resolved?: number;
}

const ACTIVE: readonly RunState[] = ['scheduled', 'compiling', 'running', 'paused'];
/** How long after a run was cancelled (or failed) its orphaned rows are still looked for: longer than any lease. */
const ENDED_WITHIN_MS = 24 * 3_600_000;

/**
 * Keeps the queues in Redis true to PostgreSQL (issue 9, item 4; DESIGN.md "Redis holds only work
 * in flight"). Each pass, for every active run:
 * - `submitting` rows whose claim names no live worker lease (RecoveryRepository) become
 *   `ambiguous` — the PDU may have left, so by default they are not sent again — or `queued` when
 *   the campaign says `resendAmbiguous: true`. A live worker's rows are never touched.
 * - the run's jobs are enqueued again (compile `resume`, which re-adds every batch) at start, when
 *   Redis lost its data, when orphans went back to queued, or when its queued count has not moved
 *   for `stalledAfterMs` (a job BullMQ gave up on). A batch enqueued twice is harmless: the claim
 *   is the guard, so a queued row is sent exactly once whichever job claims it.
 * Several processes may reconcile at once: each step is one guarded statement or an extra job.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private sentinelTimer: NodeJS.Timeout | null = null;
  private running: Promise<ReconcileResult> | null = null;
  /** A pass asked for while one runs (e.g. Redis lost during a periodic pass) runs after it. */
  private pendingReason: ReconcileReason | null = null;
  private checkingRedis = false;
  private readonly progress = new Map<number, { queued: number; since: number }>();
  private readonly resend = new Map<number, boolean>();
  /** Per run, its ambiguous count at the last pass that resolved none of them, and when. */
  private readonly resolveTried = new Map<number, { ambiguous: number; at: number }>();
  private readonly logger: Logger;

  constructor(
    private readonly deps: {
      runs: Pick<RunRepository, 'listByState' | 'getWithVersion'>;
      counts: Pick<RunCountRepository, 'byCarrierAndState'>;
      recovery: Pick<RecoveryRepository, 'releaseOrphaned' | 'recentlyEnded'>;
      queues: Pick<JobQueues, 'resume' | 'enqueueCompile'>;
      sentinel: Pick<RedisSentinel, 'plant'>;
      /** Resolves ambiguous messages by their parked receipts; absent, they stay ambiguous. */
      resolver?: { recovery: Pick<RecoveryRepository, 'resolveAmbiguous' | 'runsWithAmbiguous'>; receiptWindowMs: number };
      /** This process's own lease: its rows are live work even while the lease looks expired (PostgreSQL was away). */
      ownClaim?: number;
      logger: Logger;
    },
    private readonly options: ReconcilerOptions = {},
  ) {
    this.logger = deps.logger.child({ component: 'reconciler' });
  }

  /** Plants the sentinel, rebuilds the queues of active runs once, then keeps watching. */
  async start(): Promise<void> {
    this.timer ??= setInterval(() => void this.reconcile('periodic'), this.options.intervalMs ?? 15_000);
    this.sentinelTimer ??= setInterval(() => void this.checkRedis(), this.options.sentinelEveryMs ?? 1_000);
    await this.deps.sentinel.plant().catch((error: unknown) => this.logger.warn({ err: error }, 'could not check Redis for lost data'));
    if (this.timer) await this.reconcile('start'); // unless stopped meanwhile
  }

  async stop(): Promise<void> {
    for (const timer of [this.timer, this.sentinelTimer]) if (timer) clearInterval(timer);
    this.timer = this.sentinelTimer = null;
    this.pendingReason = null;
    await this.running?.catch(() => undefined);
  }

  /** One pass; a start or Redis-lost call during a pass runs once more after it. */
  reconcile(reason: ReconcileReason): Promise<ReconcileResult> {
    if (this.running) {
      if (reason !== 'periodic') this.pendingReason = reason;
      return this.running;
    }
    const pass = this.pass(reason).catch((error: unknown) => {
      // PostgreSQL or Redis away: the next pass retries; a lost Redis is noticed again by the sentinel.
      this.logger.warn({ err: error, reason }, 'reconcile failed; next pass retries');
      if (reason !== 'periodic') this.pendingReason ??= reason;
      return { ambiguous: 0, requeued: 0, rebuilt: [] };
    });
    this.running = pass.finally(() => {
      this.running = null;
      const next = this.pendingReason;
      this.pendingReason = null;
      // After a failed start or Redis-lost pass, again soon rather than at the next period.
      if (next && this.timer) setTimeout(() => void this.reconcile(next), 1_000).unref();
    });
    return this.running;
  }

  private async checkRedis(): Promise<void> {
    // While Redis is away a command waits for the reconnection (BullMQ's connection retries for
    // ever): one check at a time, not one more queued every tick.
    if (this.checkingRedis) return;
    this.checkingRedis = true;
    let lost: boolean;
    try {
      lost = await this.deps.sentinel.plant();
    } catch {
      return; // Redis unreachable: nothing to conclude until it answers.
    } finally {
      this.checkingRedis = false;
    }
    if (!lost) return;
    this.logger.warn('Redis has lost its data (sentinel key gone): rebuilding the queues of active runs from PostgreSQL');
    await this.reconcile('redis-lost');
  }

  private async pass(reason: ReconcileReason): Promise<ReconcileResult> {
    const result: ReconcileResult = { ambiguous: 0, requeued: 0, rebuilt: [] };
    const runs = await this.deps.runs.listByState(ACTIVE);
    const rebuildAll = reason !== 'periodic';
    for (const id of [...this.progress.keys()]) if (!runs.some((run) => run.id === id)) this.progress.delete(id);
    for (const run of runs) {
      const counts = await this.deps.counts.byCarrierAndState(run.id);
      const inState = (state: string): number => counts.reduce((sum, row) => sum + (row.state === state ? Number(row.count) : 0), 0);
      const requeued = inState('submitting') > 0 ? await this.releaseOrphaned(run.id, result) : 0;
      if (await this.rebuild(run, { all: rebuildAll, requeued, queued: inState('queued') })) result.rebuilt.push(run.id);
    }
    // A cancelled run sends nothing more, but its last window may have been with a worker that died.
    for (const run of await this.deps.recovery.recentlyEnded(ENDED_WITHIN_MS)) {
      const counts = await this.deps.counts.byCarrierAndState(run.id);
      if (counts.some((row) => row.state === 'submitting' && Number(row.count) > 0)) await this.releaseOrphaned(run.id, result, 'ambiguous');
    }
    await this.resolveAmbiguous(result);
    if (result.rebuilt.length > 0 || result.ambiguous > 0 || (result.resolved ?? 0) > 0 || reason !== 'periodic') {
      this.logger.info({ reason, ...result, runs: runs.length }, 'reconciled');
    }
    return result;
  }

  /** The run's orphaned `submitting` rows → ambiguous (or queued, per the campaign); returns how many were requeued. */
  private async releaseOrphaned(runId: number, result: ReconcileResult, force?: 'ambiguous'): Promise<number> {
    const to = force ?? ((await this.resendAmbiguous(runId)) ? 'queued' : 'ambiguous');
    const moved = await this.deps.recovery.releaseOrphaned(runId, to, this.deps.ownClaim);
    if (moved === 0) return 0;
    this.logger.warn({ runId, messages: moved, to }, `messages left submitting by a worker that is gone → ${to}`);
    if (to === 'ambiguous') {
      result.ambiguous += moved;
      return 0;
    }
    result.requeued += moved;
    return moved;
  }

  /**
   * Ambiguous messages whose receipt came anyway: the SMSC accepted them, and the receipt (parked,
   * its SMSC id never stored) names the handset. After a pass that resolved nothing, a run is
   * tried again only when its ambiguous count moved or `resolveRetryMs` passed, so leftovers no
   * receipt can resolve cost little.
   */
  private async resolveAmbiguous(result: ReconcileResult): Promise<void> {
    const resolver = this.deps.resolver;
    if (!resolver) return;
    const now = Date.now();
    const runs = await resolver.recovery.runsWithAmbiguous(ENDED_WITHIN_MS);
    for (const id of [...this.resolveTried.keys()]) if (!runs.some((run) => run.id === id)) this.resolveTried.delete(id);
    const retryMs = this.options.resolveRetryMs ?? 4 * (this.options.intervalMs ?? 15_000);
    for (const run of runs) {
      const tried = this.resolveTried.get(run.id);
      if (tried && tried.ambiguous === run.ambiguous && now - tried.at < retryMs) continue;
      const resolved = await resolver.recovery.resolveAmbiguous(run.id, resolver.receiptWindowMs);
      if (resolved.messages === 0) {
        this.resolveTried.set(run.id, { ambiguous: run.ambiguous, at: now });
        continue;
      }
      this.resolveTried.delete(run.id);
      result.resolved = (result.resolved ?? 0) + resolved.messages;
      this.logger.info({ runId: run.id, messages: resolved.messages, receipts: resolved.receipts }, 'ambiguous messages resolved by their receipts');
    }
  }

  /** Enqueues the run's jobs again when they may be missing from Redis. True when it did. */
  private async rebuild(run: Run, facts: { all: boolean; requeued: number; queued: number }): Promise<boolean> {
    const options = { priority: run.priority };
    if (run.state === 'scheduled') {
      if (!facts.all) return false;
      // Lost with Redis, or never enqueued (a crash between creating the run and enqueueing):
      // the compile job is idempotent per run, and waits for the run's time.
      await this.deps.queues.enqueueCompile(run.id, { ...options, notBefore: run.scheduled_for });
      return true;
    }
    if (run.state === 'paused') return false; // resuming enqueues its batches again (RunControlService)
    const now = Date.now();
    const seen = this.progress.get(run.id);
    let stalled = false;
    if (!seen || seen.queued !== facts.queued || facts.queued === 0) {
      this.progress.set(run.id, { queued: facts.queued, since: now });
    } else if (now - seen.since >= (this.options.stalledAfterMs ?? 60_000)) {
      stalled = true;
      this.progress.set(run.id, { queued: facts.queued, since: now });
      this.logger.warn({ runId: run.id, queued: facts.queued }, 'run has queued messages and made no progress; enqueueing its batches again');
    }
    if (!facts.all && facts.requeued === 0 && !stalled) return false;
    await this.deps.queues.resume(run.id, options);
    return true;
  }

  /** The campaign's `resendAmbiguous` (default false: a message that may have left is not sent again). */
  private async resendAmbiguous(runId: number): Promise<boolean> {
    let resend = this.resend.get(runId);
    if (resend === undefined) {
      const loaded = await this.deps.runs.getWithVersion(runId);
      resend = (loaded?.document as { resendAmbiguous?: unknown } | undefined)?.resendAmbiguous === true;
      if (this.resend.size >= 256) this.resend.delete(this.resend.keys().next().value!);
      this.resend.set(runId, resend);
    }
    return resend;
  }
}
