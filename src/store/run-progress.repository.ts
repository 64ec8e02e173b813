import { sql, type Kysely } from 'kysely';
import type { CarrierId } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';
import type { Database } from './database.js';

export interface ActiveRunCount {
  runId: number;
  carrier: CarrierId | null;
  state: MessageState;
  count: number;
}

/**
 * Message counts of the runs that are not over (compiling, running, paused), for /metrics: run
 * progress and, summed over runs, each carrier's queue depth. Reads run_counts (the trigger's
 * deltas, see RunCountRepository), never the messages themselves.
 */
export class RunProgressRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async activeRunCounts(): Promise<ActiveRunCount[]> {
    const { rows } = await sql<{ run_id: number; carrier: CarrierId | null; state: MessageState; count: number }>`
      SELECT c.run_id, c.carrier, c.state, sum(c.delta)::bigint AS count
      FROM run_counts c JOIN runs r ON r.id = c.run_id
      WHERE r.state IN ('compiling', 'running', 'paused')
      GROUP BY c.run_id, c.carrier, c.state HAVING sum(c.delta) <> 0`.execute(this.db);
    return rows.map((row) => ({ runId: Number(row.run_id), carrier: row.carrier, state: row.state, count: Number(row.count) }));
  }
}
