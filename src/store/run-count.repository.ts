import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CarrierId } from '../domain/carrier.js';
import { FINAL_STATES, type MessageState } from '../domain/message-state.js';
import type { Database } from './database.js';

export interface CountRow {
  carrier: CarrierId | null;
  state: MessageState;
  count: number;
  segments: number;
}

/**
 * The status counters: run_counts holds per-statement deltas that a trigger on `messages`
 * appends (0005_engine.sql). Reads sum them — a few thousand rows per run after compaction, never
 * a scan of the run's messages — and the sweeper compacts them.
 */
export class RunCountRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async byCarrierAndState(runId: number): Promise<CountRow[]> {
    const { rows } = await sql<CountRow>`
      SELECT carrier, state, sum(delta)::bigint AS count, sum(segments)::bigint AS segments
      FROM run_counts WHERE run_id = ${runId}
      GROUP BY carrier, state HAVING sum(delta) <> 0`.execute(this.db);
    return rows;
  }

  async byCommune(runId: number): Promise<Array<{ province: string | null; commune: string | null; state: MessageState; count: number }>> {
    const { rows } = await sql<{ province: string | null; commune: string | null; state: MessageState; count: number }>`
      SELECT province, commune, state, sum(delta)::bigint AS count
      FROM run_counts WHERE run_id = ${runId}
      GROUP BY province, commune, state HAVING sum(delta) <> 0
      ORDER BY province NULLS LAST, commune NULLS LAST, state`.execute(this.db);
    return rows;
  }

  /** Segments that reached `submitted` per carrier within the last `seconds`. */
  async submittedSince(runId: number, seconds: number): Promise<Partial<Record<CarrierId, number>>> {
    const { rows } = await sql<{ carrier: CarrierId; segments: number }>`
      SELECT carrier, sum(segments)::bigint AS segments FROM run_counts
      WHERE run_id = ${runId} AND at > now() - make_interval(secs => ${seconds})
        AND state = 'submitted' AND delta > 0 AND carrier IS NOT NULL
      GROUP BY carrier`.execute(this.db);
    return Object.fromEntries(rows.map((row) => [row.carrier, row.segments]));
  }

  /** Messages of the run not yet in a final state. */
  async unfinished(runId: number): Promise<number> {
    const { rows } = await sql<{ n: number | null }>`
      SELECT sum(delta)::bigint AS n FROM run_counts
      WHERE run_id = ${runId} AND NOT (state = ANY(${[...FINAL_STATES]}::message_state[]))`.execute(this.db);
    return rows[0]?.n ?? 0;
  }

  /**
   * Folds the run's deltas older than `keepSeconds` into one row per (carrier, area, state), in one
   * statement (rows appended meanwhile are not in its snapshot and stay). Recent rows are kept for
   * the submit rate. Returns the rows removed.
   */
  /**
   * Submitted and delivered messages per second of the run (the run report's timeline): what
   * compaction kept in run_timeline plus the raw rows not yet compacted, in one statement (one
   * snapshot: a row is either still raw or already in run_timeline).
   */
  async timeline(runId: number): Promise<Array<{ kind: 'submitted' | 'delivered'; second: Date; count: number }>> {
    const { rows } = await sql<{ kind: 'submitted' | 'delivered'; second: Date; count: number }>`
      SELECT kind, second, sum(count)::bigint AS count FROM (
        SELECT kind, second, count FROM run_timeline WHERE run_id = ${runId}
        UNION ALL
        SELECT n.kind, n.second, n.net FROM (${timelineEntries(sql`(SELECT * FROM run_counts WHERE run_id = ${runId}) raw`)}) n
      ) t GROUP BY kind, second ORDER BY second, kind`.execute(this.db);
    return rows;
  }

  async compact(runId: number, keepSeconds = 15): Promise<number> {
    const { rows } = await sql<{ removed: number }>`
      WITH gone AS (
        DELETE FROM run_counts WHERE run_id = ${runId} AND at < now() - make_interval(secs => ${keepSeconds})
        RETURNING carrier, province, commune, state, delta, segments, at, compacted
      ),
      kept AS (
        INSERT INTO run_counts (run_id, carrier, province, commune, state, delta, segments, at, compacted)
        SELECT ${runId}, carrier, province, commune, state, sum(delta), sum(segments), max(at), true
        FROM gone GROUP BY carrier, province, commune, state
        HAVING sum(delta) <> 0 OR sum(segments) <> 0
        RETURNING 1
      ),
      timeline AS (
        INSERT INTO run_timeline (run_id, kind, second, count)
        SELECT ${runId}, n.kind, n.second, sum(n.net) FROM (${timelineEntries(sql`gone`)}) n
        GROUP BY n.kind, n.second
        ON CONFLICT (run_id, kind, second) DO UPDATE SET count = run_timeline.count + EXCLUDED.count
      )
      SELECT (SELECT count(*) FROM gone)::int - (SELECT count(*) FROM kept)::int AS removed`.execute(this.db);
    return rows[0]?.removed ?? 0;
  }

  /** Compaction deletes; with autovacuum off (or behind) only an explicit VACUUM reuses that space. */
  async vacuum(): Promise<void> {
    await sql`VACUUM run_counts`.execute(this.db);
  }
}

/**
 * Entries into `submitted` and `delivered` per second from raw counter rows. A trigger writes a
 * statement's change as +n for the new state and −n for the old, all with the transaction's time:
 * netting per (state, at) leaves what entered a state in that transaction, and drops the +n/−n
 * pair an update that kept the state writes (a part counted, a receipt for one part). Sums that
 * compaction wrote are not changes and are left out.
 */
function timelineEntries(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT state::text AS kind, date_trunc('second', at) AS second, net FROM (
      SELECT state, at, sum(delta) AS net FROM ${rows}
      WHERE NOT compacted AND state IN ('submitted', 'delivered') GROUP BY state, at
    ) e WHERE net > 0`;
}
