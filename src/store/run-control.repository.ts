import { sql, type Kysely } from 'kysely';
import type { CampaignPriority, Database, JsonObject, RunState } from './database.js';

/** A run the scheduler's quiet-hours check looks at, with its campaign version's document. */
export interface ActiveRun {
  id: number;
  state: RunState;
  priority: CampaignPriority;
  pausedReason: string | null;
  document: JsonObject;
}

/** The writes of run control that are not a plain state change (RunRepository.setState). */
export class RunControlRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The run's remaining `queued` messages → `cancelled` (one statement; the counters follow by trigger). */
  async cancelQueued(runId: number): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ state: 'cancelled', done_at: sql`now()`, claim: null })
      .where('run_id', '=', runId)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Runs cancelled within `withinMs` that still have `queued` rows: a submit job that was sending
   * when the run was cancelled returns its unsent claimed rows to `queued` after the cancel, and a
   * compile that was writing adds some. Those become `cancelled` too. Returns the rows moved.
   */
  async cancelStragglers(withinMs: number): Promise<number> {
    const runs = await this.db
      .selectFrom('runs')
      .select('id')
      .where('state', '=', 'cancelled')
      .where('finished_at', '>', sql<Date>`now() - make_interval(secs => ${withinMs / 1000})`)
      .execute();
    let moved = 0;
    for (const run of runs) moved += await this.cancelQueued(run.id);
    return moved;
  }

  /**
   * Automatic pauses not yet announced: the submit path pauses a run (stop-run status, repeated
   * failures) with runs.error but no paused_reason, or for no bind with `no-bind:<carrier>`.
   * Marks them 'auto' (`auto:no-bind:<carrier>`) and returns them, in one statement, so across
   * processes each pause is announced once.
   */
  async claimUnannouncedPauses(): Promise<Array<{ id: number; error: string | null; pausedReason: string }>> {
    const rows = await this.db
      .updateTable('runs')
      .set({ paused_reason: sql`CASE WHEN paused_reason IS NULL THEN 'auto' ELSE 'auto:' || paused_reason END`, updated_at: sql`now()` })
      .where('state', '=', 'paused')
      .where((eb) => eb.or([eb('paused_reason', 'is', null), eb('paused_reason', 'like', 'no-bind:%')]))
      .returning(['id', 'error', 'paused_reason'])
      .execute();
    return rows.map((row) => ({ id: row.id, error: row.error, pausedReason: row.paused_reason ?? 'auto' }));
  }

  /** Runs paused, and announced, because a carrier had no bind (`auto:no-bind:<carrier>`). */
  async listNoBindPauses(): Promise<Array<{ id: number; pausedReason: string }>> {
    const rows = await this.db
      .selectFrom('runs')
      .select(['id', 'paused_reason'])
      .where('state', '=', 'paused')
      .where('paused_reason', 'like', 'auto:no-bind:%')
      .execute();
    return rows.map((row) => ({ id: row.id, pausedReason: row.paused_reason! }));
  }

  /** Normal runs that are sending, and runs paused with `pausedReason`, each with its campaign document. */
  async listForQuietHours(pausedReason: string): Promise<ActiveRun[]> {
    const rows = await this.db
      .selectFrom('runs')
      .innerJoin('campaign_versions as v', 'v.id', 'runs.campaign_version_id')
      .select(['runs.id', 'runs.state', 'runs.priority', 'runs.paused_reason', 'v.document'])
      .where('runs.priority', '=', 'normal')
      .where('runs.ignore_quiet_hours', '=', false)
      .where((eb) => eb.or([eb('runs.state', 'in', ['compiling', 'running']), eb.and([eb('runs.state', '=', 'paused'), eb('runs.paused_reason', '=', pausedReason)])]))
      .orderBy('runs.id')
      .execute();
    return rows.map((row) => ({ id: row.id, state: row.state, priority: row.priority, pausedReason: row.paused_reason, document: row.document }));
  }
}
