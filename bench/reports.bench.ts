import { sql } from 'kysely';
import { CARRIER_IDS } from '../src/domain/carrier.js';
import { wallTimeOf } from '../src/domain/time-zone.js';
import { buildDailyReport } from '../src/reports/daily-report.js';
import { runReportHtml } from '../src/reports/render.js';
import { ReportRepository } from '../src/reports/report.repository.js';
import { buildRunReport } from '../src/reports/run-report.js';
import { MessageRepository, type QueuedMessage } from '../src/store/message.repository.js';
import { RunCountRepository } from '../src/store/run-count.repository.js';
import { RunRepository } from '../src/store/run.repository.js';
import { benchStore, type Report } from './harness.js';

/** DESIGN.md/issue 12: a run report of a 1 M-message run, and a daily report over 10 runs, each under 1 s. */
const RUN_ROWS = 1_000_000;
const DAILY_RUNS = 10;
const DAILY_ROWS = 100_000;
const REPEATS = 5;

function* recipients(count: number): Generator<QueuedMessage> {
  for (let i = 0; i < count; i += 1) {
    yield { msisdn: String(84_900_000_000 + i), carrier: CARRIER_IDS[i % 3]!, province: '92', commune: `c${i % 80}`, partsTotal: 1 + (i % 2) };
  }
}

/** Final states as a finished run has them (the counters follow by trigger), then compacted as the sweeper does. */
async function finish(store: Awaited<ReturnType<typeof benchStore>>['store'], runId: number): Promise<void> {
  // Through `submitted` first, as a run goes: the counters' compaction keeps the timeline from it.
  await sql`UPDATE messages SET state = 'submitted' WHERE run_id = ${runId} AND id % 10 <> 8`.execute(store.db);
  await sql`UPDATE messages SET
      state = (CASE WHEN id % 10 < 7 THEN 'delivered' WHEN id % 10 = 7 THEN 'undeliverable' WHEN id % 10 = 8 THEN 'failed' ELSE 'unknown' END)::message_state,
      submitted_at = CASE WHEN id % 10 = 8 THEN NULL ELSE now() - interval '10 minutes' + (id % 600) * interval '1 second' END,
      done_at = now() - interval '9 minutes' + (id % 600) * interval '1 second',
      submit_status = CASE WHEN id % 10 = 8 THEN 11 END,
      error_code = CASE WHEN id % 10 = 7 THEN '001' END
    WHERE run_id = ${runId}`.execute(store.db);
  await sql`UPDATE runs SET state = 'completed', started_at = now() - interval '10 minutes', finished_at = now(), audience_size = (SELECT count(*) FROM messages WHERE run_id = ${runId}) WHERE id = ${runId}`.execute(store.db);
  await new RunCountRepository(store.db).compact(runId, 0);
  await sql`ANALYZE messages`.execute(store.db);
}

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm: plans and caches, as a report read twice
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i += 1) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

export async function run(report: Report): Promise<void> {
  const { store, versionId, close } = await benchStore('reports');
  try {
    const runs = new RunRepository(store.db);
    const messages = new MessageRepository(store.db, store.pool);
    const repository = new ReportRepository(store.db);

    const big = (await runs.createIfAbsent({ campaignVersionId: versionId, occurrenceId: 'big', scheduledFor: new Date(), launchedBy: 'bench' })).run.id;
    await messages.copyQueued(big, recipients(RUN_ROWS));
    await finish(store, big);
    let html = 0;
    const buildHtml = async () => {
      const built = await buildRunReport(repository, big);
      html = runReportHtml(built, 'vi').length;
    };
    // The first report of a finished run scans its messages once; later ones reuse the kept scan.
    const firstMs = await median(async () => {
      await sql`DELETE FROM report_run_scans`.execute(store.db);
      await buildHtml();
    });
    report({ bench: 'reports.run.first', value: Math.round(firstMs), unit: 'ms', messages: RUN_ROWS, htmlBytes: html, goalMs: 1000 });
    const runMs = await median(buildHtml);
    report({ bench: 'reports.run', value: Math.round(runMs), unit: 'ms', messages: RUN_ROWS, htmlBytes: html, goalMs: 1000 });
    // The parts: the counters (every count of the report), the timeline they keep, the one read of
    // the messages with an error code, and the full scan a run older than 0016 still needs.
    const countersMs = await median(() => repository.counters([big]));
    const timelineMs = await median(() => repository.countedTimeline(big, new Date(Date.now() - 600_000), 10));
    const errorsMs = await median(() => repository.errorScan(big));
    const scanMs = await median(() => repository.scanRun(big, new Date(Date.now() - 600_000), 10));
    report({ bench: 'reports.run.counters', value: Math.round(countersMs), unit: 'ms', messages: RUN_ROWS });
    report({ bench: 'reports.run.timeline', value: Math.round(timelineMs), unit: 'ms', messages: RUN_ROWS });
    report({ bench: 'reports.run.errors', value: Math.round(errorsMs), unit: 'ms', messages: RUN_ROWS });
    report({ bench: 'reports.run.scan', value: Math.round(scanMs), unit: 'ms', messages: RUN_ROWS, note: 'runs older than 0016 only' });

    for (let i = 0; i < DAILY_RUNS; i += 1) {
      const id = (await runs.createIfAbsent({ campaignVersionId: versionId, occurrenceId: `day-${i}`, scheduledFor: new Date(), launchedBy: 'bench' })).run.id;
      await messages.copyQueued(id, recipients(DAILY_ROWS));
      await finish(store, id);
    }
    const wall = wallTimeOf(new Date(), 'Asia/Ho_Chi_Minh');
    const day = `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
    const area = { key: 'province:92', label: '92', province: '92', communes: null, organisation: null, compilerName: null, compilerPhone: null };
    const dailyMs = await median(() => buildDailyReport(repository, { day, area }));
    report({ bench: 'reports.daily', value: Math.round(dailyMs), unit: 'ms', runs: DAILY_RUNS + 1, messages: DAILY_RUNS * DAILY_ROWS + RUN_ROWS, goalMs: 1000 });
  } finally {
    await close();
  }
}
