import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import type { CarrierId } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';
import type { Database } from './database.js';
import { withoutNestedLoops } from './message.repository.js';
import { planMessageUpdates, RECEIPT_STATES, type MessageUpdatePlan, type ReceiptUpdate, type SegmentChange } from './receipt-plan.js';

export type { ReceiptUpdate } from './receipt-plan.js';

/** The SMSC message ids of one message's segments, `firstPart` (default 1) onwards. */
export interface SubmittedMessage {
  id: number;
  smscMessageIds: readonly string[];
  firstPart?: number;
}

export interface ReceiptResult {
  /** Receipts that changed a segment (and so possibly its message). */
  applied: number;
  /** Receipts for segments that already had a final receipt: ignored. */
  duplicates: number;
  /** Receipts with no segment yet: stored in parked_receipts. */
  parked: number;
}

/** States a receipt may still change; anything else is final or not yet submitted. */
const RECEIPTABLE: readonly MessageState[] = ['submitting', 'submitted', 'enroute', 'accepted'];

/**
 * The receipt path of the store: SMSC ids from submit_sm_resp (message_segments), receipts
 * matched on (carrier, SMSC id), parked receipts, and receipts nobody could read.
 */
export class ReceiptRepository {
  constructor(
    private readonly db: Kysely<Database>,
    // Kept for the receipt path's own connections (kept symmetrical with MessageRepository).
    private readonly pool: pg.Pool,
  ) {}

  /**
   * Records the SMSC message ids of submit_sm_resp: one message_segments row per segment (the
   * receipt lookup) and, in the same statement, submitting → submitted once every segment of a
   * message has its id. Replaying the same ids is a no-op. An id the SMSC reuses for a new
   * message (counters wrap) moves to the new message. Receipts parked for these ids are applied
   * in the same transaction.
   */
  async markSubmitted(runId: number, carrier: CarrierId, messages: readonly SubmittedMessage[]): Promise<{ segments: number; submitted: number }> {
    const bySmscId = new Map<string, { id: number; part: number }>();
    for (const message of messages) {
      message.smscMessageIds.forEach((smscMessageId, index) => bySmscId.set(smscMessageId, { id: message.id, part: (message.firstPart ?? 1) + index }));
    }
    if (bySmscId.size === 0) return { segments: 0, submitted: 0 };
    const smscIds = [...bySmscId.keys()];
    const messageIds = smscIds.map((key) => bySmscId.get(key)!.id);
    const parts = smscIds.map((key) => bySmscId.get(key)!.part);
    return this.db.transaction().execute(async (trx) => {
      const { rows } = await withoutNestedLoops(trx, () =>
        sql<{ segments: number; submitted: number }>`
          WITH seg AS (
            INSERT INTO message_segments AS s (carrier, smsc_message_id, run_id, message_id, part)
            SELECT ${carrier}::carrier_id, x.smsc_message_id, ${runId}, x.message_id, x.part
            FROM unnest(${smscIds}::text[], ${messageIds}::int[], ${parts}::int2[]) AS x(smsc_message_id, message_id, part)
            ON CONFLICT (carrier, smsc_message_id) DO UPDATE
              SET run_id = excluded.run_id, message_id = excluded.message_id, part = excluded.part, state = NULL
              WHERE (s.run_id, s.message_id, s.part) IS DISTINCT FROM (excluded.run_id, excluded.message_id, excluded.part)
            RETURNING s.message_id
          ),
          per_message AS (SELECT message_id, count(*) AS n FROM seg GROUP BY message_id),
          moved AS (
            UPDATE messages m
            SET parts_submitted = m.parts_submitted + p.n,
                state = CASE WHEN m.parts_submitted + p.n >= m.parts_total THEN 'submitted'::message_state ELSE m.state END,
                submitted_at = coalesce(m.submitted_at, now())
            FROM per_message p
            WHERE m.run_id = ${runId} AND m.id = ANY(${messageIds}::int[]) AND m.id = p.message_id AND m.state = 'submitting'
            RETURNING m.state
          )
          SELECT (SELECT count(*) FROM seg) AS segments, (SELECT count(*) FROM moved WHERE state = 'submitted') AS submitted`.execute(trx),
      );
      const { rows: parked } = await sql<{ any: boolean }>`
        SELECT EXISTS (
          SELECT 1 FROM parked_receipts WHERE carrier = ${carrier}::carrier_id AND smsc_message_id = ANY(${smscIds}::text[])
        ) AS any`.execute(trx);
      if (parked[0]?.any) await this.#matchParked(trx, { carrier, smscMessageIds: smscIds });
      return rows[0]!;
    });
  }

  /**
   * Applies delivery receipts in one transaction, matched on (carrier, SMSC message id). A
   * receipt with no segment yet is parked, never dropped; a repeated final receipt is ignored.
   * A multipart message is delivered when all its segments are, and takes the first failure.
   */
  async applyReceipts(receipts: readonly ReceiptUpdate[]): Promise<ReceiptResult> {
    if (receipts.length === 0) return { applied: 0, duplicates: 0, parked: 0 };
    return this.db.transaction().execute((trx) => this.#applyReceipts(trx, receipts));
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
   * Applies parked receipts whose segment now exists (oldest first, at most `limit`) and
   * removes them from parked_receipts. markSubmitted already does this for its own ids; run
   * this periodically for the rest (a receipt parked by a statement that raced the submit).
   */
  async matchParked(limit = 1000): Promise<ReceiptResult> {
    return this.db.transaction().execute((trx) => this.#matchParked(trx, { limit }));
  }

  async #matchParked(
    trx: Transaction<Database>,
    scope: { limit?: number; carrier?: CarrierId; smscMessageIds?: readonly string[] },
  ): Promise<ReceiptResult> {
    const onlyKeys = scope.carrier && scope.smscMessageIds
      ? sql`AND p.carrier = ${scope.carrier}::carrier_id AND p.smsc_message_id = ANY(${[...scope.smscMessageIds]}::text[])`
      : sql``;
    const { rows } = await sql<{ id: number; carrier: CarrierId; smsc_message_id: string; state: MessageState; error_code: string | null; done_at: Date | null; raw: string | null }>`
      DELETE FROM parked_receipts p
      WHERE p.id IN (
        SELECT p.id FROM parked_receipts p
        WHERE EXISTS (SELECT 1 FROM message_segments s WHERE s.carrier = p.carrier AND s.smsc_message_id = p.smsc_message_id)
        ${onlyKeys}
        ORDER BY p.id
        LIMIT ${scope.limit ?? 2_147_483_647}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING p.id, p.carrier, p.smsc_message_id, p.state::text AS state, p.error_code, p.done_at, p.raw`.execute(trx);
    if (rows.length === 0) return { applied: 0, duplicates: 0, parked: 0 };
    rows.sort((a, b) => a.id - b.id);
    return this.#applyReceipts(
      trx,
      rows.map((row) => ({ carrier: row.carrier, smscMessageId: row.smsc_message_id, state: row.state, error: row.error_code, doneAt: row.done_at, raw: row.raw })),
    );
  }

  async #applyReceipts(trx: Transaction<Database>, receipts: readonly ReceiptUpdate[]): Promise<ReceiptResult> {
    const latest = dedupeReceipts(receipts);
    return withoutNestedLoops(trx, async () => {
      const { changes, parked } = await this.#applyToSegments(trx, latest);
      for (const [runId, plan] of planMessageUpdates(changes)) await this.#applyToMessages(trx, runId, plan);
      return { applied: changes.length, duplicates: latest.length - changes.length - parked, parked };
    });
  }

  /** Receipts → segments; a receipt with no segment is parked. */
  async #applyToSegments(trx: Transaction<Database>, receipts: readonly ReceiptUpdate[]): Promise<{ changes: SegmentChange[]; parked: number }> {
    const smscIds = receipts.map((r) => r.smscMessageId);
    const { rows } = await sql<{ outcome: 'applied' | 'parked'; run_id: number | null; message_id: number | null; state: MessageState | null; error_code: string | null; done_at: Date | null }>`
      WITH r AS (
        SELECT * FROM unnest(
          ${receipts.map((r) => r.carrier)}::carrier_id[], ${smscIds}::text[],
          ${receipts.map((r) => r.state)}::message_state[], ${receipts.map((r) => r.error)}::text[],
          ${receipts.map((r) => r.doneAt)}::timestamptz[], ${receipts.map((r) => r.raw ?? null)}::text[]
        ) AS r(carrier, smsc_message_id, state, error_code, done_at, raw)
      ),
      -- Only a segment without a final receipt changes: a repeated receipt is a no-op.
      applied AS (
        UPDATE message_segments s SET state = r.state
        FROM r
        WHERE s.smsc_message_id = ANY(${smscIds}::text[])
          AND s.carrier = r.carrier AND s.smsc_message_id = r.smsc_message_id
          AND (s.state IS NULL OR s.state IN ('enroute', 'accepted'))
        RETURNING s.run_id, s.message_id, r.state, r.error_code, r.done_at
      ),
      -- Same snapshot as the UPDATE: a receipt either finds its segment above or is parked here.
      parked AS (
        INSERT INTO parked_receipts (carrier, smsc_message_id, state, error_code, done_at, raw)
        SELECT r.carrier, r.smsc_message_id, r.state, r.error_code, r.done_at, r.raw FROM r
        WHERE NOT EXISTS (
          SELECT 1 FROM message_segments s
          WHERE s.smsc_message_id = ANY(${smscIds}::text[])
            AND s.carrier = r.carrier AND s.smsc_message_id = r.smsc_message_id
        )
        RETURNING 1
      )
      SELECT 'applied' AS outcome, run_id, message_id, state::text AS state, error_code, done_at FROM applied
      UNION ALL
      SELECT 'parked', NULL, NULL, NULL, NULL, NULL FROM parked`.execute(trx);
    const changes: SegmentChange[] = [];
    let parked = 0;
    for (const row of rows) {
      if (row.outcome === 'parked') parked += 1;
      else changes.push({ runId: row.run_id!, messageId: row.message_id!, state: row.state!, error: row.error_code, doneAt: row.done_at });
    }
    return { changes, parked };
  }

  /** Segment changes → their messages, in one run (run_id a constant: the planner prunes to its partition). */
  async #applyToMessages(trx: Transaction<Database>, runId: number, plan: MessageUpdatePlan): Promise<void> {
    await sql`
      UPDATE messages m SET
        parts_delivered = m.parts_delivered + u.delivered,
        state = CASE
          WHEN u.failed IS NOT NULL THEN u.failed
          WHEN m.parts_delivered + u.delivered >= m.parts_total THEN 'delivered'::message_state
          WHEN u.interim IS NOT NULL AND m.state <> 'submitting' THEN u.interim
          ELSE m.state END,
        error_code = coalesce(u.error_code, m.error_code),
        done_at = CASE WHEN u.failed IS NOT NULL OR m.parts_delivered + u.delivered >= m.parts_total
                       THEN coalesce(u.done_at, now()) ELSE m.done_at END
      FROM unnest(${plan.ids}::int[], ${plan.delivered}::int[], ${plan.failed}::message_state[],
                  ${plan.interim}::message_state[], ${plan.errors}::text[], ${plan.doneAt}::timestamptz[])
        AS u(id, delivered, failed, interim, error_code, done_at)
      WHERE m.run_id = ${runId} AND m.id = ANY(${plan.ids}::int[]) AND m.id = u.id AND m.state IN (${sql.join(RECEIPTABLE)})`.execute(trx);
  }
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

function isInterim(state: MessageState): boolean {
  return state === 'enroute' || state === 'accepted';
}
