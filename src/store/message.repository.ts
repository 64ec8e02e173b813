import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import { MESSAGE_STATES, type MessageState } from '../domain/message-state.js';
import { copyInto, copyLine } from './copy.js';
import type { Database } from './database.js';

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

export interface ClaimedMessage {
  id: number;
  msisdn: string;
  partsTotal: number;
  attempts: number;
}

const MSISDN = /^[1-9][0-9]{7,14}$/;
/**
 * The `messages` table (partitioned by run, see 0001_initial.sql); the receipt path is ReceiptRepository.
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
}
