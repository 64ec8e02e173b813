import type { CarrierId } from '../domain/carrier.js';
import { normalizeMessageId } from '../domain/receipt.js';
import type { Logger } from '../logger.js';
import type { BindPool } from '../smpp/bind-pool.js';
import type { LateResponse } from '../smpp/session.js';
import type { LateSubmitted, ReceiptRepository } from '../store/receipt.repository.js';
import type { LateResponseTracker } from './engine-contract.js';

type Ref = { runId: number; messageId: number; part: number };

export interface LateResponsesOptions {
  /** How long a timed-out PDU (or a late response nobody expected yet) is remembered; the link keeps sequences 2 min. */
  ttlMs?: number;
  /** How often recorded late responses are written (and retried while PostgreSQL is away). */
  flushEveryMs?: number;
}

/**
 * The receipt path's half of a submit_sm_resp that came after its time-out (engine-contract.ts):
 * the submit path says which message a timed-out PDU was (`expect`), each carrier's BindPool
 * reports the late answer ('late-response'), and with status 0 the message goes from
 * `ambiguous` to `submitted` with that SMSC id (ReceiptRepository.markLateSubmitted), so its
 * receipt applies — a receipt parked meanwhile is matched by the next parked sweep.
 * An answer that comes before its `expect` waits for it as long as an expectation would.
 */
export class LateResponses implements LateResponseTracker {
  private readonly expected = new Map<string, { ref: Ref; until: number }>();
  private readonly unexpected = new Map<string, { late: LateResponse; until: number }>();
  private readonly formats = new Map<CarrierId, BindPool['messageIdFormats']['submit']>();
  private pending: Array<LateSubmitted & { carrier: CarrierId }> = [];
  private writing: Promise<void> | null = null;
  private readonly ttlMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly logger: Logger;
  /** Late responses turned into `submitted` segments, and refusals seen (for tests and metrics). */
  readonly totals = { recorded: 0, refused: 0, unmatched: 0 };

  constructor(
    private readonly receipts: Pick<ReceiptRepository, 'markLateSubmitted'>,
    logger: Logger,
    options: LateResponsesOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 120_000;
    this.logger = logger.child({ component: 'late-responses' });
    this.timer = setInterval(() => {
      this.forgetExpired();
      void this.flush();
    }, options.flushEveryMs ?? 200);
    this.timer.unref();
  }

  /** Listens to `pool`'s late responses. */
  attach(pool: BindPool): void {
    this.formats.set(pool.carrierId, pool.messageIdFormats.submit);
    pool.on('late-response', (_session, late) => this.onLateResponse(pool.carrierId, late));
  }

  expect(carrier: CarrierId, late: { connection: number; sequence: number }, ref: Ref): void {
    const key = keyOf(carrier, late);
    const early = this.unexpected.get(key);
    if (early) {
      this.unexpected.delete(key);
      this.resolve(carrier, early.late, ref);
      return;
    }
    this.expected.set(key, { ref: { runId: ref.runId, messageId: ref.messageId, part: ref.part }, until: performance.now() + this.ttlMs });
  }

  /** Writes the late responses recorded so far; concurrent calls share one write. */
  flush(): Promise<void> {
    this.writing ??= this.write().finally(() => {
      this.writing = null;
    });
    return this.writing;
  }

  /** Stops the timer and writes what is left (once). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.pending.length > 0) this.logger.warn({ left: this.pending.length }, 'late responses not written at shutdown; those messages stay ambiguous');
  }

  private onLateResponse(carrier: CarrierId, late: LateResponse): void {
    const key = keyOf(carrier, late);
    const entry = this.expected.get(key);
    if (!entry) {
      this.unexpected.set(key, { late, until: performance.now() + this.ttlMs });
      return;
    }
    this.expected.delete(key);
    this.resolve(carrier, late, entry.ref);
  }

  private resolve(carrier: CarrierId, late: LateResponse, ref: Ref): void {
    if (late.status !== 0 || late.messageId === null) {
      // The SMSC refused it after all: it was not sent, and the row stays ambiguous for the
      // reconciler's policy rather than being guessed at here.
      this.totals.refused += 1;
      this.logger.info({ carrier, runId: ref.runId, messageId: ref.messageId, status: late.status }, 'late submit_sm_resp refused the message');
      return;
    }
    const smscMessageId = normalizeMessageId(late.messageId, this.formats.get(carrier) ?? 'hex');
    this.pending.push({ carrier, runId: ref.runId, messageId: ref.messageId, part: ref.part, smscMessageId });
    void this.flush();
  }

  private async write(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, 1000);
      const byCarrier = new Map<CarrierId, LateSubmitted[]>();
      for (const entry of batch) byCarrier.set(entry.carrier, [...(byCarrier.get(entry.carrier) ?? []), entry]);
      try {
        for (const [carrier, entries] of byCarrier) {
          const result = await this.receipts.markLateSubmitted(carrier, entries);
          this.totals.recorded += result.segments;
          this.logger.info({ carrier, late: entries.length, submitted: result.submitted }, 'late submit_sm_resp recorded');
        }
        // markLateSubmitted is idempotent (a replayed segment is a no-op): a partial batch is simply written again.
        this.pending.splice(0, batch.length);
      } catch (error) {
        this.logger.warn({ err: error, pending: this.pending.length }, 'recording late responses failed; will retry');
        return;
      }
    }
  }

  private forgetExpired(): void {
    const now = performance.now();
    for (const [key, entry] of this.expected) if (entry.until <= now) this.expected.delete(key);
    for (const [key, entry] of this.unexpected) {
      if (entry.until > now) continue;
      this.unexpected.delete(key);
      this.totals.unmatched += 1;
      this.logger.warn({ key }, 'late submit_sm_resp for a PDU nobody reported as timed out');
    }
  }
}

function keyOf(carrier: CarrierId, late: { connection: number; sequence: number }): string {
  return `${carrier}:${late.connection}:${late.sequence}`;
}
