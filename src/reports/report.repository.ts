import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CarrierId } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';
import type { Database, JsonObject, RunState } from '../store/database.js';
import { RunCountRepository } from '../store/run-count.repository.js';
import type { AreaFilter } from './area.js';

export interface RunRow {
  id: number;
  state: RunState;
  campaignId: string;
  campaignName: string;
  document: JsonObject;
  audienceSize: number | null;
  scheduledFor: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  pausedReason: string | null;
}

export interface CounterRow {
  runId: number;
  carrier: CarrierId | null;
  province: string | null;
  commune: string | null;
  state: MessageState;
  count: number;
  segments: number;
}

export interface RunScan {
  timeline: Array<{ kind: 'submitted' | 'delivered'; bucket: number; count: number }>;
  errors: Array<{ carrier: CarrierId | null; state: MessageState; submitStatus: number | null; errorCode: string | null; count: number }>;
}

export interface CarrierOutage {
  carrier: CarrierId;
  startedAt: Date;
  endedAt: Date | null;
}

export interface PlayRow {
  screenId: string;
  screenName: string;
  kind: string;
  province: string | null;
  commune: string | null;
  campaignId: string | null;
  runId: number | null;
  text: string | null;
  plays: number;
  seconds: number;
}

export interface ScreenRow {
  id: string;
  name: string;
  kind: string;
  province: string | null;
  commune: string | null;
  lastSeen: Date | null;
  pollInterval: number;
}

export interface ManualEntry {
  id: number;
  day: string;
  area: string;
  channel: string;
  count: number;
  minutes: number | null;
  text: string;
  createdBy: string;
  createdAt: Date;
}

export interface AreaGroup {
  id: string;
  name: string;
  province: string | null;
  communes: string[];
  organisation: string | null;
  compilerName: string | null;
  compilerPhone: string | null;
}

export interface PauseEvent {
  runId: number;
  at: Date;
  actor: string;
  code: string | null;
  reason: string | null;
}

export interface DeliveryRow {
  id: number;
  area: string;
  day: string;
  state: 'sending' | 'sent' | 'failed';
  attempts: number;
  nextAttemptAt: Date | null;
  recipients: string[];
  messageId: string | null;
  sentAt: Date | null;
  lastError: string | null;
}

export interface FailedAttempt {
  day: string;
  at: Date;
  error: string | null;
  state: DeliveryRow['state'];
  sentAt: Date | null;
}

/** `province`/`commune` columns of `alias` inside `area`; TRUE for everything. */
function inArea(area: AreaFilter, provinceColumn: string, communeColumn: string): RawBuilder<boolean> {
  const province = sql.ref(provinceColumn);
  const commune = sql.ref(communeColumn);
  if (area.communes) {
    const communes = sql`${commune} = ANY(${area.communes}::text[])`;
    return area.province ? sql<boolean>`(${province} = ${area.province} AND ${communes})` : sql<boolean>`${communes}`;
  }
  if (area.province) return sql<boolean>`${province} = ${area.province}`;
  return sql<boolean>`TRUE`;
}

/**
 * Every read the reports make, and the writes of their own tables (0011_reports.sql). Message
 * counts come from the status counters (run_counts, summed), never from a scan of `messages`; the
 * run timeline too (run_timeline, kept by compaction); only the run report's error codes read the
 * run's own partition (and the timeline of a run older than 0016).
 */
export class ReportRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async run(runId: number): Promise<RunRow | undefined> {
    const rows = await this.runsWhere(sql`r.id = ${runId}`);
    return rows[0];
  }

  /** Runs that started within [from, to): the runs of a day. */
  async runsStartedBetween(from: Date, to: Date): Promise<RunRow[]> {
    return this.runsWhere(sql`r.started_at >= ${from} AND r.started_at < ${to}`);
  }

  private async runsWhere(condition: RawBuilder<unknown>): Promise<RunRow[]> {
    const { rows } = await sql<RunRow>`
      SELECT r.id, r.state, c.id AS "campaignId", c.name AS "campaignName", v.document, r.audience_size AS "audienceSize",
             r.scheduled_for AS "scheduledFor", r.started_at AS "startedAt", r.finished_at AS "finishedAt", r.error, r.paused_reason AS "pausedReason"
      FROM runs r JOIN campaign_versions v ON v.id = r.campaign_version_id JOIN campaigns c ON c.id = v.campaign_id
      WHERE ${condition} ORDER BY r.id`.execute(this.db);
    return rows;
  }

  /** The counters of these runs by (run, carrier, province, commune, state), within `area`. */
  async counters(runIds: readonly number[], area: AreaFilter | null = null): Promise<CounterRow[]> {
    if (runIds.length === 0) return [];
    const where = area ? inArea(area, 'province', 'commune') : sql`TRUE`;
    const { rows } = await sql<CounterRow>`
      SELECT run_id AS "runId", carrier, province, commune, state, sum(delta)::bigint AS count, sum(segments)::bigint AS segments
      FROM run_counts WHERE run_id = ANY(${[...runIds]}::bigint[]) AND ${where}
      GROUP BY run_id, carrier, province, commune, state HAVING sum(delta) <> 0`.execute(this.db);
    return rows;
  }

  /**
   * One pass over the run's partition (the counters are compacted and keep no history): submitted
   * and delivered messages per time bucket of `bucketSeconds` from `from`, and the SMSC refusals
   * (submit_status) and receipt error codes per carrier and state. One plain GROUP BY over all six
   * keys (a few thousand groups at most), folded here: it can run as a parallel aggregate, which
   * GROUPING SETS cannot; date_part (double precision) rather than extract (numeric since
   * PostgreSQL 14) keeps the per-row work small.
   */
  async scanRun(runId: number, from: Date, bucketSeconds: number): Promise<RunScan> {
    const origin = from.getTime() / 1000;
    const { rows } = await sql<{ sb: number | null; db: number | null; carrier: CarrierId | null; state: MessageState | null; submitStatus: number | null; errorCode: string | null; count: number }>`
      SELECT
        -- greatest() ignores NULL: a message never submitted must stay NULL, not fall in bucket 0.
        CASE WHEN submitted_at IS NOT NULL THEN greatest(0, floor((date_part('epoch', submitted_at) - ${origin}::float8) / ${bucketSeconds}::float8))::int END AS sb,
        CASE WHEN state = 'delivered' AND done_at IS NOT NULL THEN greatest(0, floor((date_part('epoch', done_at) - ${origin}::float8) / ${bucketSeconds}::float8))::int END AS db,
        carrier,
        CASE WHEN state = 'delivered' THEN NULL ELSE state END AS state,
        CASE WHEN state = 'delivered' THEN NULL ELSE submit_status END AS "submitStatus",
        CASE WHEN state = 'delivered' THEN NULL ELSE error_code END AS "errorCode",
        count(*)::int AS count
      FROM messages WHERE run_id = ${runId}
      GROUP BY 1, 2, 3, 4, 5, 6`.execute(this.db);
    const submitted = new Map<number, number>();
    const delivered = new Map<number, number>();
    const errors = new Map<string, RunScan['errors'][number]>();
    for (const row of rows) {
      if (row.sb !== null) submitted.set(row.sb, (submitted.get(row.sb) ?? 0) + row.count);
      if (row.db !== null) delivered.set(row.db, (delivered.get(row.db) ?? 0) + row.count);
      if (row.state !== null && (row.submitStatus !== null || row.errorCode !== null)) {
        const key = `${row.carrier}\u0000${row.state}\u0000${row.submitStatus}\u0000${row.errorCode}`;
        const entry = errors.get(key) ?? { carrier: row.carrier, state: row.state, submitStatus: row.submitStatus, errorCode: row.errorCode, count: 0 };
        entry.count += row.count;
        errors.set(key, entry);
      }
    }
    return {
      timeline: [
        ...[...submitted].map(([bucket, count]) => ({ kind: 'submitted' as const, bucket, count })),
        ...[...delivered].map(([bucket, count]) => ({ kind: 'delivered' as const, bucket, count })),
      ],
      errors: [...errors.values()].sort((a, b) => b.count - a.count),
    };
  }

  /** Runs created before 0016 have no kept timeline: their report scans their messages for it. */
  async timelineMissing(runId: number): Promise<boolean> {
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one FROM run_timeline_missing WHERE run_id = ${runId}`.execute(this.db);
    return rows.length > 0;
  }

  /** The timeline from the counters (RunCountRepository.timeline), in buckets of `bucketSeconds` from `from`. */
  async countedTimeline(runId: number, from: Date, bucketSeconds: number): Promise<RunScan['timeline']> {
    const buckets = new Map<string, RunScan['timeline'][number]>();
    for (const row of await new RunCountRepository(this.db).timeline(runId)) {
      const bucket = Math.max(0, Math.floor((row.second.getTime() - from.getTime()) / 1000 / bucketSeconds));
      const key = `${row.kind}:${bucket}`;
      const entry = buckets.get(key) ?? { kind: row.kind, bucket, count: 0 };
      entry.count += Number(row.count);
      buckets.set(key, entry);
    }
    return [...buckets.values()];
  }

  /**
   * SMSC refusals and receipt error codes of the run: only its messages that carry one are grouped
   * (a few per cent of a run), by four keys; the timeline comes from the counters.
   */
  async errorScan(runId: number): Promise<RunScan['errors']> {
    const { rows } = await sql<RunScan['errors'][number]>`
      SELECT carrier, state, submit_status AS "submitStatus", error_code AS "errorCode", count(*)::int AS count
      FROM messages WHERE run_id = ${runId} AND state <> 'delivered' AND (submit_status IS NOT NULL OR error_code IS NOT NULL)
      GROUP BY 1, 2, 3, 4 ORDER BY count DESC`.execute(this.db);
    return rows;
  }

  /** Carrier outages (0016) overlapping [from, to), oldest first. */
  async outagesBetween(from: Date, to: Date): Promise<CarrierOutage[]> {
    const { rows } = await sql<CarrierOutage>`
      SELECT carrier, started_at AS "startedAt", ended_at AS "endedAt" FROM carrier_outages
      WHERE started_at < ${to} AND (ended_at IS NULL OR ended_at > ${from}) ORDER BY started_at, id`.execute(this.db);
    return rows;
  }

  /** A finished run's scan kept with the counters' signature at the time (0011). */
  async cachedScan(runId: number, signature: string): Promise<RunScan | undefined> {
    const { rows } = await sql<{ scan: RunScan }>`SELECT scan FROM report_run_scans WHERE run_id = ${runId} AND signature = ${signature}`.execute(this.db);
    return rows[0]?.scan;
  }

  async keepScan(runId: number, signature: string, scan: RunScan): Promise<void> {
    await sql`INSERT INTO report_run_scans (run_id, signature, scan) VALUES (${runId}, ${signature}, ${JSON.stringify(scan)}::jsonb)
      ON CONFLICT (run_id) DO UPDATE SET signature = EXCLUDED.signature, scan = EXCLUDED.scan, computed_at = now()`.execute(this.db);
  }

  /** Plays of the run's playlist items, per screen. */
  async runPlays(runId: number): Promise<PlayRow[]> {
    return this.playsWhere(sql`i.run_id = ${runId}`);
  }

  /** Plays that began within [from, to) on screens (any kind) in `area`. */
  async playsBetween(from: Date, to: Date, area: AreaFilter): Promise<PlayRow[]> {
    return this.playsWhere(sql`p.played_from >= ${from} AND p.played_from < ${to} AND ${inArea(area, 's.province', 's.commune')}`);
  }

  private async playsWhere(condition: RawBuilder<unknown>): Promise<PlayRow[]> {
    const { rows } = await sql<PlayRow>`
      SELECT s.id AS "screenId", s.name AS "screenName", s.kind, s.province, s.commune, i.campaign_id AS "campaignId", i.run_id AS "runId",
             coalesce(i.texts->>'vi', i.texts->>'en') AS text, count(*)::int AS plays,
             coalesce(sum(extract(epoch FROM p.played_to - p.played_from)), 0)::float8 AS seconds
      FROM plays p JOIN screens s ON s.id = p.screen_id JOIN playlist_items i ON i.id = p.item_id
      WHERE ${condition}
      GROUP BY s.id, s.name, s.kind, s.province, s.commune, i.campaign_id, i.run_id, text
      ORDER BY s.id, i.run_id NULLS LAST`.execute(this.db);
    return rows;
  }

  async screensIn(area: AreaFilter): Promise<ScreenRow[]> {
    const { rows } = await sql<ScreenRow>`
      SELECT id, name, kind, province, commune, last_seen AS "lastSeen", poll_interval AS "pollInterval"
      FROM screens s WHERE ${inArea(area, 's.province', 's.commune')} ORDER BY id`.execute(this.db);
    return rows;
  }

  /** Pauses recorded in the audit log within [from, to) (run control writes one per pause). */
  async pausesBetween(from: Date, to: Date): Promise<PauseEvent[]> {
    const { rows } = await sql<PauseEvent>`
      SELECT (details->>'runId')::bigint AS "runId", at, actor, details->>'code' AS code, details->>'reason' AS reason
      FROM audit_log WHERE action = 'run.pause' AND at >= ${from} AND at < ${to} AND details ? 'runId' ORDER BY at, id`.execute(this.db);
    return rows;
  }

  /** A run's pauses, resumes and cancel, oldest first. */
  async runControlHistory(runId: number): Promise<Array<{ at: Date; action: string; actor: string; code: string | null; reason: string | null }>> {
    const { rows } = await sql<{ at: Date; action: string; actor: string; code: string | null; reason: string | null }>`
      SELECT at, action, actor, details->>'code' AS code, details->>'reason' AS reason FROM audit_log
      WHERE subject = ${`run:${runId}`} AND action IN ('run.pause', 'run.resume', 'run.cancel') ORDER BY at, id`.execute(this.db);
    return rows;
  }

  /** Which of these runs have messages in `area`. */
  async runsTouching(runIds: readonly number[], area: AreaFilter): Promise<Set<number>> {
    if (runIds.length === 0) return new Set();
    const { rows } = await sql<{ runId: number }>`
      SELECT DISTINCT run_id AS "runId" FROM run_counts WHERE run_id = ANY(${[...runIds]}::bigint[]) AND ${inArea(area, 'province', 'commune')}`.execute(this.db);
    return new Set(rows.map((row) => row.runId));
  }

  // ------------------------------------------------------------ area groups

  async group(id: string): Promise<AreaGroup | undefined> {
    return (await this.groupsWhere(sql`id = ${id}`))[0];
  }

  async groups(): Promise<AreaGroup[]> {
    return this.groupsWhere(sql`TRUE`);
  }

  private async groupsWhere(condition: RawBuilder<unknown>): Promise<AreaGroup[]> {
    const { rows } = await sql<AreaGroup>`
      SELECT id, name, province, communes, organisation, compiler_name AS "compilerName", compiler_phone AS "compilerPhone"
      FROM report_area_groups WHERE ${condition} ORDER BY id`.execute(this.db);
    return rows;
  }

  async putGroup(group: AreaGroup): Promise<{ group: AreaGroup; created: boolean }> {
    const { rows } = await sql<AreaGroup & { created: boolean }>`
      INSERT INTO report_area_groups (id, name, province, communes, organisation, compiler_name, compiler_phone)
      VALUES (${group.id}, ${group.name}, ${group.province}, ${group.communes}::text[], ${group.organisation}, ${group.compilerName}, ${group.compilerPhone})
      ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, province = EXCLUDED.province, communes = EXCLUDED.communes,
        organisation = EXCLUDED.organisation, compiler_name = EXCLUDED.compiler_name, compiler_phone = EXCLUDED.compiler_phone, updated_at = now()
      RETURNING id, name, province, communes, organisation, compiler_name AS "compilerName", compiler_phone AS "compilerPhone", (xmax = 0) AS created`.execute(this.db);
    const { created, ...saved } = rows[0]!;
    return { group: saved, created };
  }

  async deleteGroup(id: string): Promise<boolean> {
    const result = await sql`DELETE FROM report_area_groups WHERE id = ${id}`.execute(this.db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  // ------------------------------------------------------------ manual entries

  async addEntry(entry: Omit<ManualEntry, 'id' | 'createdAt'>): Promise<ManualEntry> {
    const { rows } = await sql<ManualEntry>`
      INSERT INTO report_entries (day, area, channel, count, minutes, text, created_by)
      VALUES (${entry.day}::date, ${entry.area}, ${entry.channel}, ${entry.count}, ${entry.minutes}, ${entry.text}, ${entry.createdBy})
      RETURNING id, day, area, channel, count, minutes::float8 AS minutes, text, created_by AS "createdBy", created_at AS "createdAt"`.execute(this.db);
    return rows[0]!;
  }

  async entries(day: string, area: string): Promise<ManualEntry[]> {
    const { rows } = await sql<ManualEntry>`
      SELECT id, day, area, channel, count, minutes::float8 AS minutes, text, created_by AS "createdBy", created_at AS "createdAt"
      FROM report_entries WHERE area = ${area} AND day = ${day}::date ORDER BY id`.execute(this.db);
    return rows;
  }

  async entryArea(id: number): Promise<string | null> {
    const { rows } = await sql<{ area: string }>`SELECT area FROM report_entries WHERE id = ${id}`.execute(this.db);
    return rows[0]?.area ?? null;
  }

  async deleteEntry(id: number): Promise<boolean> {
    const result = await sql`DELETE FROM report_entries WHERE id = ${id}`.execute(this.db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  // ------------------------------------------------------------ deliveries

  /**
   * Takes the (area, day) send for `holdMs`: creates the delivery, or takes over one that failed and
   * is due again, or whose sender's hold expired. Undefined when it was sent, or someone holds it,
   * or its next attempt is not due: the one statement makes two schedulers send it once.
   */
  async claimDelivery(area: string, day: string, recipients: readonly string[], now: Date, holdMs: number): Promise<DeliveryRow | undefined> {
    const until = new Date(now.getTime() + holdMs);
    const { rows } = await sql<DeliveryRow>`
      INSERT INTO report_deliveries (area, day, state, recipients, claimed_until)
      VALUES (${area}, ${day}::date, 'sending', ${[...recipients]}::text[], ${until})
      ON CONFLICT (area, day) DO UPDATE SET state = 'sending', claimed_until = ${until}, recipients = EXCLUDED.recipients
        WHERE (report_deliveries.state = 'failed' AND report_deliveries.next_attempt_at <= ${now})
           OR (report_deliveries.state = 'sending' AND report_deliveries.claimed_until < ${now})
      RETURNING ${deliveryColumns}`.execute(this.db);
    return rows[0];
  }

  async recordAttempt(deliveryId: number, outcome: { at: Date; ok: true; messageId: string | null } | { at: Date; ok: false; error: string; nextAttemptAt: Date | null }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO report_delivery_attempts (delivery_id, at, ok, error) VALUES (${deliveryId}, ${outcome.at}, ${outcome.ok}, ${outcome.ok ? null : outcome.error})`.execute(trx);
      if (outcome.ok) {
        await sql`UPDATE report_deliveries SET state = 'sent', attempts = attempts + 1, sent_at = ${outcome.at}, message_id = ${outcome.messageId},
          claimed_until = NULL, next_attempt_at = NULL WHERE id = ${deliveryId}`.execute(trx);
      } else {
        await sql`UPDATE report_deliveries SET state = 'failed', attempts = attempts + 1, last_error = ${outcome.error},
          claimed_until = NULL, next_attempt_at = ${outcome.nextAttemptAt} WHERE id = ${deliveryId}`.execute(trx);
      }
    });
  }

  async delivery(area: string, day: string): Promise<DeliveryRow | undefined> {
    const { rows } = await sql<DeliveryRow>`SELECT ${deliveryColumns} FROM report_deliveries WHERE area = ${area} AND day = ${day}::date`.execute(this.db);
    return rows[0];
  }

  /** Failed attempts to e-mail this area's report of `day`. */
  async failedAttempts(area: string, day: string): Promise<FailedAttempt[]> {
    const { rows } = await sql<FailedAttempt>`
      SELECT d.day, a.at, a.error, d.state, d.sent_at AS "sentAt"
      FROM report_delivery_attempts a JOIN report_deliveries d ON d.id = a.delivery_id
      WHERE d.area = ${area} AND d.day = ${day}::date AND NOT a.ok ORDER BY a.at, a.id`.execute(this.db);
    return rows;
  }
}

const deliveryColumns = sql.raw(
  `id, area, day, state, attempts, next_attempt_at AS "nextAttemptAt", recipients, message_id AS "messageId", sent_at AS "sentAt", last_error AS "lastError"`,
);
