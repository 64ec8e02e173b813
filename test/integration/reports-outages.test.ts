import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIME_ZONE, wallTimeOf } from '../../src/domain/time-zone.js';
import { startCarrierBinds } from '../../src/jobs/carrier-binds.js';
import { buildDailyReport, type AbnormalEvent } from '../../src/reports/daily-report.js';
import { dailyReportHtml, dailyReportText } from '../../src/reports/render.js';
import { ReportRepository } from '../../src/reports/report.repository.js';
import { CarrierOutageRepository } from '../../src/store/carrier-outage.repository.js';
import { ReceiptRepository } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngineFixture, type EngineFixture } from '../helpers/engine.js';
import { testLogger } from '../helpers/smpp.js';

const TRANSPORT = {
  session: { reconnect: { baseMs: 50, maxMs: 200, bindRefusedBaseMs: 1_000, bindRefusedMaxMs: 2_000 }, timeouts: { connectMs: 300, bindMs: 300 } },
  faultPolicy: { noBindTimeoutMs: 60_000 },
  publishEveryMs: 100,
  outageGraceMs: 600,
};

interface OutageRow {
  carrier: string;
  startedAt: Date;
  endedAt: Date | null;
  openedBy: string;
  closedBy: string | null;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function today(): string {
  const wall = wallTimeOf(new Date(), DEFAULT_TIME_ZONE);
  return `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
}

const AREA = { key: 'province:92', label: '92', province: '92', communes: null, organisation: null, compilerName: null, compilerPhone: null };

describe('carrier outages: durable periods without a bind in any worker, in the daily report', () => {
  let database: TestDatabase;
  let fixture: EngineFixture;
  let stopSecond: () => Promise<void>;

  const outages = async (): Promise<OutageRow[]> =>
    (
      await sql<OutageRow>`SELECT carrier, started_at AS "startedAt", ended_at AS "endedAt", opened_by AS "openedBy", closed_by AS "closedBy"
        FROM carrier_outages ORDER BY id`.execute(database.store.db)
    ).rows;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One worker with a pool of two binds per carrier (the fixture), and a second worker process
    // sharing its Redis prefix and carriers: the deployment.
    fixture = await startEngineFixture(database.store, { binds: 2, carrierBinds: TRANSPORT, recordOutages: true });
    const second = await startCarrierBinds({
      config: fixture.config,
      redis: fixture.redis,
      receiptStore: new ReceiptRepository(database.store.db, database.store.pool),
      outages: new CarrierOutageRepository(database.store.db),
      logger: testLogger,
      options: TRANSPORT,
    });
    stopSecond = () => second.stop();
  });

  // Both workers live through every test of the file (useCleanups would stop them after the first).
  afterAll(async () => {
    await stopSecond?.();
    await fixture?.stop();
    await database.drop();
  });

  it('a bind lost for less than the grace is not an outage; starting the workers is not one either', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // past the grace since start
    expect(fixture.sims.viettel.dropAllConnections()).toBeGreaterThan(0);
    await waitFor(async () => fixture.binds.pools.viettel.boundCount === 2, 5_000, 'viettel bound again');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await outages()).toEqual([]);
  });

  it('an SMSC down for seconds: one outage row (not one per worker) while down, closed when a worker binds again; the daily report shows it in vi and en', async () => {
    const dropped = Date.now();
    const restart = fixture.sims.vnpt.restart(3_000);
    await waitFor(async () => (await outages()).length > 0, 5_000, 'the outage opened');
    const open = await outages();
    expect(open).toEqual([expect.objectContaining({ carrier: 'vnpt', endedAt: null, closedBy: null })]);
    // It began when the workers first saw no bind, not when the grace ran out.
    expect(open[0]!.startedAt.getTime()).toBeGreaterThanOrEqual(dropped - 1_000);
    expect(open[0]!.startedAt.getTime()).toBeLessThan(dropped + 600);

    const repository = new ReportRepository(database.store.db);
    const ongoing = await buildDailyReport(repository, { day: today(), area: AREA });
    const ongoingEvent = ongoing.events.find((e): e is Extract<AbnormalEvent, { type: 'carrier-outage' }> => e.type === 'carrier-outage');
    expect(ongoingEvent).toMatchObject({ carrier: 'vnpt', startedAt: open[0]!.startedAt.toISOString(), endedAt: null });
    expect(dailyReportHtml(ongoing, 'vi')).toContain('Nhà mạng VNPT (Vinaphone) mất kết nối từ');
    expect(dailyReportHtml(ongoing, 'vi')).toContain('chưa kết nối lại');

    await restart;
    await waitFor(async () => (await outages())[0]?.endedAt !== null, 8_000, 'the outage closed');
    const rows = await outages();
    // Two workers watched the same carrier: still one row, opened and closed once.
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.carrier).toBe('vnpt');
    const seconds = (row!.endedAt!.getTime() - row!.startedAt.getTime()) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(2.5);
    expect(seconds).toBeLessThan(10);

    const report = await buildDailyReport(repository, { day: today(), area: AREA });
    const events = report.events.filter((e) => e.type === 'carrier-outage');
    expect(events).toEqual([{ type: 'carrier-outage', carrier: 'vnpt', startedAt: row!.startedAt.toISOString(), endedAt: row!.endedAt!.toISOString(), seconds: Math.round(seconds) }]);
    const vi = dailyReportHtml(report, 'vi');
    expect(vi).toMatch(/Nhà mạng VNPT \(Vinaphone\) mất kết nối từ [^<]+ đến [^<]+ \(\d+ giây\)/);
    expect(vi).not.toContain('chưa kết nối lại');
    expect(dailyReportText(report, 'en')).toMatch(/VNPT \(Vinaphone\) without a bind from .+ to .+ \(\d+ s\)/);

    // Another day's report does not show it.
    const other = await buildDailyReport(repository, { day: '2020-01-01', area: AREA });
    expect(other.events.filter((e) => e.type === 'carrier-outage')).toEqual([]);
  });
});
