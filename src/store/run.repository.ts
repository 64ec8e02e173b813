import { sql, type Kysely } from 'kysely';
import type { CampaignPriority, Database, JsonObject, Run, RunState } from './database.js';

export interface LaunchRun {
  campaignVersionId: number;
  /** Which occurrence of the schedule; with the version it identifies the run. */
  occurrenceId: string;
  scheduledFor: Date;
  launchedBy: string;
  priority?: CampaignPriority;
  expiresAt?: Date | null;
  /** A test launch: send to this list only. */
  testList?: string | null;
  /** The launch overrode quiet hours: the scheduler never pauses this run for them. */
  ignoreQuietHours?: boolean;
}

/** A run with the campaign and content hash of its version (GET /v1/runs). */
export type RunWithCampaign = Run & { campaign_id: string; content_hash: string };

export interface RunFilter {
  states?: readonly RunState[];
  campaignId?: string;
  /** Only runs of these campaign versions (a scoped key's view). */
  campaignVersionIds?: readonly number[];
  /** Default 50. */
  limit?: number;
}

/** A run with what its campaign version says, for the engine's jobs and the status. */
export interface RunWithVersion {
  run: Run;
  campaignId: string;
  contentHash: string;
  document: JsonObject;
}

/** Which states a run may move to from each state; cancelled, completed and failed are final. */
export const RUN_TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  scheduled: ['compiling', 'cancelled', 'failed'],
  compiling: ['running', 'paused', 'cancelled', 'failed'],
  running: ['paused', 'cancelled', 'completed', 'failed'],
  paused: ['running', 'cancelled', 'failed'],
  cancelled: [],
  completed: [],
  failed: [],
};

const FINAL_RUN_STATES: readonly RunState[] = ['cancelled', 'completed', 'failed'];

function statesLeadingTo(to: RunState): RunState[] {
  return (Object.keys(RUN_TRANSITIONS) as RunState[]).filter((from) => RUN_TRANSITIONS[from].includes(to));
}

export class RunRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * One run per (campaign version, occurrence): a second launch, even a concurrent one,
   * returns the existing run with `created: false` (DESIGN.md, "launching twice is a no-op").
   */
  async createIfAbsent(launch: LaunchRun): Promise<{ run: Run; created: boolean }> {
    const inserted = await this.db
      .insertInto('runs')
      .values({
        campaign_version_id: launch.campaignVersionId,
        occurrence_id: launch.occurrenceId,
        scheduled_for: launch.scheduledFor,
        launched_by: launch.launchedBy,
        priority: launch.priority ?? 'normal',
        expires_at: launch.expiresAt ?? null,
        test_list: launch.testList ?? null,
        ignore_quiet_hours: launch.ignoreQuietHours ?? false,
      })
      .onConflict((oc) => oc.columns(['campaign_version_id', 'occurrence_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { run: inserted, created: true };
    // ON CONFLICT waited for a concurrent inserter to commit; this statement's snapshot sees its row.
    const existing = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('campaign_version_id', '=', launch.campaignVersionId)
      .where('occurrence_id', '=', launch.occurrenceId)
      .executeTakeFirstOrThrow();
    return { run: existing, created: false };
  }

  async get(id: number): Promise<Run | undefined> {
    return this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async getWithVersion(id: number): Promise<RunWithVersion | undefined> {
    const row = await this.db
      .selectFrom('runs')
      .innerJoin('campaign_versions as v', 'v.id', 'runs.campaign_version_id')
      .selectAll('runs')
      .select(['v.campaign_id', 'v.content_hash', 'v.document'])
      .where('runs.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const { campaign_id, content_hash, document, ...run } = row;
    return { run, campaignId: campaign_id, contentHash: content_hash, document };
  }

  /**
   * Moves a run to `state` only from `from` (default: every state RUN_TRANSITIONS allows), so a
   * worker cannot revive a cancelled run. Returns the updated run, or undefined when the run is
   * missing or was not in an allowed state.
   */
  async setState(
    id: number,
    state: RunState,
    options: { from?: readonly RunState[]; error?: string | null; pausedReason?: string | null; onlyPausedReason?: string } = {},
  ): Promise<Run | undefined> {
    const from = options.from ?? statesLeadingTo(state);
    if (from.length === 0) return undefined;
    return this.db
      .updateTable('runs')
      .set({
        state,
        updated_at: sql`now()`,
        ...(state === 'running' ? { started_at: sql`coalesce(started_at, now())` } : {}),
        ...(FINAL_RUN_STATES.includes(state) ? { finished_at: sql`now()` } : {}),
        ...(options.error !== undefined ? { error: options.error } : {}),
        ...(options.pausedReason !== undefined ? { paused_reason: options.pausedReason } : {}),
      })
      .where('id', '=', id)
      .where('state', 'in', [...from])
      // The scheduler resumes only the runs it paused itself (paused_reason 'quiet-hours').
      .$if(options.onlyPausedReason !== undefined, (query) => query.where('paused_reason', '=', options.onlyPausedReason!))
      .returningAll()
      .executeTakeFirst();
  }

  /** Stores compile's result: how many recipients the run has. */
  async setAudienceSize(id: number, audienceSize: number): Promise<void> {
    await this.db.updateTable('runs').set({ audience_size: audienceSize, updated_at: sql`now()` }).where('id', '=', id).execute();
  }

  /** Merges `progress` into the run's progress cursor (jsonb `||`: top-level keys replace). */
  async saveProgress(id: number, progress: JsonObject): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ progress: sql`progress || ${JSON.stringify(progress)}::jsonb`, updated_at: sql`now()` })
      .where('id', '=', id)
      .execute();
  }

  /** Scheduled runs whose time has come, urgent first, then oldest. */
  async listDue(now: Date, limit = 100): Promise<Run[]> {
    return this.db
      .selectFrom('runs')
      .selectAll()
      .where('state', '=', 'scheduled')
      .where('scheduled_for', '<=', now)
      .orderBy(sql`priority = 'urgent'`, 'desc')
      .orderBy('scheduled_for')
      .limit(limit)
      .execute();
  }

  /** Newest first, with each run's campaign id and content hash. */
  async list(filter: RunFilter = {}): Promise<RunWithCampaign[]> {
    let query = this.db
      .selectFrom('runs')
      .innerJoin('campaign_versions', 'campaign_versions.id', 'runs.campaign_version_id')
      .selectAll('runs')
      .select(['campaign_versions.campaign_id', 'campaign_versions.content_hash'])
      .orderBy('runs.id', 'desc')
      .limit(filter.limit ?? 50);
    if (filter.states && filter.states.length > 0) query = query.where('runs.state', 'in', [...filter.states]);
    if (filter.campaignId !== undefined) query = query.where('campaign_versions.campaign_id', '=', filter.campaignId);
    // A key scoped to areas sees the runs of the versions inside them (AreaScopeService).
    if (filter.campaignVersionIds !== undefined) query = query.where('runs.campaign_version_id', '=', sql<number>`ANY(${[...filter.campaignVersionIds]}::int8[])`);
    return query.execute();
  }

  async listByState(states: readonly RunState[]): Promise<Run[]> {
    if (states.length === 0) return [];
    return this.db.selectFrom('runs').selectAll().where('state', 'in', [...states]).orderBy('id').execute();
  }
}
