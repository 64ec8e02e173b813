import type { Logger } from '../logger.js';
import type { CarrierReceipt, ReceiptSink } from '../smpp/bind-pool.js';
import type { MessageRepository, ReceiptResult } from '../store/message.repository.js';

export interface ReceiptWriterOptions {
  /** Receipts applied in one statement. */
  maxBatch?: number;
  /** Longest a receipt waits in memory before it is written. */
  flushEveryMs?: number;
}

/**
 * Collects receipts from every bind of a process and applies them in batches
 * (one set-based statement per batch; unmatched receipts are parked, never dropped).
 *
 * deliver_sm_resp goes out before a receipt is written (an SMSC redelivers otherwise), so a
 * receipt is at risk only while it sits here: at most `flushEveryMs`. A failed write keeps the
 * batch and tries again; losing a receipt leaves its message `submitted`, which becomes `unknown`
 * at the end of its validity: counted, never silently delivered.
 */
export class ReceiptWriter implements ReceiptSink {
  readonly totals: ReceiptResult = { applied: 0, duplicates: 0, parked: 0 };
  private buffer: CarrierReceipt[] = [];
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly maxBatch: number;
  private failures = 0;

  constructor(
    private readonly messages: Pick<MessageRepository, 'applyReceipts'>,
    private readonly logger: Logger,
    options: ReceiptWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.timer = setInterval(() => void this.flush(), options.flushEveryMs ?? 100);
    this.timer.unref();
  }

  get pending(): number {
    return this.buffer.length;
  }

  accept(receipt: CarrierReceipt): void {
    this.buffer.push(receipt);
    if (this.buffer.length >= this.maxBatch) void this.flush();
  }

  /** Writes everything buffered so far; concurrent calls share one write. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left, trying a few times if PostgreSQL is briefly away. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 5 && this.buffer.length > 0; attempt += 1) {
      await this.flush();
      if (this.buffer.length > 0) await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
    }
    if (this.buffer.length > 0) this.logger.error({ component: 'receipt-writer', lost: this.buffer.length }, 'receipts not written at shutdown');
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      try {
        const result = await this.messages.applyReceipts(
          batch.map((r) => ({ carrier: r.carrier, smscMessageId: r.messageId, state: r.state, error: r.error, doneAt: r.doneAt, raw: r.raw })),
        );
        this.totals.applied += result.applied;
        this.totals.duplicates += result.duplicates;
        this.totals.parked += result.parked;
        this.failures = 0;
      } catch (error) {
        // Put the batch back in front and leave the retry to the next tick.
        this.buffer.unshift(...batch);
        this.failures += 1;
        if (this.failures === 1 || this.failures % 50 === 0) {
          this.logger.warn({ component: 'receipt-writer', err: error, pending: this.buffer.length }, 'writing receipts failed; will retry');
        }
        return;
      }
    }
  }
}
