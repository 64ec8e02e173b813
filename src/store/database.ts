import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ApiRole } from '../domain/api-key.js';
import type { CarrierId } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';

/**
 * The Kysely view of src/store/migrations/*.sql, one interface per table, column names as in SQL
 * (snake_case, no case-converting plugin: what a query says is what the database has).
 *
 * Type mapping (set in db.ts): int8/bigserial → number (throws past 2^53), timestamptz → Date,
 * date → 'YYYY-MM-DD' string, numeric → string, jsonb → parsed JSON.
 */

export const RUN_STATES = ['scheduled', 'compiling', 'running', 'paused', 'cancelled', 'completed', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];
export const CAMPAIGN_PRIORITIES = ['normal', 'urgent'] as const;
export type CampaignPriority = (typeof CAMPAIGN_PRIORITIES)[number];
export { API_ROLES, type ApiRole } from '../domain/api-key.js';

/** JSON stored in jsonb columns. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A timestamptz with a database default: optional on insert, Date when read. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/**
 * A jsonb column holding an object: pg parses it on read and JSON.stringifies an object
 * parameter on write. (Never bind a top-level array to jsonb: pg would send a PostgreSQL array.)
 */
type Jsonb<T extends JsonObject> = ColumnType<T, T | string, T | string>;
type JsonbWithDefault<T extends JsonObject> = ColumnType<T, T | string | undefined, T | string>;

export interface SchemaMigrationsTable {
  version: string;
  name: string;
  checksum: string;
  applied_at: CreatedAt;
}

export interface CampaignsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
  archived: Generated<boolean>;
}

export interface CampaignVersionsTable {
  id: Generated<number>;
  campaign_id: string;
  content_hash: string;
  document: ColumnType<JsonObject, JsonObject | string, never>;
  created_at: CreatedAt;
  created_by: string;
}

export interface RunsTable {
  id: Generated<number>;
  campaign_version_id: number;
  occurrence_id: string;
  state: Generated<RunState>;
  priority: Generated<CampaignPriority>;
  scheduled_for: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  expires_at: NullableTimestamp;
  audience_size: number | null;
  progress: JsonbWithDefault<JsonObject>;
  launched_by: string;
  /** A test launch: compile sends to this list only (the campaign's audience is ignored). */
  test_list: ColumnType<string | null, string | null | undefined, string | null>;
  error: string | null;
  /** Why a paused run is paused: 'operator', 'quiet-hours' and 'auto:no-bind:<carrier>' (the scheduler resumes those), 'auto' (the submit path); 0009. */
  paused_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** A manual launch that overrode quiet hours: quiet hours never pause it (0009). */
  ignore_quiet_hours: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The scheduler's lease with its fencing token (0009). */
export interface SchedulerLeasesTable {
  name: string;
  holder: string;
  token: number;
  expires_at: Timestamp;
}

/** What the scheduler decided for an occurrence, unique per campaign (0009). */
export interface ScheduleOccurrencesTable {
  campaign_id: string;
  occurrence_id: string;
  nominal: Timestamp;
  state: 'launched' | 'skipped';
  reason: string | null;
  run_id: number | null;
  token: number;
  decided_at: CreatedAt;
}

/** The partitioned parent; rows are written by MessageRepository (COPY) only. */
export interface MessagesTable {
  run_id: number;
  id: number;
  carrier: CarrierId | null;
  state: Generated<MessageState>;
  parts_total: number;
  parts_submitted: Generated<number>;
  parts_delivered: Generated<number>;
  attempts: Generated<number>;
  submitted_at: NullableTimestamp;
  done_at: NullableTimestamp;
  msisdn: string;
  province: string | null;
  commune: string | null;
  error_code: string | null;
  /** The worker lease (worker_leases.id) that claimed the row; null until claimed. */
  claim: ColumnType<number | null, number | null | undefined, number | null>;
  /** SMPP command_status of a refused submit_sm (error_code holds a receipt's error). */
  submit_status: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface WorkerLeasesTable {
  id: Generated<number>;
  worker: string;
  started_at: CreatedAt;
  expires_at: Timestamp;
}

/** Per-statement deltas of message counts (0005_engine.sql), summed on read. */
export interface RunCountsTable {
  run_id: number;
  carrier: CarrierId | null;
  province: string | null;
  commune: string | null;
  state: MessageState;
  delta: number;
  segments: number;
  at: CreatedAt;
  /** A sum written by compaction rather than one statement's change (0016). */
  compacted: Generated<boolean>;
}

export interface MessageSegmentsTable {
  carrier: CarrierId;
  smsc_message_id: string;
  run_id: number;
  message_id: number;
  part: number;
  state: MessageState | null;
  submitted_at: CreatedAt;
  /** Partition key (UTC day of submitted_at). */
  submitted_day: ColumnType<string, string | undefined, never>;
}

export interface ParkedReceiptsTable {
  id: Generated<number>;
  carrier: CarrierId;
  smsc_message_id: string;
  state: MessageState;
  error_code: string | null;
  done_at: NullableTimestamp;
  received_at: CreatedAt;
  /** Partition key (UTC day of received_at). */
  received_day: ColumnType<string, string | undefined, never>;
  raw: string | null;
  /** The handset (the deliver_sm's source_addr, normalised), to resolve an ambiguous message by its receipt (0017). */
  msisdn: ColumnType<string | null, string | null | undefined, never>;
}

/** Parked receipts that found no segment within the receipt window (0004). */
export interface UnmatchedReceiptsTable {
  id: Generated<number>;
  carrier: CarrierId;
  smsc_message_id: string;
  state: MessageState;
  error_code: string | null;
  done_at: NullableTimestamp;
  received_at: Timestamp;
  expired_at: CreatedAt;
  raw: string | null;
}

/** SMSC ids markSubmitted isolated instead of storing: empty, or given twice in one batch (0004). */
export interface SegmentConflictsTable {
  id: Generated<number>;
  carrier: CarrierId;
  smsc_message_id: string;
  run_id: number;
  message_id: number;
  part: number;
  reason: 'empty-id' | 'duplicate-in-batch';
  created_at: CreatedAt;
}

/** Runs whose messages partition retention dropped (0004). */
export interface PurgedRunsTable {
  run_id: number;
  purged_at: CreatedAt;
}

export interface UnreadableReceiptsTable {
  id: Generated<number>;
  carrier: CarrierId;
  raw: string;
  reason: string;
  received_at: CreatedAt;
}

export interface ListsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
  /** Subscribers in the list, kept by the import in its transaction (0018). */
  subscriber_count: ColumnType<number, never, number>;
}

export interface SubscribersTable {
  list_id: string;
  msisdn: string;
  province: string | null;
  commune: string | null;
  attrs: JsonbWithDefault<Record<string, string>>;
}

export interface OptOutsTable {
  msisdn: string;
  reason: string | null;
  created_at: CreatedAt;
}

export interface PortabilityTable {
  msisdn: string;
  carrier: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ScreensTable {
  id: string;
  name: string;
  kind: string;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  token_hash: string;
  last_seen: NullableTimestamp;
  created_at: CreatedAt;
  // 0008_screens.sql
  province: Generated<string | null>;
  commune: Generated<string | null>;
  location: Generated<string | null>;
  languages: ColumnType<string[], string[] | undefined, string[]>;
  poll_interval: Generated<number>;
  version: ColumnType<number, number | undefined, number>;
  push_url: Generated<string | null>;
  pushed_version: ColumnType<number | null, number | null | undefined, number | null>;
  token_rotated_at: NullableTimestamp;
  // 0010_loudspeakers.sql
  hamlet: Generated<string | null>;
  airtime: ColumnType<AirtimeWindowJson[], string | undefined, string>;
  blackout: ColumnType<AirtimeWindowJson[], string | undefined, string>;
  time_zone: Generated<string>;
}

/** A local daily window (0010_loudspeakers.sql): `to` before `from` crosses midnight. */
export interface AirtimeWindowJson {
  from: string;
  to: string;
}

export interface AudioClipsTable {
  hash: string;
  content_type: string;
  bytes: Buffer;
  duration_ms: number;
  source: 'speech' | 'upload';
  text: string | null;
  /** Rendered, or last reused (AudioClipRepository.info touches it): retention counts from it. */
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PlaylistItemsTable {
  id: Generated<number>;
  screen_id: string | null;
  target_kinds: string[] | null;
  target_tags: string[] | null;
  campaign_id: string | null;
  run_id: number | null;
  texts: Jsonb<Record<string, string>>;
  duration: number;
  priority: Generated<CampaignPriority>;
  valid_from: Timestamp;
  valid_to: Timestamp;
  created_at: CreatedAt;
  // 0008_screens.sql
  target_ids: Generated<string[] | null>;
  target_provinces: Generated<string[] | null>;
  target_communes: Generated<string[] | null>;
  withdrawn_at: NullableTimestamp;
  entry: Generated<number | null>;
  // 0010_loudspeakers.sql
  audio_hash: Generated<string | null>;
  audio_ms: Generated<number | null>;
  repetitions: Generated<number | null>;
  target_hamlets: Generated<string[] | null>;
}

export interface PlaysTable {
  id: Generated<number>;
  screen_id: string;
  item_id: number;
  played_from: Timestamp;
  played_to: Timestamp;
  received_at: CreatedAt;
}

export interface ApiKeysTable {
  id: Generated<number>;
  name: string;
  key_hash: string;
  role: ApiRole;
  created_at: CreatedAt;
  revoked_at: NullableTimestamp;
  /** 'PROVINCE' or 'PROVINCE/COMMUNE' entries; null: the whole department (0012_api_scopes.sql). */
  areas: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: CreatedAt;
  actor: string;
  action: string;
  subject: string;
  details: JsonbWithDefault<JsonObject>;
}

// 0011_reports.sql (issue 12): read and written through src/reports/report.repository.ts.
export interface ReportAreaGroupsTable {
  id: string;
  name: string;
  province: string | null;
  communes: string[];
  organisation: string | null;
  compiler_name: string | null;
  compiler_phone: string | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ReportEntriesTable {
  id: Generated<number>;
  /** 'YYYY-MM-DD' */
  day: string;
  /** 'all', 'province:<code>' or 'group:<id>' */
  area: string;
  channel: string;
  count: number;
  /** numeric: a string when read */
  minutes: string | null;
  text: string;
  created_by: string;
  created_at: CreatedAt;
}

export interface ReportDeliveriesTable {
  id: Generated<number>;
  area: string;
  day: string;
  state: 'sending' | 'sent' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: NullableTimestamp;
  claimed_until: NullableTimestamp;
  recipients: string[];
  message_id: string | null;
  sent_at: NullableTimestamp;
  last_error: string | null;
  created_at: CreatedAt;
}

export interface ReportDeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  at: Timestamp;
  ok: boolean;
  error: string | null;
}

export interface ReportRunScansTable {
  run_id: number;
  signature: string;
  scan: Jsonb<JsonObject>;
  computed_at: CreatedAt;
}

/** Periods with no bound session to a carrier in any worker (0016_report_sources.sql). */
export interface CarrierOutagesTable {
  id: Generated<number>;
  carrier: CarrierId;
  started_at: Timestamp;
  ended_at: Date | null;
  opened_by: string;
  closed_by: string | null;
}

/** Submitted and delivered messages per run and second, kept by compaction (0016). */
export interface RunTimelineTable {
  run_id: number;
  kind: 'submitted' | 'delivered';
  second: Timestamp;
  count: number;
}

export interface RunTimelineMissingTable {
  run_id: number;
}

export interface Database {
  schema_migrations: SchemaMigrationsTable;
  campaigns: CampaignsTable;
  campaign_versions: CampaignVersionsTable;
  runs: RunsTable;
  scheduler_leases: SchedulerLeasesTable;
  schedule_occurrences: ScheduleOccurrencesTable;
  messages: MessagesTable;
  worker_leases: WorkerLeasesTable;
  run_counts: RunCountsTable;
  message_segments: MessageSegmentsTable;
  parked_receipts: ParkedReceiptsTable;
  unreadable_receipts: UnreadableReceiptsTable;
  unmatched_receipts: UnmatchedReceiptsTable;
  segment_conflicts: SegmentConflictsTable;
  purged_runs: PurgedRunsTable;
  lists: ListsTable;
  subscribers: SubscribersTable;
  opt_outs: OptOutsTable;
  portability: PortabilityTable;
  screens: ScreensTable;
  playlist_items: PlaylistItemsTable;
  plays: PlaysTable;
  audio_clips: AudioClipsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  report_area_groups: ReportAreaGroupsTable;
  report_entries: ReportEntriesTable;
  report_deliveries: ReportDeliveriesTable;
  report_delivery_attempts: ReportDeliveryAttemptsTable;
  report_run_scans: ReportRunScansTable;
  carrier_outages: CarrierOutagesTable;
  run_timeline: RunTimelineTable;
  run_timeline_missing: RunTimelineMissingTable;
}

export type Campaign = Selectable<CampaignsTable>;
export type CampaignVersion = Selectable<CampaignVersionsTable>;
export type Run = Selectable<RunsTable>;
export type NewRun = Insertable<RunsTable>;
export type RunUpdate = Updateable<RunsTable>;
export type Message = Selectable<MessagesTable>;
export type ParkedReceipt = Selectable<ParkedReceiptsTable>;
export type List = Selectable<ListsTable>;
export type Subscriber = Selectable<SubscribersTable>;
export type Screen = Selectable<ScreensTable>;
export type PlaylistItem = Selectable<PlaylistItemsTable>;
export type Play = Selectable<PlaysTable>;
export type AudioClip = Selectable<AudioClipsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type AuditEntry = Selectable<AuditLogTable>;
