import type { CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { CarrierReceipt, ReceiptSink } from '../smpp/bind-pool.js';
import type { ReceiptRepository, ReceiptResult } from '../store/receipt.repository.js';

export interface ReceiptWriterOptions {
  /** Receipts applied in one statement. */
  maxBatch?: number;
  /** Longest a receipt waits in memory before it is written (and so before it is acknowledged). */
  flushEveryMs?: number;
}

export interface UnreadableReceipt {
  carrier: CarrierId;
  raw: string;
  reason: string;
  receivedAt: Date;
}

interface Waiting<T> {
  item: T;
  durable(): void;
  lost(error: Error): void;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): this receipt is the problem, not the connection. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * Collects receipts from every bind of a process and applies them in batches (one call per
 * batch; unmatched receipts are parked, never dropped), every `flushEveryMs` or as soon as a
 * batch is full.
 *
 * `accept` and `unreadable` return a promise that resolves once the receipt is durable in
 * PostgreSQL; the bind pool sends deliver_sm_resp only then (DESIGN.md, Delivery semantics), so
 * a kill -9 loses nothing the SMSC thinks delivered. How much waits here is bounded by each
 * connection's unacknowledged limit (it stops reading its socket, LinkOptions.maxUnackedDeliveries).
 * When PostgreSQL is away the batch stays and is tried again; when PostgreSQL refuses a batch as
 * data, the batch is applied one receipt at a time so the one it refuses is kept as unreadable
 * and the rest go through.
 */
export class ReceiptWriter implements ReceiptSink {
  readonly totals: ReceiptResult & { unreadable: number } = { applied: 0, duplicates: 0, parked: 0, unreadable: 0 };
  private buffer: Array<Waiting<CarrierReceipt>> = [];
  private unreadableBuffer: Array<Waiting<UnreadableReceipt>> = [];
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly maxBatch: number;
  private failures = 0;

  constructor(
    private readonly messages: Pick<ReceiptRepository, 'applyReceipts' | 'recordUnreadableReceipts'>,
    private readonly logger: Logger,
    options: ReceiptWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.timer = setInterval(() => void this.flush(), options.flushEveryMs ?? 20);
    this.timer.unref();
  }

  /** Receipts in memory, not yet durable (nor acknowledged). */
  get pending(): number {
    return this.buffer.length + this.unreadableBuffer.length;
  }

  accept(receipt: CarrierReceipt): Promise<void> {
    const durable = this.wait(this.buffer, receipt);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    return durable;
  }

  unreadable(receipt: UnreadableReceipt): Promise<void> {
    // PostgreSQL text cannot hold NUL, and control bytes only hide what the SMSC sent.
    return this.wait(this.unreadableBuffer, { ...receipt, raw: printable(receipt.raw), reason: printable(receipt.reason) });
  }

  /** Writes everything buffered so far; concurrent calls share one write. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /**
   * Stops the timer and writes what is left, trying a few times if PostgreSQL is briefly away.
   * What still is not written is not lost: it was never acknowledged, so the SMSC sends it again.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 5 && this.pending > 0; attempt += 1) {
      await this.flush();
      if (this.pending > 0) await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
    }
    if (this.pending > 0) {
      this.logger.warn({ component: 'receipt-writer', unacknowledged: this.pending }, 'receipts not written at shutdown; left unacknowledged for the SMSC to resend');
      const error = new Error('receipt writer closed before the receipt was written');
      for (const waiting of [...this.buffer.splice(0), ...this.unreadableBuffer.splice(0)]) waiting.lost(error);
    }
  }

  private wait<T>(queue: Array<Waiting<T>>, item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => queue.push({ item, durable: resolve, lost: reject }));
  }

  private async drain(): Promise<void> {
    try {
      while (this.unreadableBuffer.length > 0) {
        const batch = this.unreadableBuffer.slice(0, this.maxBatch);
        try {
          await this.messages.recordUnreadableReceipts(batch.map((w) => w.item));
          this.totals.unreadable += batch.length;
        } catch (error) {
          if (!isDataError(error)) throw error;
          // Not even storable as text: the log is the last place it can go.
          this.logger.error({ component: 'receipt-writer', receipts: batch.map((w) => w.item), err: error }, 'unreadable receipts could not be stored');
        }
        this.unreadableBuffer.splice(0, batch.length);
        for (const waiting of batch) waiting.durable();
      }
      while (this.buffer.length > 0) {
        const batch = this.buffer.slice(0, this.maxBatch);
        try {
          this.count(await this.messages.applyReceipts(batch.map((w) => toUpdate(w.item))));
          this.buffer.splice(0, batch.length);
          for (const waiting of batch) waiting.durable();
        } catch (error) {
          if (!isDataError(error)) throw error;
          await this.applyOneByOne(batch);
        }
      }
      this.failures = 0;
    } catch (error) {
      // What was not written stays buffered, in order, for the next tick, and unacknowledged.
      this.failures += 1;
      if (this.failures === 1 || this.failures % 50 === 0) {
        this.logger.warn({ component: 'receipt-writer', err: error, pending: this.pending }, 'writing receipts failed; will retry');
      }
    }
  }

  /** Rare path: isolates the receipts PostgreSQL refuses; a connection error leaves the rest buffered. */
  private async applyOneByOne(batch: Array<Waiting<CarrierReceipt>>): Promise<void> {
    for (const waiting of batch) {
      const receipt = waiting.item;
      try {
        this.count(await this.messages.applyReceipts([toUpdate(receipt)]));
        this.buffer.shift();
        waiting.durable();
      } catch (error) {
        if (!isDataError(error)) throw error;
        const reason = `refused by PostgreSQL: ${(error as Error).message}`;
        this.logger.error({ component: 'receipt-writer', carrier: receipt.carrier, reason }, 'receipt kept as unreadable');
        this.buffer.shift();
        // Acknowledged once it is stored as unreadable.
        this.unreadable({ carrier: receipt.carrier, raw: receipt.raw || `id:${receipt.messageId}`, reason, receivedAt: new Date() }).then(
          () => waiting.durable(),
          (lost: Error) => waiting.lost(lost),
        );
      }
    }
  }

  private count(result: ReceiptResult): void {
    this.totals.applied += result.applied;
    this.totals.duplicates += result.duplicates;
    this.totals.parked += result.parked;
  }
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function toUpdate(r: CarrierReceipt) {
  return { carrier: r.carrier, smscMessageId: r.messageId, state: r.state, error: r.error, doneAt: r.doneAt, raw: r.raw, msisdn: r.msisdn ?? null };
}
