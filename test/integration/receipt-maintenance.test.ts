import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiptMaintenance } from '../../src/jobs/receipt-maintenance.js';
import { MessageRepository } from '../../src/store/message.repository.js';
import { ReceiptRepository } from '../../src/store/receipt.repository.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';
import { testLogger as logger } from '../helpers/smpp.js';

const DAY = 86_400_000;

function dayName(table: string, at: Date): string {
  return `${table}_d${at.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

describe(ReceiptMaintenance.name, () => {
  let database: TestDatabase;
  let messages: MessageRepository;
  let receipts: ReceiptRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    messages = new MessageRepository(database.store.db, database.store.pool);
    receipts = new ReceiptRepository(database.store.db, database.store.pool, { receiptWindowMs: 3 * DAY });
  });
  afterAll(async () => {
    await database.drop();
  });

  async function tables(like: string): Promise<string[]> {
    const { rows } = await database.store.pool.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE $1 ORDER BY relname`, [like]);
    return rows.map((row) => row.relname);
  }

  it('drops day partitions past the receipt window and finished runs past retention, keeps the rest, and makes days ahead', async () => {
    const now = new Date();
    const old = new Date(now.getTime() - 10 * DAY);
    const pool = database.store.pool;
    for (const table of ['message_segments', 'parked_receipts']) await pool.query(`SELECT create_day_partition($1, $2::date)`, [table, old.toISOString().slice(0, 10)]);
    await pool.query(
      `INSERT INTO message_segments (carrier, smsc_message_id, run_id, message_id, part, submitted_at, submitted_day) VALUES ('viettel', 'gone', 1, 1, 1, $1, $2::date)`,
      [old, old.toISOString().slice(0, 10)],
    );
    // A parked receipt 10 days old: kept as unmatched before its partition goes.
    await pool.query(
      `INSERT INTO parked_receipts (carrier, smsc_message_id, state, received_at, received_day) VALUES ('vnpt', 'lost', 'delivered', $1, $2::date)`,
      [old, old.toISOString().slice(0, 10)],
    );
    const oldRun = await seedRun(database.store, 'retention-old');
    const finishedRun = await seedRun(database.store, 'retention-recent');
    const runningRun = await seedRun(database.store, 'retention-running');
    for (const runId of [oldRun, finishedRun, runningRun]) await messages.copyQueued(runId, [{ msisdn: '84912345678', carrier: 'viettel', partsTotal: 1 }]);
    await database.store.db.updateTable('runs').set({ state: 'completed', finished_at: new Date(now.getTime() - 40 * DAY) }).where('id', '=', oldRun).execute();
    await database.store.db.updateTable('runs').set({ state: 'completed', finished_at: new Date(now.getTime() - 2 * DAY) }).where('id', '=', finishedRun).execute();
    await pool.query(`UPDATE runs SET state = 'running', created_at = $1 WHERE id = $2`, [new Date(now.getTime() - 60 * DAY), runningRun]);
    const sut = new ReceiptMaintenance(receipts, logger, { retentionDays: 30, daysAhead: 3 });

    const result = await sut.run(now);
    const again = await sut.run(now);

    expect(result).toMatchObject({
      skipped: false,
      unmatched: 1,
      droppedSegmentDays: [dayName('message_segments', old)],
      droppedParkedDays: [dayName('parked_receipts', old)],
      droppedRuns: [oldRun],
    });
    expect(again).toMatchObject({ unmatched: 0, droppedSegmentDays: [], droppedParkedDays: [], droppedRuns: [] });
    const segmentDays = await tables('message\\_segments\\_d%');
    for (let d = 0; d <= 3; d += 1) expect(segmentDays).toContain(dayName('message_segments', new Date(now.getTime() + d * DAY)));
    expect(segmentDays).not.toContain(dayName('message_segments', old));
    expect(await tables('messages\\_r%')).toEqual([`messages_r${finishedRun}`, `messages_r${runningRun}`].sort());
    expect(await database.store.db.selectFrom('purged_runs').select('run_id').execute()).toEqual([{ run_id: oldRun }]);
    expect(await receipts.countUnmatched()).toBe(1);
  });

  it('reaches message_segments only through its key, however big and un-analysed (EXPLAIN of every statement)', async () => {
    const pool = database.store.pool;
    const runId = await seedRun(database.store, 'plans');
    await messages.copyQueued(runId, Array.from({ length: 2000 }, (_, i) => ({ msisdn: String(84_940_000_000 + i), carrier: 'viettel' as const, partsTotal: 1 })));
    await messages.markSubmitting(runId, Array.from({ length: 2000 }, (_, i) => i + 1));
    // 400,000 segments of another run, today, never analysed (autovacuum is off here; a real
    // server's lags behind): the planner knows the table's size but nothing of its contents.
    await pool.query(`SELECT create_day_partition('message_segments', loa_today())`);
    await pool.query(
      `INSERT INTO message_segments (carrier, smsc_message_id, run_id, message_id, part)
       SELECT 'viettel', 'big-' || g, 999999, g, 1 FROM generate_series(1, 400000) g`,
    );
    const { rows: analysed } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stats WHERE tablename LIKE 'message_segments%'`,
    );
    expect(Number(analysed[0]!.n)).toBe(0);

    // 500 receipts that overtook their submit_sm_resp: parked now, matched by the sweep below.
    await receipts.applyReceipts(Array.from({ length: 500 }, (_, i) => ({ carrier: 'viettel' as const, smscMessageId: `q-${i + 1}`, state: 'delivered' as const, error: null, doneAt: null })));
    await receipts.markSubmitted(runId, 'viettel', Array.from({ length: 500 }, (_, i) => ({ id: 1001 + i, smscMessageIds: [`q-${i + 1}`] })));

    const client = await pool.connect();
    try {
      const plans = await explained(client, async () => {
        await client.query(`SELECT * FROM mark_submitted($1, 'viettel', $2::text[], $3::int[], $4::int2[])`, [
          runId,
          Array.from({ length: 1000 }, (_, i) => `p-${i + 1}`),
          Array.from({ length: 1000 }, (_, i) => i + 1),
          Array.from({ length: 1000 }, () => 1),
        ]);
        await client.query(`SELECT * FROM apply_receipts($1::carrier_id[], $2::text[], $3::message_state[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[], '7 days')`, [
          Array.from({ length: 1000 }, () => 'viettel'),
          Array.from({ length: 1000 }, (_, i) => `p-${i + 1}`),
          Array.from({ length: 1000 }, () => 'delivered'),
          Array.from({ length: 1000 }, () => null),
          Array.from({ length: 1000 }, () => null),
          Array.from({ length: 1000 }, () => null),
          Array.from({ length: 1000 }, () => null),
        ]);
        const { rows: swept } = await client.query<{ applied: number }>(`SELECT * FROM match_parked(1000, '7 days', 0)`);
        expect(swept[0]!.applied).toBe(500);
      });
      const statements = plans.filter((plan) => /message_segments|messages/.test(plan.text));
      // mark_submitted; apply_receipts (segments, messages) called directly and from match_parked.
      expect(statements.length).toBeGreaterThanOrEqual(6);
      for (const plan of statements) {
        const nodes = flatten(plan.plan);
        const scanned = nodes.filter((node) => node['Node Type'] === 'Seq Scan').map((node) => String(node['Relation Name']));
        expect(scanned.filter((name) => /^message_segments|^messages_r|^parked_receipts/.test(name)), plan.text).toEqual([]);
        if (/apply_receipts|INSERT INTO message_segments|UPDATE messages m SET\s+parts_delivered/.test(plan.text)) {
          expect(nodes.some((node) => node['Node Type'] === 'Nested Loop'), plan.text).toBe(false);
        }
      }
    } finally {
      client.release();
    }
    expect((await messages.countsByState(runId)).delivered).toBe(1500);
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

/** Every plan PostgreSQL runs inside `fn`, nested statements of functions included (auto_explain). */
async function explained(client: pg.PoolClient, fn: () => Promise<void>): Promise<Array<{ text: string; plan: PlanNode }>> {
  const plans: Array<{ text: string; plan: PlanNode }> = [];
  const onNotice = (notice: { message?: string }) => {
    const message = notice.message ?? '';
    const start = message.indexOf('{');
    if (!message.startsWith('duration') || start < 0) return;
    const parsed = JSON.parse(message.slice(start)) as { 'Query Text': string; Plan: PlanNode };
    plans.push({ text: parsed['Query Text'], plan: parsed.Plan });
  };
  client.on('notice', onNotice);
  try {
    await client.query(`LOAD 'auto_explain'`);
    await client.query(`SET auto_explain.log_min_duration = 0`);
    await client.query(`SET auto_explain.log_nested_statements = on`);
    await client.query(`SET auto_explain.log_format = json`);
    await client.query(`SET client_min_messages = log`);
    await fn();
  } finally {
    await client.query(`RESET client_min_messages`);
    await client.query(`SET auto_explain.log_min_duration = -1`);
    client.off('notice', onNotice);
  }
  return plans;
}
