import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_IDS } from '../../src/domain/carrier.js';
import { MESSAGE_STATES } from '../../src/domain/message-state.js';
import { API_ROLES, CAMPAIGN_PRIORITIES, RUN_STATES } from '../../src/store/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe('store schema', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  async function enumValues(type: string): Promise<string[]> {
    const { rows } = await sql<{ value: string }>`SELECT unnest(enum_range(NULL::${sql.raw(type)}))::text AS value`.execute(database.store.db);
    return rows.map((row) => row.value);
  }

  it('has the message_state enum equal to MESSAGE_STATES, in order', async () => {
    expect(await enumValues('message_state')).toEqual([...MESSAGE_STATES]);
  });

  it('has the carrier_id enum equal to CARRIER_IDS', async () => {
    expect(await enumValues('carrier_id')).toEqual([...CARRIER_IDS]);
  });

  it('has the run_state, campaign_priority and api_role enums the TypeScript types list', async () => {
    expect(await enumValues('run_state')).toEqual([...RUN_STATES]);
    expect(await enumValues('campaign_priority')).toEqual([...CAMPAIGN_PRIORITIES]);
    expect(await enumValues('api_role')).toEqual([...API_ROLES]);
  });

  it('has every table the Database interface declares', async () => {
    const { rows } = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY 1`.execute(database.store.db);
    expect(rows.map((row) => row.name)).toEqual([
      'api_keys',
      'audio_clips',
      'audit_log',
      'campaign_versions',
      'campaigns',
      'carrier_outages',
      'launch_approval_rule',
      'launch_approvals',
      'lists',
      'message_segments',
      'messages',
      'opt_outs',
      'parked_receipts',
      'playlist_items',
      'plays',
      'portability',
      'purged_runs',
      'report_area_groups',
      'report_deliveries',
      'report_delivery_attempts',
      'report_entries',
      'report_run_scans',
      'run_counts',
      'run_timeline',
      'run_timeline_missing',
      'runs',
      'schedule_occurrences',
      'scheduler_leases',
      'schema_migrations',
      'screens',
      'segment_conflicts',
      'subscribers',
      'unmatched_receipts',
      'unreadable_receipts',
      'user_sessions',
      'users',
      'worker_leases',
    ]);
  });

  it('partitions messages by run', async () => {
    const { rows } = await sql<{ strategy: string }>`
      SELECT partstrat AS strategy FROM pg_partitioned_table WHERE partrelid = 'messages'::regclass`.execute(database.store.db);
    expect(rows).toEqual([{ strategy: 'l' }]);
  });

  it('partitions message_segments and parked_receipts by day, so retention drops partitions', async () => {
    const { rows } = await sql<{ name: string; strategy: string }>`
      SELECT partrelid::regclass::text AS name, partstrat AS strategy FROM pg_partitioned_table
      WHERE partrelid IN ('message_segments'::regclass, 'parked_receipts'::regclass) ORDER BY 1`.execute(database.store.db);
    expect(rows).toEqual([
      { name: 'message_segments', strategy: 'r' },
      { name: 'parked_receipts', strategy: 'r' },
    ]);
  });

  it('parses int8 as number, timestamptz as Date and date as a YYYY-MM-DD string', async () => {
    const { rows } = await sql<{ big: number; ids: number[]; at: Date; day: string }>`
      SELECT 9007199254740991::int8 AS big, ARRAY[1, 2]::int8[] AS ids, now() AS at, DATE '2021-09-23' AS day`.execute(database.store.db);
    expect(rows[0]).toEqual({ big: Number.MAX_SAFE_INTEGER, ids: [1, 2], at: expect.any(Date), day: '2021-09-23' });
    await expect(sql`SELECT 9007199254740993::int8 AS too_big`.execute(database.store.db)).rejects.toThrow(/does not fit a JS number/);
  });

  it('answers a health ping', async () => {
    await expect(database.store.ping()).resolves.toBe(true);
  });
});
