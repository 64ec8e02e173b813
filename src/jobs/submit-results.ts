import type { CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { PartOutcome } from '../smpp/submitter-types.js';
import type { MessageRepository } from '../store/message.repository.js';
import type { RunRepository } from '../store/run.repository.js';
import type { ReceiptRepository, SubmittedMessage } from '../store/receipt.repository.js';
import { CarrierFaultPause } from './carrier-fault-pause.js';
import type { LateResponseTracker } from './engine-contract.js';
import { retryWhileUnreachable } from './pg-outage.js';

/** The handle of one submitted part: which message row, which part of how many. */
export interface PartRef {
  messageId: number;
  part: number;
  parts: number;
}

/** The submit path's writes: messages for failed/ambiguous/requeued, the receipt lookup for submitted. */
export interface SubmitWrites {
  messages: Pick<MessageRepository, 'markFailed' | 'releaseSubmitting'>;
  receipts: Pick<ReceiptRepository, 'markSubmitted'>;
  /** Pauses the run on a carrier fault (no bind, SMSC failing): see carrier-fault-pause.ts. */
  runs?: Pick<RunRepository, 'setState'>;
}

interface Pending {
  outcomes: Array<PartOutcome | undefined>;
  settled: number;
}

export interface ResultTotals {
  submitted: number;
  failed: number;
  ambiguous: number;
  requeued: number;
}

/**
 * Submit outcomes → PostgreSQL in sets. Parts are gathered per message; once every part of a
 * message has its outcome the message's fate is decided, and the decided messages are written
 * every `flushEveryMs` (or `maxBatch`) with one statement per kind, the kinds in parallel on
 * their own connections (they touch disjoint rows):
 * - every submitted part's SMSC id → markSubmitted (a message is `submitted` only once each of
 *   its parts has an id; a part that did go out keeps its segment for its receipt);
 * - any part ambiguous → `ambiguous` (and the receipt path is told which PDU may answer late);
 * - else any part failed → `failed`, the SMPP status in submit_status;
 * - else any part unsent → back to `queued` with its part count reset (it is sent again whole).
 */
export class SubmitResultWriter {
  readonly totals: ResultTotals = { submitted: 0, failed: 0, ambiguous: 0, requeued: 0 };
  private readonly pending = new Map<number, Pending>();
  private submitted: SubmittedMessage[] = [];
  private failed: Array<{ id: number; submitStatus: number }> = [];
  private ambiguous: number[] = [];
  private requeue: number[] = [];
  /** Messages decided since the last flush (each leaves `submitting` with that flush's writes). */
  private decided = 0;
  private writing: Promise<void> = Promise.resolve();
  private error: unknown;
  private readonly timer: NodeJS.Timeout;
  private readonly maxBatch: number;
  private readonly onDecided: (messages: number) => void;
  private readonly onWritten: (messages: number) => void;
  private readonly pressure: () => boolean;
  private busy = false;
  private again = false;
  private readonly faults: CarrierFaultPause | null;

  constructor(
    private readonly runId: number,
    private readonly carrier: CarrierId,
    private readonly writes: SubmitWrites,
    private readonly late: LateResponseTracker,
    private readonly logger: Logger,
    options: {
      flushEveryMs?: number;
      maxBatch?: number;
      /** Told of each message once every part of it has its outcome (before its write). */
      onDecided?: (messages: number) => void;
      /** Told how many messages left `submitting` once a flush's writes have committed (or failed). */
      onWritten?: (messages: number) => void;
      /** True while a claim waits for room: then each decided message is written without waiting for the tick. */
      pressure?: () => boolean;
    } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.onDecided = options.onDecided ?? (() => undefined);
    this.onWritten = options.onWritten ?? (() => undefined);
    this.pressure = options.pressure ?? (() => false);
    this.faults = writes.runs ? new CarrierFaultPause(runId, carrier, writes.runs, logger) : null;
    this.timer = setInterval(() => this.flush(), options.flushEveryMs ?? 50);
    this.timer.unref();
  }

  /** Messages claimed whose parts have not all settled yet. */
  get unsettled(): number {
    return this.pending.size;
  }

  add(ref: PartRef, outcome: PartOutcome): void {
    let pending = this.pending.get(ref.messageId);
    if (!pending) {
      pending = { outcomes: new Array<PartOutcome | undefined>(ref.parts), settled: 0 };
      this.pending.set(ref.messageId, pending);
    }
    if (pending.outcomes[ref.part - 1] === undefined) pending.settled += 1;
    pending.outcomes[ref.part - 1] = outcome;
    this.faults?.onOutcome(outcome);
    if (outcome.outcome === 'ambiguous' && outcome.late) {
      this.late.expect(this.carrier, outcome.late, { runId: this.runId, messageId: ref.messageId, part: ref.part });
    }
    if (pending.settled < ref.parts) return;
    this.pending.delete(ref.messageId);
    this.decide(ref.messageId, pending.outcomes as PartOutcome[]);
    if (this.queued() >= this.maxBatch || this.pressure()) void this.flush();
  }

  /** Claimed messages that will get no (more) outcomes: back to queued (nothing of them left). */
  abandon(): number[] {
    const ids = [...this.pending.keys()];
    for (const id of ids) {
      const outcomes = this.pending.get(id)!.outcomes;
      this.pending.delete(id);
      this.decide(id, Array.from(outcomes, (o) => o ?? { outcome: 'unsent', ok: false, ambiguous: false, reason: 'aborted', attempts: 0 }));
    }
    return ids;
  }

  private decide(id: number, outcomes: PartOutcome[]): void {
    this.decided += 1;
    this.onDecided(1);
    const ids: string[] = [];
    let firstPart = 0;
    outcomes.forEach((outcome, index) => {
      if (outcome.outcome !== 'submitted') return;
      // markSubmitted takes consecutive parts from firstPart; a gap starts another entry.
      if (ids.length > 0 && firstPart + ids.length !== index + 1) {
        this.submitted.push({ id, smscMessageIds: ids.splice(0), firstPart });
      }
      if (ids.length === 0) firstPart = index + 1;
      ids.push(outcome.messageId);
    });
    if (ids.length > 0) this.submitted.push({ id, smscMessageIds: ids, firstPart });
    if (outcomes.some((o) => o.outcome === 'ambiguous')) {
      this.ambiguous.push(id);
      this.totals.ambiguous += 1;
      return;
    }
    const failed = outcomes.find((o) => o.outcome === 'failed');
    if (failed?.outcome === 'failed') {
      this.failed.push({ id, submitStatus: failed.status });
      this.totals.failed += 1;
      return;
    }
    if (outcomes.some((o) => o.outcome === 'unsent')) {
      this.requeue.push(id);
      this.totals.requeued += 1;
      return;
    }
    this.totals.submitted += 1;
  }

  private queued(): number {
    return this.submitted.length + this.failed.length + this.ambiguous.length + this.requeue.length;
  }

  /**
   * Starts writing what is decided; while a write is in progress, what is decided meanwhile is
   * written as one set right after it (calls coalesce). Resolves when both are done.
   */
  flush(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return this.writing;
    }
    if (!this.hasWork()) return Promise.resolve();
    this.busy = true;
    this.writing = (async () => {
      try {
        do {
          this.again = false;
          await this.writeOnce();
        } while (this.again && this.hasWork());
      } finally {
        this.busy = false;
      }
    })();
    return this.writing;
  }

  private hasWork(): boolean {
    return this.queued() > 0 || this.decided > 0;
  }

  private async writeOnce(): Promise<void> {
    const decided = this.decided;
    this.decided = 0;
    const submitted = this.submitted.splice(0);
    const failed = this.failed.splice(0);
    const ambiguous = this.ambiguous.splice(0);
    const requeue = this.requeue.splice(0);
    if (this.error !== undefined) {
      this.onWritten(decided);
      return;
    }
    try {
      // Any order is right: each statement moves a message only out of `submitting`, and a
      // part that went out keeps its segment (so its receipt matches) whatever its message became.
      // Each is idempotent, so while PostgreSQL is away the results are held and written again.
      await retryWhileUnreachable(this.logger, 'submit results', () =>
        Promise.all([
          submitted.length > 0 ? this.writes.receipts.markSubmitted(this.runId, this.carrier, submitted) : undefined,
          this.writes.messages.markFailed(this.runId, failed),
          ambiguous.length > 0 ? this.writes.messages.releaseSubmitting(this.runId, 'ambiguous', ambiguous) : 0,
          requeue.length > 0 ? this.writes.messages.releaseSubmitting(this.runId, 'queued', requeue) : 0,
        ]),
      );
    } catch (error) {
      // The rows stay `submitting` under this worker's claim: a reconciler decides them.
      this.error = error;
      this.logger.error({ component: 'submit-results', runId: this.runId, carrier: this.carrier, err: error }, 'writing submit results failed');
    } finally {
      // After a failed write the rows stay `submitting` under this worker's lease for the
      // reconciler; they are no longer this process's live work, so they leave its bound.
      this.onWritten(decided);
    }
  }

  /** Writes everything decided; rejects if any write failed. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.flush(), this.faults?.settled()]);
    if (this.error !== undefined) throw this.error;
  }
}
