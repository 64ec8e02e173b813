import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { RECEIPT_STATES, type ReceiptUpdate } from './receipt-plan.js';

export type { ReceiptUpdate } from './receipt-plan.js';

/** The SMSC message ids of one message's segments, `firstPart` (default 1) onwards. */
export interface SubmittedMessage {
  id: number;
  smscMessageIds: readonly string[];
  firstPart?: number;
}

export interface SubmittedResult {
  /** Segments stored (a replayed id is not stored again). */
  segments: number;
  /** Messages that moved to `submitted` (every part has its id). */
  submitted: number;
  /** Ids isolated in segment_conflicts (empty, or given to two segments in the batch). */
  conflicts: number;
}

/** A submit_sm_resp that came after its time-out (LateResponseTracker). */
export interface LateSubmitted {
  runId: number;
  messageId: number;
  part: number;
  smscMessageId: string;
}

export interface ReceiptResult {
  /** Receipts that changed a segment (and so possibly its message). */
  applied: number;
  /** Receipts for segments that already had this final receipt: ignored. */
  duplicates: number;
  /** Receipts with no segment yet (or none that could take them): stored in parked_receipts. */
  parked: number;
}

export interface ReceiptRepositoryOptions {
  /**
   * How far back a receipt looks for its segment, and how long a receipt stays parked before it
   * is kept as unmatched: longer than any campaign validity plus the SMSC's retries. Segments
   * older than this can no longer take a receipt (an SMSC id reused later never reaches them).
   */
  receiptWindowMs?: number;
  logger?: Logger;
}

export const DEFAULT_RECEIPT_WINDOW_MS = 7 * 24 * 3600 * 1000;

/**
 * The receipt path of the store (0004_receipts.sql): SMSC ids from submit_sm_resp
 * (message_segments, by day), receipts matched on (carrier, SMSC id) to the newest segment
 * within the receipt window, parked receipts and their sweep, and receipts nobody could read.
 * Each batch is one call of a plan-proof database function: one round trip, its own transaction.
 */
export class ReceiptRepository {
  readonly receiptWindowMs: number;
  private readonly logger: Logger | undefined;
  /** Where the parked sweep goes on from (it walks parked_receipts in id order, in chunks). */
  private parkedCursor = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
    options: ReceiptRepositoryOptions = {},
  ) {
    this.receiptWindowMs = options.receiptWindowMs ?? DEFAULT_RECEIPT_WINDOW_MS;
    this.logger = options.logger?.child({ component: 'receipt-repository' });
  }

  private get window(): string {
    return `${Math.round(this.receiptWindowMs)} milliseconds`;
  }

  /**
   * Records the SMSC message ids of submit_sm_resp: one message_segments row per segment (the
   * receipt lookup) and, in the same statement, submitting → submitted once every segment of a
   * message has its id. Replaying the same ids is a no-op. An id the SMSC gives again later is
   * a new segment: receipts then go to the newest one. An empty id, or one given to two segments
   * of this batch, is isolated in segment_conflicts (and logged), never merged: the message
   * still counts as submitted, but no receipt can reach it.
   */
  async markSubmitted(runId: number, carrier: CarrierId, messages: readonly SubmittedMessage[]): Promise<SubmittedResult> {
    return this.submit(runId, carrier, messages.flatMap((m) => m.smscMessageIds.map((smscMessageId, i) => ({ messageId: m.id, part: (m.firstPart ?? 1) + i, smscMessageId }))), false);
  }

  /**
   * A late submit_sm_resp (status 0): `ambiguous` (or still `submitting`, if the time-out is not
   * written yet) → `submitted` once every part has an id. Receipts parked for these ids are
   * matched by the next sweep (matchParked).
   */
  async markLateSubmitted(carrier: CarrierId, late: readonly LateSubmitted[]): Promise<SubmittedResult> {
    const total: SubmittedResult = { segments: 0, submitted: 0, conflicts: 0 };
    const byRun = new Map<number, LateSubmitted[]>();
    for (const entry of late) byRun.set(entry.runId, [...(byRun.get(entry.runId) ?? []), entry]);
    for (const [runId, entries] of byRun) {
      const result = await this.submit(runId, carrier, entries, true);
      total.segments += result.segments;
      total.submitted += result.submitted;
      total.conflicts += result.conflicts;
    }
    return total;
  }

  private async submit(
    runId: number,
    carrier: CarrierId,
    segments: ReadonlyArray<{ messageId: number; part: number; smscMessageId: string }>,
    late: boolean,
  ): Promise<SubmittedResult> {
    if (segments.length === 0) return { segments: 0, submitted: 0, conflicts: 0 };
    const { rows } = await sql<SubmittedResult>`
      SELECT segments, submitted, conflicts FROM mark_submitted(
        ${runId}::bigint, ${carrier}::carrier_id, ${segments.map((s) => s.smscMessageId)}::text[],
        ${segments.map((s) => s.messageId)}::int[], ${segments.map((s) => s.part)}::int2[], ${late})`.execute(this.db);
    const result = rows[0]!;
    if (result.conflicts > 0) {
      this.logger?.warn({ runId, carrier, conflicts: result.conflicts }, 'SMSC ids empty or given twice in one batch: isolated in segment_conflicts');
    }
    return result;
  }

  /**
   * Applies delivery receipts in one call, matched on (carrier, SMSC message id) to the newest
   * segment submitted within the receipt window. A receipt with no segment yet is parked, never
   * dropped; a repeated final receipt is ignored. A multipart message is delivered when all its
   * segments are, and takes the first failure. `ambiguous` and `unknown` messages take receipts.
   */
  async applyReceipts(receipts: readonly ReceiptUpdate[]): Promise<ReceiptResult> {
    if (receipts.length === 0) return { applied: 0, duplicates: 0, parked: 0 };
    const latest = dedupeReceipts(receipts);
    const { rows } = await sql<ReceiptResult>`
      SELECT applied, duplicates, parked FROM apply_receipts(
        ${latest.map((r) => r.carrier)}::carrier_id[], ${latest.map((r) => r.smscMessageId)}::text[],
        ${latest.map((r) => r.state)}::message_state[], ${latest.map((r) => r.error)}::text[],
        ${latest.map((r) => r.doneAt)}::timestamptz[], ${latest.map((r) => r.raw ?? null)}::text[],
        ${latest.map(() => null)}::timestamptz[], ${this.window}::interval,
        ${latest.map((r) => r.msisdn ?? null)}::text[])`.execute(this.db);
    return rows[0]!;
  }

  /**
   * The parked sweep: applies parked receipts whose segment now exists, walking parked_receipts
   * in chunks of `limit` (each a key probe of message_segments per parked receipt) until it has
   * seen them all once. Run it periodically (ReceiptMaintenance does, every second or so).
   */
  async matchParked(limit = 1000): Promise<ReceiptResult> {
    const total: ReceiptResult = { applied: 0, duplicates: 0, parked: 0 };
    const start = this.parkedCursor;
    let wrapped = false;
    for (;;) {
      const { rows } = await sql<ReceiptResult & { last_id: string }>`
        SELECT applied, duplicates, parked, last_id FROM match_parked(${limit}::int, ${this.window}::interval, ${this.parkedCursor}::bigint)`.execute(this.db);
      const row = rows[0]!;
      total.applied += row.applied;
      total.duplicates += row.duplicates;
      total.parked += row.parked;
      const last = Number(row.last_id);
      if (last === 0) {
        this.parkedCursor = 0;
        if (start === 0 || wrapped) return total;
        wrapped = true;
      } else {
        this.parkedCursor = last;
        if (wrapped && last >= start) return total;
      }
    }
  }

  /** Parked receipts older than the receipt window → unmatched_receipts (kept, counted). Returns how many. */
  async expireParked(): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT expire_parked(${this.window}::interval) AS n`.execute(this.db);
    const n = rows[0]!.n;
    if (n > 0) this.logger?.warn({ unmatched: n }, 'parked receipts found no message within the receipt window; kept as unmatched');
    return n;
  }

  /** How many receipts never matched a message (unmatched_receipts). */
  async countUnmatched(): Promise<number> {
    const row = await this.db.selectFrom('unmatched_receipts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Keeps receipts that cannot be applied (unreadable, or refused as data) for an operator. */
  async recordUnreadableReceipts(receipts: ReadonlyArray<{ carrier: CarrierId; raw: string; reason: string; receivedAt?: Date }>): Promise<void> {
    if (receipts.length === 0) return;
    await this.db
      .insertInto('unreadable_receipts')
      .values(receipts.map((r) => ({ carrier: r.carrier, raw: r.raw, reason: r.reason, ...(r.receivedAt ? { received_at: r.receivedAt } : {}) })))
      .execute();
  }

  /**
   * Retention and partitions in one short transaction (ReceiptMaintenance.run), skipped when
   * another process is doing it: creates the daily partitions of message_segments and
   * parked_receipts from `now`'s day to `daysAhead` days on, moves parked receipts past the
   * window to unmatched_receipts, drops day partitions that lie wholly before the window (a
   * parked one only when empty), and drops the messages partition (phone numbers included) of
   * every run finished before `runsFinishedBefore`. DROP needs a moment's exclusive lock on the
   * parent: lock_timeout keeps a busy table from queueing the receipt path behind it, and the
   * next run tries again.
   */
  async maintain(now: Date, options: { daysAhead: number; runsFinishedBefore: Date | null }): Promise<MaintenanceResult> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '2s'`);
      const { rows: locked } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended('loa:receipt-maintenance', 0)) AS ok`);
      if (!locked[0]!.ok) {
        await client.query('ROLLBACK');
        return { skipped: true, created: [], unmatched: 0, droppedSegmentDays: [], droppedParkedDays: [], droppedRuns: [] };
      }
      const { rows: created } = await client.query<{ name: string }>(
        `SELECT create_day_partition(t, (($1::timestamptz AT TIME ZONE 'UTC')::date + d)) AS name
         FROM unnest(ARRAY['message_segments', 'parked_receipts']) AS t, generate_series(0, $2::int) AS d`,
        [now, options.daysAhead],
      );
      const { rows: expired } = await client.query<{ n: number }>(`SELECT expire_parked($1::interval) AS n`, [this.window]);
      const before = `((($1::timestamptz - $2::interval) AT TIME ZONE 'UTC')::date)`;
      const { rows: segments } = await client.query<{ name: string }>(`SELECT drop_day_partitions('message_segments', ${before}) AS name`, [now, this.window]);
      const { rows: parked } = await client.query<{ name: string }>(`SELECT drop_day_partitions('parked_receipts', ${before}) AS name`, [now, this.window]);
      const { rows: runs } = options.runsFinishedBefore
        ? await client.query<{ id: string }>(`SELECT drop_old_run_partitions($1::timestamptz) AS id`, [options.runsFinishedBefore])
        : { rows: [] };
      await client.query('COMMIT');
      return {
        skipped: false,
        created: created.map((r) => r.name),
        unmatched: expired[0]!.n,
        droppedSegmentDays: segments.map((r) => r.name),
        droppedParkedDays: parked.map((r) => r.name),
        droppedRuns: runs.map((r) => Number(r.id)),
      };
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => (failure = rollback));
      throw error;
    } finally {
      client.release(failure);
    }
  }
}

export interface MaintenanceResult {
  /** Another process held the maintenance lock: nothing done. */
  skipped: boolean;
  /** Daily partitions that exist ahead (created now or before). */
  created: string[];
  /** Parked receipts moved to unmatched_receipts. */
  unmatched: number;
  droppedSegmentDays: string[];
  droppedParkedDays: string[];
  /** Runs whose messages partition was dropped. */
  droppedRuns: number[];
}

/** One receipt per (carrier, id) per batch, the last one, except that a final one is never replaced by an interim one. */
function dedupeReceipts(receipts: readonly ReceiptUpdate[]): ReceiptUpdate[] {
  const byKey = new Map<string, ReceiptUpdate>();
  for (const receipt of receipts) {
    if (!RECEIPT_STATES.has(receipt.state)) throw new RangeError(`a receipt cannot report state ${receipt.state}`);
    const key = `${receipt.carrier}\u0000${receipt.smscMessageId}`;
    const previous = byKey.get(key);
    if (previous && isInterim(receipt.state) && !isInterim(previous.state)) continue;
    byKey.set(key, receipt);
  }
  return [...byKey.values()];
}

function isInterim(state: string): boolean {
  return state === 'enroute' || state === 'accepted';
}
