import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import { MESSAGE_STATES, type MessageState } from '../domain/message-state.js';
import { copyInto, copyLine } from './copy.js';
import type { Database } from './database.js';
import { planMessageUpdates, RECEIPT_STATES, type MessageUpdatePlan, type ReceiptUpdate, type SegmentChange } from './receipt-plan.js';

export type { ReceiptUpdate } from './receipt-plan.js';

/** A recipient as compile produces it; `carrier: null` means unroutable (another network). */
export interface QueuedMessage {
  msisdn: string;
  carrier: CarrierId | null;
  province?: string | null;
  commune?: string | null;
  partsTotal: number;
}

export interface IdRange {
  count: number;
  firstId: number;
  lastId: number;
}

export interface CopyResult extends IdRange {
  /** Per carrier: how many rows and the id range they span (compile makes batch jobs from these). */
  byCarrier: Partial<Record<CarrierId, IdRange>>;
  /** Rows written directly as `unroutable`. */
  unroutable: number;
}

/** The SMSC message ids of one message's segments, `firstPart` (default 1) onwards. */
export interface SubmittedMessage {
  id: number;
  smscMessageIds: readonly string[];
  firstPart?: number;
}

export interface ClaimedMessage {
  id: number;
  msisdn: string;
  partsTotal: number;
  attempts: number;
}

export interface ReceiptResult {
  /** Receipts that changed a segment (and so possibly its message). */
  applied: number;
  /** Receipts for segments that already had a final receipt: ignored. */
  duplicates: number;
  /** Receipts with no segment yet: stored in parked_receipts. */
  parked: number;
}

const MSISDN = /^[1-9][0-9]{7,14}$/;
/** States a receipt may still change; anything else is final or not yet submitted. */
const RECEIPTABLE: readonly MessageState[] = ['submitting', 'submitted', 'enroute', 'accepted'];

/**
 * The `messages` table (partitioned by run, see 0001_initial.sql) and its receipt lookup.
 * Every method names the run, so each statement touches one partition; every state change is
 * one set-based statement guarded by the state it moves from, so it is atomic, and replaying
 * it (a retried job) changes nothing.
 *
 * Batch statements pass columns as arrays (`unnest(…)`), reach every large table only through
 * `= ANY(batch keys)` on its primary key, and join with hashing (withoutNestedLoops), so their
 * cost follows the batch size, not the table size, whatever the planner's statistics say.
 */
export class MessageRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {}

  /** Creates the run's partition if needed and returns its table name. Idempotent. */
  async createPartition(runId: number): Promise<string> {
    const { rows } = await sql<{ name: string }>`SELECT create_run_partition(${runId}) AS name`.execute(this.db);
    return rows[0]!.name;
  }

  /**
   * Streams recipients into the run's partition with COPY: ids `firstId`, `firstId + 1`, … in
   * source order, state `queued` (or `unroutable` when carrier is null). All rows or none are
   * stored; a second call for the same ids fails on the primary key rather than duplicating.
   */
  async copyQueued(
    runId: number,
    rows: AsyncIterable<QueuedMessage> | Iterable<QueuedMessage>,
    options: { firstId?: number } = {},
  ): Promise<CopyResult> {
    const partition = await this.createPartition(runId);
    const result: CopyResult = { count: 0, firstId: options.firstId ?? 1, lastId: (options.firstId ?? 1) - 1, byCarrier: {}, unroutable: 0 };
    const now = new Date().toISOString();
    async function* lines(): AsyncGenerator<string> {
      let id = result.firstId;
      for await (const row of rows) {
        if (!MSISDN.test(row.msisdn)) throw new TypeError(`message ${id}: msisdn ${JSON.stringify(row.msisdn)} is not E.164 digits`);
        if (!Number.isInteger(row.partsTotal) || row.partsTotal < 1 || row.partsTotal > 255) {
          throw new RangeError(`message ${id}: partsTotal ${row.partsTotal} is not 1–255`);
        }
        if (row.carrier === null) {
          result.unroutable += 1;
        } else {
          if (!CARRIER_IDS.includes(row.carrier)) throw new TypeError(`message ${id}: unknown carrier ${String(row.carrier)}`);
          const range = (result.byCarrier[row.carrier] ??= { count: 0, firstId: id, lastId: id });
          range.count += 1;
          range.lastId = id;
        }
        const unroutable = row.carrier === null;
        yield copyLine([
          runId,
          id,
          row.carrier,
          unroutable ? 'unroutable' : 'queued',
          row.partsTotal,
          unroutable ? now : null,
          row.msisdn,
          row.province ?? null,
          row.commune ?? null,
        ]);
        id += 1;
      }
      result.count = id - result.firstId;
      result.lastId = id - 1;
    }
    const client = await this.pool.connect();
    let failure: Error | undefined;
    try {
      // Through the partitioned root, not the partition: the root's statement trigger keeps the
      // status counters (run_counts, 0005_engine.sql) and does not fire for a COPY into a partition.
      await copyInto(client, `messages (run_id, id, carrier, state, parts_total, done_at, msisdn, province, commune)`, lines());
      // Fresh statistics now rather than whenever autovacuum gets to it: without them the
      // planner takes the new partition for empty and picks plans that scan all of it.
      await client.query(`ANALYZE "${partition}"`);
      return result;
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      client.release(failure);
    }
  }

  /**
   * queued → submitting for the given ids, written before any PDU leaves (DESIGN.md, Delivery
   * semantics). Returns the ids that moved: only those may be sent. Two workers racing for a
   * row: one gets it, the other's update finds it no longer queued.
   */
  async markSubmitting(runId: number, ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .updateTable('messages')
      .set({ state: 'submitting', attempts: sql`attempts + 1` })
      .where('run_id', '=', runId)
      .where('id', '=', sql<number>`ANY(${[...ids]}::int[])`)
      .where('state', '=', 'queued')
      .returning('id')
      .execute();
    return rows.map((row) => row.id).sort((a, b) => a - b);
  }

  /** Like markSubmitting, for a batch job's id range of one carrier; returns what to send. */
  async claimQueued(runId: number, batch: { carrier: CarrierId; fromId: number; toId: number; limit?: number }): Promise<ClaimedMessage[]> {
    const { rows } = await sql<{ id: number; msisdn: string; parts_total: number; attempts: number }>`
      UPDATE messages SET state = 'submitting', attempts = attempts + 1
      WHERE run_id = ${runId} AND state = 'queued' AND id = ANY(ARRAY(
        SELECT id FROM messages
        WHERE run_id = ${runId} AND id BETWEEN ${batch.fromId} AND ${batch.toId}
          AND carrier = ${batch.carrier}::carrier_id AND state = 'queued'
        ORDER BY id LIMIT ${batch.limit ?? 2_147_483_647}
        FOR UPDATE SKIP LOCKED
      ))
      RETURNING id, msisdn, parts_total, attempts`.execute(this.db);
    return rows
      .map((row) => ({ id: row.id, msisdn: row.msisdn, partsTotal: row.parts_total, attempts: row.attempts }))
      .sort((a, b) => a.id - b.id);
  }

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
   * The claim (DESIGN.md "the claim is the guard"): queued → submitting for at most `limit` rows of
   * one carrier in [fromId, toId], lowest ids first, recording `claim` (the worker's lease id).
   * Only the rows returned may be sent; a row another worker claimed, or already sent, is not
   * returned. One statement: SKIP LOCKED lets two workers on the same range take different rows.
   */
  async claim(runId: number, batch: { carrier: CarrierId; fromId: number; toId: number; limit: number; claim: number }): Promise<ClaimedMessage[]> {
    const { rows } = await sql<{ id: number; msisdn: string; parts_total: number; attempts: number }>`
      UPDATE messages SET state = 'submitting', attempts = attempts + 1, claim = ${batch.claim}
      WHERE run_id = ${runId} AND state = 'queued' AND id = ANY(ARRAY(
        SELECT id FROM messages
        WHERE run_id = ${runId} AND id BETWEEN ${batch.fromId} AND ${batch.toId}
          AND carrier = ${batch.carrier}::carrier_id AND state = 'queued'
        ORDER BY id LIMIT ${batch.limit}
        FOR UPDATE SKIP LOCKED
      ))
      RETURNING id, msisdn, parts_total, attempts`.execute(this.db);
    return rows
      .map((row) => ({ id: row.id, msisdn: row.msisdn, partsTotal: row.parts_total, attempts: row.attempts }))
      .sort((a, b) => a.id - b.id);
  }

  /**
   * submitting → failed after the SMSC refused a part: `submitStatus` is the SMPP command_status,
   * stored in submit_status (error_code stays for what a receipt says). Returns the ids that moved.
   */
  async markFailed(runId: number, failures: ReadonlyArray<{ id: number; submitStatus: number }>): Promise<number[]> {
    if (failures.length === 0) return [];
    const ids = failures.map((f) => f.id);
    const { rows } = await sql<{ id: number }>`
      UPDATE messages m SET state = 'failed', submit_status = f.status, done_at = now()
      FROM unnest(${ids}::int[], ${failures.map((f) => f.submitStatus)}::int[]) AS f(id, status)
      WHERE m.run_id = ${runId} AND m.id = ANY(${ids}::int[]) AND m.id = f.id AND m.state IN ('queued', 'submitting')
      RETURNING m.id`.execute(this.db);
    return rows.map((row) => row.id).sort((a, b) => a - b);
  }

  /**
   * submitting → `to` for rows a worker no longer owns: `ambiguous` after a crash (the PDU may
   * have left), or `queued` to send again (a PDU known not to have left, or resendAmbiguous).
   * A requeued message starts over: its part count goes back to 0 and its claim is cleared.
   * Without ids: every submitting row of the run (the reconciler). Returns how many moved.
   */
  async releaseSubmitting(runId: number, to: 'ambiguous' | 'queued', ids?: readonly number[]): Promise<number> {
    let query = this.db
      .updateTable('messages')
      .set(to === 'ambiguous' ? { state: 'ambiguous', done_at: sql`now()` } : { state: 'queued', parts_submitted: 0, claim: null })
      .where('run_id', '=', runId)
      .where('state', '=', 'submitting');
    if (ids) query = query.where('id', '=', sql<number>`ANY(${[...ids]}::int[])`);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Messages still waiting for a receipt when the run's validity ended → unknown. */
  async expireUnresolved(runId: number): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ state: 'unknown', done_at: sql`now()` })
      .where('run_id', '=', runId)
      .where('state', 'in', ['submitted', 'enroute', 'accepted'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * The completion sweep: at most `limit` messages with no final receipt past
   * submitted_at + `validitySeconds` → unknown. Returns how many moved; call again while it
   * returns `limit`. (A late receipt still updates an unknown message: the handset's truth wins.)
   */
  async expireOverdue(runId: number, validitySeconds: number, limit = 10_000): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      WITH moved AS (
        UPDATE messages SET state = 'unknown', done_at = now()
        WHERE run_id = ${runId} AND id = ANY(ARRAY(
          SELECT id FROM messages
          WHERE run_id = ${runId} AND state IN ('submitted', 'enroute', 'accepted')
            AND submitted_at < now() - make_interval(secs => ${validitySeconds})
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )) AND state IN ('submitted', 'enroute', 'accepted')
        RETURNING 1
      )
      SELECT count(*)::int AS n FROM moved`.execute(this.db);
    return rows[0]?.n ?? 0;
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

  /** Message count per state for a run, every state present (0 when none). */
  async countsByState(runId: number): Promise<Record<MessageState, number>> {
    const counts = Object.fromEntries(MESSAGE_STATES.map((state) => [state, 0])) as Record<MessageState, number>;
    for (const row of await this.countsByCarrierAndState(runId)) counts[row.state] += row.count;
    return counts;
  }

  /** Message count per (carrier, state) for a run; carrier null is unroutable. */
  async countsByCarrierAndState(runId: number): Promise<Array<{ carrier: CarrierId | null; state: MessageState; count: number }>> {
    const rows = await this.db
      .selectFrom('messages')
      .select(['carrier', 'state', (eb) => eb.fn.countAll<number>().as('count')])
      .where('run_id', '=', runId)
      .groupBy(['carrier', 'state'])
      .execute();
    return rows;
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

/**
 * Runs batch statements with nested-loop joins disabled. Each of them reaches its big tables
 * only through `= ANY(batch keys)` on a primary key, so the rows involved are few; joining those
 * by hashing is then always right, while the planner's estimates often are not (a run's
 * partition is analysed as all `queued` right after COPY, so "state = 'submitting'" looks
 * empty and a nested loop rescanning the batch per row looks cheap — it is quadratic).
 */
async function withoutNestedLoops<T>(trx: Transaction<Database>, fn: () => Promise<T>): Promise<T> {
  await sql`SET LOCAL enable_nestloop = off`.execute(trx);
  const result = await fn();
  await sql`SET LOCAL enable_nestloop = DEFAULT`.execute(trx);
  return result;
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
