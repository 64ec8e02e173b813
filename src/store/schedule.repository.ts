import { sql, type Kysely } from 'kysely';
import type { CampaignPriority, Database, JsonObject } from './database.js';

/** A held scheduler lease: `token` fences every launch write of its holder. */
export interface SchedulerLease {
  name: string;
  holder: string;
  token: number;
  expiresAt: Date;
}

/** A run the scheduler launches for one occurrence. */
export interface OccurrenceLaunch {
  campaignId: string;
  campaignVersionId: number;
  occurrenceId: string;
  nominal: Date;
  scheduledFor: Date;
  expiresAt: Date;
  priority: CampaignPriority;
}

/**
 * The scheduler's PostgreSQL side: its lease (one active scheduler across processes) and the
 * occurrences it decided. Every time comes from the caller (the scheduler's injectable clock), so
 * tests drive lease expiry without sleeping; what fences a stale leader is the token, not the clock.
 */
export class ScheduleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Takes the lease when it is free or expired at `now`, with a token one higher than any before.
   * Undefined while another holder's lease is live.
   */
  async acquire(name: string, holder: string, now: Date, leaseMs: number): Promise<SchedulerLease | undefined> {
    const expires = new Date(now.getTime() + leaseMs);
    const { rows } = await sql<{ token: number; expires_at: Date }>`
      INSERT INTO scheduler_leases (name, holder, token, expires_at) VALUES (${name}, ${holder}, 1, ${expires})
      ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = scheduler_leases.token + 1, expires_at = EXCLUDED.expires_at
      WHERE scheduler_leases.expires_at <= ${now}
      RETURNING token, expires_at`.execute(this.db);
    const row = rows[0];
    return row ? { name, holder, token: row.token, expiresAt: row.expires_at } : undefined;
  }

  /** Extends a lease still held with this token; undefined when another holder took it over. */
  async renew(lease: SchedulerLease, now: Date, leaseMs: number): Promise<SchedulerLease | undefined> {
    const row = await this.db
      .updateTable('scheduler_leases')
      .set({ expires_at: new Date(now.getTime() + leaseMs) })
      .where('name', '=', lease.name)
      .where('token', '=', lease.token)
      .returning(['token', 'expires_at'])
      .executeTakeFirst();
    return row ? { ...lease, expiresAt: row.expires_at } : undefined;
  }

  /** Gives the lease up (a clean stop): the next scheduler takes over without waiting for expiry. */
  async release(lease: SchedulerLease): Promise<void> {
    await this.db.updateTable('scheduler_leases').set({ expires_at: new Date(0) }).where('name', '=', lease.name).where('token', '=', lease.token).execute();
  }

  /** The latest version of every campaign that is not archived and has a schedule. */
  async latestScheduledVersions(): Promise<Array<{ campaignId: string; versionId: number; document: JsonObject; campaignCreatedAt: Date }>> {
    const { rows } = await sql<{ campaign_id: string; id: number; document: JsonObject; created_at: Date }>`
      SELECT DISTINCT ON (v.campaign_id) v.campaign_id, v.id, v.document, c.created_at
      FROM campaign_versions v JOIN campaigns c ON c.id = v.campaign_id AND NOT c.archived
      WHERE v.document ? 'schedule'
      ORDER BY v.campaign_id, v.id DESC`.execute(this.db);
    return rows.map((row) => ({ campaignId: row.campaign_id, versionId: row.id, document: row.document, campaignCreatedAt: row.created_at }));
  }

  /** Which of these occurrence ids of the campaign were already decided (launched or skipped). */
  async decided(campaignId: string, occurrenceIds: readonly string[]): Promise<Set<string>> {
    if (occurrenceIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('schedule_occurrences')
      .select('occurrence_id')
      .where('campaign_id', '=', campaignId)
      .where('occurrence_id', 'in', [...occurrenceIds])
      .execute();
    return new Set(rows.map((row) => row.occurrence_id));
  }

  /**
   * Records the occurrence as launched and creates its run, in ONE statement that also checks the
   * lease token: nothing is written when `lease.token` is no longer the lease's token (a newer
   * scheduler took over), or when the occurrence was already decided (the primary key is per
   * campaign, so a new version of the campaign cannot launch it again).
   * Returns the run id, `fenced` when the token was stale, `decided` when it was already decided.
   */
  async launch(lease: SchedulerLease, launch: OccurrenceLaunch): Promise<{ runId: number } | 'fenced' | 'decided'> {
    const { rows } = await sql<{ fenced: boolean; run_id: number | null }>`
      WITH lease AS (
        -- FOR SHARE: a takeover (which updates this row) waits for this launch to commit, and a
        -- launch that started after the takeover sees the new token and writes nothing.
        SELECT token FROM scheduler_leases WHERE name = ${lease.name} AND token = ${lease.token} FOR SHARE
      ),
      id AS (SELECT nextval(pg_get_serial_sequence('runs', 'id')) AS run_id FROM lease),
      occurrence AS (
        INSERT INTO schedule_occurrences (campaign_id, occurrence_id, nominal, state, run_id, token)
        SELECT ${launch.campaignId}, ${launch.occurrenceId}, ${launch.nominal}, 'launched', id.run_id, lease.token FROM lease, id
        ON CONFLICT (campaign_id, occurrence_id) DO NOTHING
        RETURNING run_id
      ),
      run AS (
        INSERT INTO runs (id, campaign_version_id, occurrence_id, scheduled_for, launched_by, priority, expires_at)
        SELECT run_id, ${launch.campaignVersionId}, ${launch.occurrenceId}, ${launch.scheduledFor}, 'scheduler', ${launch.priority}::campaign_priority, ${launch.expiresAt}
        FROM occurrence
        RETURNING id
      )
      SELECT NOT EXISTS (SELECT 1 FROM lease) AS fenced, (SELECT id FROM run) AS run_id`.execute(this.db);
    const row = rows[0]!;
    if (row.fenced) return 'fenced';
    return row.run_id === null ? 'decided' : { runId: row.run_id };
  }

  /** Records the occurrence as skipped with its reason, fenced like `launch`. */
  async skip(lease: SchedulerLease, skipped: { campaignId: string; occurrenceId: string; nominal: Date; reason: string }): Promise<'skipped' | 'fenced' | 'decided'> {
    const { rows } = await sql<{ fenced: boolean; inserted: boolean }>`
      WITH lease AS (SELECT token FROM scheduler_leases WHERE name = ${lease.name} AND token = ${lease.token} FOR SHARE),
      ins AS (
        INSERT INTO schedule_occurrences (campaign_id, occurrence_id, nominal, state, reason, token)
        SELECT ${skipped.campaignId}, ${skipped.occurrenceId}, ${skipped.nominal}, 'skipped', ${skipped.reason}, token FROM lease
        ON CONFLICT (campaign_id, occurrence_id) DO NOTHING
        RETURNING 1
      )
      SELECT NOT EXISTS (SELECT 1 FROM lease) AS fenced, EXISTS (SELECT 1 FROM ins) AS inserted`.execute(this.db);
    const row = rows[0]!;
    return row.fenced ? 'fenced' : row.inserted ? 'skipped' : 'decided';
  }

  async occurrences(campaignId: string): Promise<Array<{ occurrenceId: string; state: string; reason: string | null; runId: number | null; token: number }>> {
    const rows = await this.db.selectFrom('schedule_occurrences').selectAll().where('campaign_id', '=', campaignId).orderBy('nominal').execute();
    return rows.map((row) => ({ occurrenceId: row.occurrence_id, state: row.state, reason: row.reason, runId: row.run_id, token: row.token }));
  }
}
