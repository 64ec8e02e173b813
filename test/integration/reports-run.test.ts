import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { wallTimeOf } from '../../src/domain/time-zone.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import type { DailyReport } from '../../src/reports/daily-report.js';
import type { RunReport } from '../../src/reports/run-report.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { AuditRepository, MessageRepository } from '../../src/store/index.js';
import { runLoa } from '../helpers/cli.js';
import { createTestDatabase, seedRun as seedDbRun, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';
import { chromiumOptions } from '../helpers/browser.js';

/** Viettel and VNPT subscribers over three communes of province 92; commune 31150's are all refused by VNPT. */
const REACHED = ['31117', '31120'];
const REFUSED_COMMUNE = '31150';
const PER_CARRIER = 120;

function localDay(at: Date): string {
  const wall = wallTimeOf(at, 'Asia/Ho_Chi_Minh');
  return `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
}

describe('reports from a mixed-outcome run across two communes and two carriers', () => {
  let database: TestDatabase;
  let fixture: EngineFixture;
  let services: ApiServices;
  let app: FastifyInstance;
  let url: string;
  let runId: number;
  let operatorToken: string;
  let viewerToken: string;
  const refused = new Set<string>();
  let day = '';

  const count = async (query: ReturnType<typeof sql<{ n: number }>>) => (await query.execute(database.store.db)).rows[0]?.n ?? 0;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
    const rows = (['viettel', 'vnpt'] as const).flatMap((carrier) =>
      Array.from({ length: PER_CARRIER }, (_, i) => {
        const msisdn = subscriber(carrier, 300_000 + i);
        const commune = carrier === 'vnpt' && i % 10 === 0 ? REFUSED_COMMUNE : REACHED[i % 2]!;
        if (commune === REFUSED_COMMUNE) refused.add(msisdn);
        return { msisdn, province: '92', commune };
      }),
    );
    await seedList(database.store, 'mixed', rows);
    fixture = await startEngineFixture(database.store, {
      sim: (carrier) => ({
        receipts: { outcomes: carrier === 'vnpt' ? { delivered: 0.6, undeliverable: 0.4, expired: 0, rejected: 0 } : { delivered: 0.85, undeliverable: 0.1, expired: 0.05, rejected: 0 }, delayMs: { min: 1, max: 20 } },
        // VNPT refuses the subscribers of one commune outright (ESME_RINVDSTADR).
        ...(carrier === 'vnpt' ? { rejectDestination: (to: string) => (refused.has(to) ? 0x0b : 0) } : {}),
      }),
    });
    runId = await seedRun(database.store, {
      id: 'bao-cao-test',
      name: 'Phòng chống dịch: khẩu trang nơi công cộng',
      message: { text: 'Sở TTTT Cần Thơ: Đeo khẩu trang nơi công cộng. Đường dây nóng 1900 9095', encoding: 'ucs2', sender: { viettel: 'STTTT-CT', vnpt: 'STTTT-CT', mobifone: 'STTTT-CT' } },
      audience: { lists: ['mixed'] },
    });
    await fixture.engine.queues.enqueueCompile(runId);
    const done = await waitForStatus(fixture.engine, runId, (s) => s.state === 'completed', 60_000);
    day = localDay(new Date(done.startedAt!));

    // A LED screen that played the run's item, one that never connected, and two loudspeakers
    // (rows as the loudspeakers helper writes them: screens.kind = 'loudspeaker', plays).
    const db = database.store.db;
    await sql`INSERT INTO screens (id, name, kind, token_hash, province, commune, last_seen) VALUES
      ('led-ninh-kieu', 'Màn hình Ninh Kiều', 'led', 'x1', '92', '31117', now()),
      ('led-off', 'Màn hình bến xe', 'led', 'x2', '92', '31117', NULL),
      ('loa-1', 'Loa ấp 1', 'loudspeaker', 'x3', '92', '31120', now()),
      ('loa-2', 'Loa ấp 2', 'loudspeaker', 'x4', '92', '31118', now()),
      ('loa-far', 'Loa tỉnh khác', 'loudspeaker', 'x5', '94', '99999', now())`.execute(db);
    const item = await sql<{ id: number }>`INSERT INTO playlist_items (campaign_id, run_id, texts, duration, valid_from, valid_to)
      VALUES ('bao-cao-test', ${runId}, '{"vi":"Đeo khẩu trang nơi công cộng"}', 30, now() - interval '1 day', now() + interval '1 day') RETURNING id`.execute(db);
    const itemId = item.rows[0]!.id;
    // Plays just after the run started, so they fall on its day (Vietnam time) whenever the test runs.
    await sql`INSERT INTO plays (screen_id, item_id, played_from, played_to)
      SELECT v.screen_id, ${itemId}, r.started_at + v.f * interval '1 second', r.started_at + v.t * interval '1 second'
      FROM runs r, (VALUES ('led-ninh-kieu', 1, 31), ('led-ninh-kieu', 40, 70), ('loa-1', 80, 170), ('loa-1', 200, 230), ('loa-2', 1, 61), ('loa-far', 1, 121)) AS v(screen_id, f, t)
      WHERE r.id = ${runId}`.execute(db);
    // An operator's pause, as run control records it.
    await new AuditRepository(db).record({ actor: 'key:1:test', action: 'run.pause', subject: `run:${runId}`, details: { runId } });

    services = createApiServices(database.store, { launcher: fixture.engine.queues, statusReader: fixture.engine.status }, { reportDefaults: { organisation: 'Trung tâm VHTT và Truyền thanh quận Ninh Kiều', compilerName: 'Nguyễn Văn An', compilerPhone: '0292 3811 502', timeZone: 'Asia/Ho_Chi_Minh' } });
    app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    operatorToken = (await services.apiKeys.create({ role: 'operator', name: 'reports-operator' }, 'test')).token;
    viewerToken = (await services.apiKeys.create({ role: 'viewer', name: 'reports-viewer' }, 'test')).token;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await fixture?.stop();
    await database?.drop();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const get = async <T>(path: string, token = viewerToken): Promise<{ status: number; body: T; text: string; type: string }> => {
    const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, text, type, body: (type.startsWith('application/json') ? JSON.parse(text) : text) as T };
  };

  it('run report: every count equals a direct SQL count of the run’s messages', async () => {
    const { status, body: report } = await get<RunReport>(`/v1/reports/runs/${runId}`);
    expect(status).toBe(200);
    const byCarrierState = (await sql<{ carrier: string; state: string; n: number }>`SELECT carrier, state, count(*)::int AS n FROM messages WHERE run_id = ${runId} GROUP BY 1, 2`.execute(database.store.db)).rows;
    expect(byCarrierState.length).toBeGreaterThan(3);
    for (const row of byCarrierState) expect(report.carriers.find((c) => c.carrier === row.carrier)!.counts[row.state as 'delivered'], `${row.carrier} ${row.state}`).toBe(row.n);
    const audience = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId}`);
    expect(audience).toBe(2 * PER_CARRIER);
    expect(report.total).toBe(audience);
    expect(report.audienceSize).toBe(audience);
    expect(report.carriers.reduce((n, c) => n + c.total, 0) + report.unroutable).toBe(audience);
    // Mixed outcomes: delivered, undeliverable by receipt, refused by the SMSC.
    expect(report.totals.delivered).toBeGreaterThan(0);
    expect(report.totals.undeliverable).toBeGreaterThan(0);
    expect(report.totals.failed).toBe(refused.size);

    const byArea = (await sql<{ commune: string; state: string; n: number }>`SELECT commune, state, count(*)::int AS n FROM messages WHERE run_id = ${runId} GROUP BY 1, 2`.execute(database.store.db)).rows;
    for (const row of byArea) expect(report.areas.find((a) => a.commune === row.commune)!.counts[row.state as 'delivered']).toBe(row.n);
    expect(report.areas.reduce((n, a) => n + a.total, 0)).toBe(audience);

    for (const carrier of report.carriers) {
      const delivered = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND carrier = ${carrier.carrier} AND state = 'delivered'`);
      expect(carrier.deliveryRate).toBeCloseTo(carrier.total === 0 ? 0 : delivered / carrier.total, 10);
      const segments = await count(sql<{ n: number }>`SELECT coalesce(sum(parts_total), 0)::int AS n FROM messages WHERE run_id = ${runId} AND carrier = ${carrier.carrier}
        AND state IN ('submitted', 'enroute', 'accepted', 'delivered', 'expired', 'deleted', 'undeliverable', 'rejected', 'unknown')`);
      expect(carrier.segments, carrier.carrier).toBe(segments);
    }
    expect(report.carriers.find((c) => c.carrier === 'viettel')!.segments).toBeGreaterThan(PER_CARRIER); // UCS-2 and long: several parts each

    const refusedCount = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND submit_status = 11`);
    expect(report.smppErrors).toEqual([expect.objectContaining({ carrier: 'vnpt', code: '0x0000000b', name: 'ESME_RINVDSTADR', count: refusedCount })]);
    expect(report.smppErrors[0]!.meaning).not.toBe('');

    const submitted = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND submitted_at IS NOT NULL`);
    expect(report.timeline.points.reduce((n, p) => n + p.submitted, 0)).toBe(submitted);
    expect(report.timeline.points.reduce((n, p) => n + p.delivered, 0)).toBe(report.totals.delivered);
    expect(report.uncertain).toEqual({ ambiguous: {}, unknown: {} });

    const plays = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM plays p JOIN playlist_items i ON i.id = p.item_id WHERE i.run_id = ${runId}`);
    expect(report.screens.plays).toBe(plays);
    expect(report.screens.byScreen.map((s) => s.screenId).sort()).toEqual(['led-ninh-kieu', 'loa-1', 'loa-2', 'loa-far']);
    expect(report.control).toEqual([expect.objectContaining({ action: 'run.pause', actor: 'key:1:test' })]);
  });

  it('run report as CSV and for an unknown run', async () => {
    const csv = await get<string>(`/v1/reports/runs/${runId}?format=csv`);
    expect(csv.type).toMatch(/^text\/csv/);
    const carrierRows = csv.text.split('\r\n').filter((line) => line.startsWith('carrier,'));
    const delivered = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND carrier = 'viettel' AND state = 'delivered'`);
    expect(carrierRows).toContain(`carrier,viettel,,,delivered,${delivered},,,,,,`);
    expect((await get(`/v1/reports/runs/99999`)).status).toBe(404);
    expect((await get(`/v1/reports/runs/${runId}?format=pdf`)).status).toBe(400);
    expect((await get(`/v1/reports/runs/${runId}`, 'not-a-key')).status).toBe(401);
  });

  it('daily report: channels, coverage of communes actually reached, contents, events and manual entries equal the data', async () => {
    const note = await fetch(`${url}/v1/reports/entries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ date: day, area: '92', channel: 'web', count: 3, text: 'Bài "5K" trên Cổng TTĐT quận' }),
    });
    expect(note.status).toBe(201);
    const forbidden = await fetch(`${url}/v1/reports/entries`, { method: 'POST', headers: { authorization: `Bearer ${viewerToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ date: day, channel: 'web', count: 1, text: 'x' }) });
    expect(forbidden.status).toBe(403);
    const bad = await fetch(`${url}/v1/reports/entries`, { method: 'POST', headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ date: '2026-02-30', channel: 'web', count: 1, text: 'x' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/date/);

    const { status, body: report } = await get<DailyReport>(`/v1/reports/daily?date=${day}&area=92`);
    expect(status).toBe(200);
    const db = database.store.db;
    for (const carrier of report.sms.carriers) {
      const sent = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND province = '92' AND carrier = ${carrier.carrier}
        AND state IN ('submitted', 'enroute', 'accepted', 'delivered', 'expired', 'deleted', 'undeliverable', 'rejected', 'unknown')`);
      const delivered = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND province = '92' AND carrier = ${carrier.carrier} AND state = 'delivered'`);
      expect(carrier.sent, carrier.carrier).toBe(sent);
      expect(carrier.delivered, carrier.carrier).toBe(delivered);
    }
    const ledPlays = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM plays p JOIN screens s ON s.id = p.screen_id WHERE s.kind = 'led' AND s.province = '92'`);
    expect(report.screens).toEqual([expect.objectContaining({ kind: 'led', plays: ledPlays, screens: 1, minutes: 1 })]);
    // Loudspeakers: minutes per commune = sum(played_to - played_from) over plays of kind 'loudspeaker'.
    const speakers = (await sql<{ commune: string; broadcasts: number; minutes: number }>`
      SELECT s.commune, count(*)::int AS broadcasts, (sum(extract(epoch FROM p.played_to - p.played_from)) / 60)::float8 AS minutes
      FROM plays p JOIN screens s ON s.id = p.screen_id WHERE s.kind = 'loudspeaker' AND s.province = '92' GROUP BY 1 ORDER BY 1`.execute(db)).rows;
    expect(report.loudspeakers.byCommune.map(({ commune, broadcasts, minutes }) => ({ commune, broadcasts, minutes }))).toEqual(speakers);
    expect(report.loudspeakers.minutes).toBe(3);
    expect(report.manual).toEqual([expect.objectContaining({ channel: 'web', count: 3, text: 'Bài "5K" trên Cổng TTĐT quận' })]);
    expect(report.total).toBe(report.sms.sent + ledPlays + speakers.reduce((n, s) => n + s.broadcasts, 0) + 3);

    // Coverage: communes where a subscriber got it or a screen there played it; not 31150 (all refused) nor another province.
    const reached = (await sql<{ commune: string }>`
      SELECT DISTINCT commune FROM messages WHERE run_id = ${runId} AND province = '92' AND state = 'delivered'
      UNION SELECT DISTINCT s.commune FROM plays p JOIN screens s ON s.id = p.screen_id WHERE s.province = '92' ORDER BY 1`.execute(db)).rows.map((r) => r.commune);
    expect(reached).toEqual(['31117', '31118', '31120']);
    expect(report.coverage.list.map((c) => c.commune)).toEqual(reached);
    expect(report.coverage.communes).toBe(3);

    expect(report.contents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'campaign', name: 'Phòng chống dịch: khẩu trang nơi công cộng', runs: [runId] }),
        expect.objectContaining({ source: 'screen', text: 'Đeo khẩu trang nơi công cộng', plays: 4 + 1 }),
        expect.objectContaining({ source: 'manual', channel: 'web' }),
      ]),
    );
    const types = report.events.map((e) => e.type);
    expect(types).toContain('run-paused');
    expect(report.events).toContainEqual(expect.objectContaining({ type: 'screen-offline', screenId: 'led-off', lastSeen: null }));
    // VNPT: 12 refused + undeliverable receipts of 120 — well over the 20 % threshold; Viettel not.
    const vnpt = report.events.find((e) => e.type === 'high-failure-rate' && e.carrier === 'vnpt');
    const vnptFailed = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND carrier = 'vnpt' AND state IN ('failed', 'undeliverable', 'expired', 'rejected', 'deleted')`);
    expect(vnpt).toMatchObject({ failed: vnptFailed });
    expect(report.compiler).toEqual({ name: 'Nguyễn Văn An', phone: '0292 3811 502' });

    // Another area sees none of it but its own loudspeaker.
    const other = (await get<DailyReport>(`/v1/reports/daily?date=${day}&area=province:94`)).body;
    expect(other.sms.sent).toBe(0);
    expect(other.loudspeakers.byCommune).toEqual([{ province: '94', commune: '99999', broadcasts: 1, minutes: 2 }]);
    expect(other.manual).toEqual([]);
  });

  it('a group of communes is an area: only its communes count', async () => {
    const admin = (await services.apiKeys.create({ role: 'admin', name: 'reports-admin' }, 'test')).token;
    const put = await fetch(`${url}/v1/reports/areas/ninh-kieu`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Quận Ninh Kiều', province: '92', communes: ['31117', '31150'], compilerName: 'Trần Thị Bình', compilerPhone: '0919 443 718' }),
    });
    expect(put.status).toBe(201);
    const report = (await get<DailyReport>(`/v1/reports/daily?date=${day}&area=group:ninh-kieu`)).body;
    const delivered = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND commune IN ('31117', '31150') AND state = 'delivered'`);
    expect(report.sms.delivered).toBe(delivered);
    expect(report.coverage.list.map((c) => c.commune)).toEqual(['31117']);
    expect(report.loudspeakers.broadcasts).toBe(0);
    expect(report.compiler).toEqual({ name: 'Trần Thị Bình', phone: '0919 443 718' });
    expect(report.area.label).toBe('Quận Ninh Kiều');
    expect((await get(`/v1/reports/daily?date=${day}&area=group:nowhere`)).status).toBe(404);
    expect((await get(`/v1/reports/daily?date=${day}&area=${encodeURIComponent('<script>')}`)).status).toBe(400);
  });

  it('answers hostile report input with 4xx, never 500', async () => {
    const admin = (await services.apiKeys.create({ role: 'admin', name: 'reports-hostile' }, 'test')).token;
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then((r) => r.status);
    const statuses = [
      await call('POST', '/v1/reports/entries', { date: day, channel: 'web', count: 1, text: 'nul\u0000byte' }),
      await call('POST', '/v1/reports/entries', { date: day, channel: 'web', count: 1, text: 'x', area: 'group:does-not-exist' }),
      await call('POST', '/v1/reports/entries', { date: '9999-99-99', channel: 'web', count: 1.5, text: 'x' }),
      await call('POST', '/v1/reports/entries', { date: day, channel: 'fax', count: -1, text: '' }),
      await call('PUT', '/v1/reports/areas/x', { name: 'n\u0000', communes: ['31117'] }),
      await call('PUT', '/v1/reports/areas/dup', { name: 'Trùng', communes: ['31117', '31117'] }),
      await call('PUT', '/v1/reports/areas/BAD', { name: 'x', communes: [] }),
      await call('DELETE', '/v1/reports/areas/nowhere'),
      await call('DELETE', '/v1/reports/entries/999999'),
      await call('GET', '/v1/reports/daily'),
      await call('GET', `/v1/reports/daily?date=${day}&compiler=${encodeURIComponent('a\u0000b')}`),
      await call('GET', `/v1/reports/daily?date=0000-01-01`),
      await call('GET', `/v1/reports/daily?date=${day}&area=province:${'9'.repeat(40)}`),
      await call('GET', '/v1/reports/runs/0'),
      await call('GET', '/v1/reports/runs/99999999999999999999'),
      await call('GET', `/v1/reports/entries?date=${day}&area=group:zz`),
    ];
    expect(statuses).toEqual([400, 404, 400, 400, 400, 409, 400, 404, 404, 400, 400, 400, 400, 400, 400, 200]);
  });

  it('the HTML reports render in Chromium with their chart and Vietnamese text intact', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'loa-chromium-'));
    const browser: BrowserContext = await chromium.launchPersistentContext(profile, chromiumOptions());
    try {
      const page = await browser.newPage();
      // Offline: the page must need nothing from the network.
      const requests: string[] = [];
      await page.route('**/*', (route) => {
        requests.push(route.request().url());
        return route.abort();
      });
      const run = await get<string>(`/v1/reports/runs/${runId}?format=html`);
      expect(run.type).toMatch(/^text\/html/);
      await page.setContent(run.text);
      expect(await page.locator('svg polyline, svg circle').count()).toBeGreaterThanOrEqual(2);
      // textContent: the heading is upper-cased by CSS, innerText would show it so.
      const runText = (await page.locator('body').textContent()) ?? '';
      expect(runText).toContain('Báo cáo lần gửi số');
      expect(runText).toContain('Đeo khẩu trang nơi công cộng');
      expect(runText).toContain('Tỉ lệ đến máy');
      expect(runText).toMatch(/: tạm dừng \(key:1:test\)/);
      await expectNotBlank(page, await page.screenshot({ fullPage: true }));

      const daily = await get<string>(`/v1/reports/daily?date=${day}&area=92&format=html`);
      await page.setContent(daily.text);
      const dailyText = await page.locator('body').innerText();
      for (const heading of ['BÁO CÁO NHANH KẾT QUẢ TUYÊN TRUYỀN', 'Tổng số lượng tin, bài tuyên truyền', 'Phạm vi thông tin: 3 xã, phường', 'Nội dung tuyên truyền', 'Các thông tin bất thường xảy ra trên địa bàn', 'Họ và tên người tổng hợp báo cáo: Nguyễn Văn An', 'Số điện thoại: 0292 3811 502']) {
        expect(dailyText).toContain(heading);
      }
      expect(dailyText).toContain('Màn hình bến xe');
      expect(dailyText).toMatch(/tạm dừng lúc [0-9:/ ]+: do key:1:test dừng/);
      await expectNotBlank(page, await page.screenshot({ fullPage: true }));
      const english = await get<string>(`/v1/reports/daily?date=${day}&area=92&format=html&lang=en`);
      await page.setContent(english.text);
      expect(await page.locator('body').innerText()).toContain('Abnormal events in the area');
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 60_000);

  it('loa report run|daily|note go through the API, in Vietnamese by default', async () => {
    const env = { LOA_URL: url, LOA_TOKEN: operatorToken, LOA_LANG: 'vi' };
    const noted = await runLoa(['report', 'note', '--date', day, '--area', '92', '--channel', 'radio', '--count', '2', '--minutes', '15', '--text', 'Bản tin Đài TT-TH'], env);
    expect(noted.stderr).toBe('');
    expect(noted.code).toBe(0);
    expect(noted.stdout).toMatch(/Đã ghi mục #\d+/);

    const daily = await runLoa(['report', 'daily', '--date', day, '--area', '92'], env);
    expect(daily.code).toBe(0);
    expect(daily.stdout).toContain('Báo cáo nhanh kết quả tuyên truyền');
    expect(daily.stdout).toContain('Đài phát thanh: 2 tin, bài, 15 phút — Bản tin Đài TT-TH');

    const json = await runLoa(['report', 'daily', '--date', day, '--area', '92', '--format', 'json'], env);
    const parsed = JSON.parse(json.stdout) as DailyReport;
    expect(parsed.manual.map((e) => e.channel)).toContain('radio');

    const dir = mkdtempSync(join(tmpdir(), 'loa-report-'));
    try {
      const out = join(dir, 'run.html');
      const html = await runLoa(['report', 'run', String(runId), '--format', 'html', '--out', out], env);
      expect(html.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toContain('<svg');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const csv = await runLoa(['report', 'run', String(runId), '--format', 'csv'], env);
    expect(csv.stdout.startsWith('section,carrier')).toBe(true);

    const badDate = await runLoa(['report', 'daily', '--date', '26/11/2026'], env);
    expect(badDate.code).toBe(1);
    const badCount = await runLoa(['report', 'note', '--date', day, '--channel', 'web', '--count', '-1', '--text', 'x'], env);
    expect(badCount.code).toBe(2);
    const noRun = await runLoa(['report', 'run', '99999'], env);
    expect(noRun.code).toBe(1);
    const noKey = await runLoa(['report', 'run', String(runId)], { LOA_URL: url, LOA_TOKEN: 'wrong' });
    expect(noKey.code).toBe(4);

    // Area groups: an admin defines them; an operator may not.
    const refusedGroup = await runLoa(['report', 'area', 'cai-rang', '--name', 'Quận Cái Răng', '--communes', '31150'], env);
    expect(refusedGroup.code).toBe(4);
    const admin = (await services.apiKeys.create({ role: 'admin', name: 'reports-cli-admin' }, 'test')).token;
    const saved = await runLoa(['report', 'area', 'cai-rang', '--name', 'Quận Cái Răng', '--province', '92', '--communes', '31150, 31151'], { ...env, LOA_TOKEN: admin });
    expect(saved.stdout).toBe('Đã lưu nhóm group:cai-rang "Quận Cái Răng" gồm 2 xã, phường.\n');
    const listed = await runLoa(['report', 'areas', '--json'], env);
    expect((JSON.parse(listed.stdout) as Array<{ id: string; communes: string[] }>).find((g) => g.id === 'cai-rang')?.communes).toEqual(['31150', '31151']);
  });

  it('a carrier whose messages still wait in a sending run is an abnormal event', async () => {
    const waiting = await seedDbRun(database.store, 'now:waiting');
    await new MessageRepository(database.store.db, database.store.pool).copyQueued(
      waiting,
      Array.from({ length: 7 }, (_, i) => ({ msisdn: subscriber('viettel', 900_000 + i), carrier: 'viettel' as const, province: '92', commune: '31117', partsTotal: 1 })),
    );
    await sql`UPDATE runs SET state = 'running', started_at = (SELECT started_at FROM runs WHERE id = ${runId}) WHERE id = ${waiting}`.execute(database.store.db);
    const report = (await get<DailyReport>(`/v1/reports/daily?date=${day}&area=92`)).body;
    expect(report.events).toContainEqual(expect.objectContaining({ type: 'messages-waiting', runId: waiting, carrier: 'viettel', count: 7, runState: 'running' }));
    const html = (await get<string>(`/v1/reports/daily?date=${day}&area=92&format=html`)).text;
    expect(html).toContain('7 tin còn chờ gửi');
  });

  it('run report: ambiguous and unknown are shown apart, per carrier, and still add up to the audience', async () => {
    const uncertain = await seedDbRun(database.store, 'now:uncertain');
    await new MessageRepository(database.store.db, database.store.pool).copyQueued(
      uncertain,
      Array.from({ length: 30 }, (_, i) => ({ msisdn: subscriber(i % 2 ? 'viettel' : 'mobifone', 950_000 + i), carrier: i % 2 ? ('viettel' as const) : ('mobifone' as const), province: '92', commune: '31117', partsTotal: 2 })),
    );
    // As the reconciler and the sweeper leave them: submitting rows of a dead worker, no receipt within
    // validity; the others went through `submitted` first (the counters' timeline counts that step).
    await sql`UPDATE messages SET state = 'submitted', submitted_at = now() WHERE run_id = ${uncertain} AND id % 3 <> 0`.execute(database.store.db);
    await sql`UPDATE messages SET state = (CASE WHEN id % 3 = 0 THEN 'ambiguous' WHEN id % 3 = 1 THEN 'unknown' ELSE 'delivered' END)::message_state,
      done_at = now() WHERE run_id = ${uncertain}`.execute(database.store.db);
    const report = (await get<RunReport>(`/v1/reports/runs/${uncertain}`)).body;
    const rows = (await sql<{ carrier: 'viettel' | 'mobifone'; state: string; n: number }>`
      SELECT carrier, state, count(*)::int AS n FROM messages WHERE run_id = ${uncertain} AND state IN ('ambiguous', 'unknown') GROUP BY 1, 2`.execute(database.store.db)).rows;
    const expected = { ambiguous: {} as Record<string, number>, unknown: {} as Record<string, number> };
    for (const row of rows) expected[row.state as 'ambiguous' | 'unknown'][row.carrier] = row.n;
    expect(report.uncertain).toEqual(expected);
    expect(report.total).toBe(30);
    // Ambiguous segments are not counted as billed; they are shown as possibly billed.
    const viettel = report.carriers.find((c) => c.carrier === 'viettel')!;
    expect(viettel.ambiguousSegments).toBe(2 * (expected.ambiguous.viettel ?? 0));
    expect(viettel.segments).toBe(2 * (viettel.counts.delivered + viettel.counts.unknown));
    expect(report.timeline.points.reduce((n, p) => n + p.submitted, 0)).toBe(20);

    // Finished: its scan is kept, and a late receipt (unknown → delivered) makes the next report scan again.
    await sql`UPDATE runs SET state = 'completed', started_at = now() - interval '1 minute', finished_at = now() WHERE id = ${uncertain}`.execute(database.store.db);
    const first = (await get<RunReport>(`/v1/reports/runs/${uncertain}`)).body;
    expect(await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM report_run_scans WHERE run_id = ${uncertain}`)).toBe(1);
    expect((await get<RunReport>(`/v1/reports/runs/${uncertain}`)).body.timeline).toEqual(first.timeline);
    await sql`UPDATE messages SET state = 'delivered', done_at = now() WHERE run_id = ${uncertain} AND id = (SELECT min(id) FROM messages WHERE run_id = ${uncertain} AND state = 'unknown')`.execute(database.store.db);
    const late = (await get<RunReport>(`/v1/reports/runs/${uncertain}`)).body;
    const delivered = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${uncertain} AND state = 'delivered'`);
    expect(late.totals.delivered).toBe(delivered);
    expect(late.timeline.points.reduce((n, p) => n + p.delivered, 0)).toBe(delivered);
    expect(first.timeline.points.reduce((n, p) => n + p.delivered, 0)).toBe(delivered - 1);
  });

  it('run report: the timeline kept by the counters agrees with a scan of the messages; a run older than 0016 is scanned for it', async () => {
    const counted = (await get<RunReport>(`/v1/reports/runs/${runId}`)).body;
    expect(await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM run_timeline WHERE run_id = ${runId}`)).toBeGreaterThan(0);
    const submitted = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND submitted_at IS NOT NULL`);
    const delivered = await count(sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND state = 'delivered'`);
    expect(counted.timeline.points.reduce((n, p) => n + p.submitted, 0)).toBe(submitted);
    expect(counted.timeline.points.reduce((n, p) => n + p.delivered, 0)).toBe(delivered);

    await sql`INSERT INTO run_timeline_missing (run_id) VALUES (${runId})`.execute(database.store.db);
    try {
      const scanned = (await get<RunReport>(`/v1/reports/runs/${runId}`)).body;
      expect(scanned.timeline.points.reduce((n, p) => n + p.submitted, 0)).toBe(submitted);
      expect(scanned.timeline.points.reduce((n, p) => n + p.delivered, 0)).toBe(delivered);
      expect(scanned.smppErrors).toEqual(counted.smppErrors);
      expect(scanned.receiptErrors).toEqual(counted.receiptErrors);
      // The full scan is what the finished run keeps then (its timeline included).
      expect(scanned.finishedAt).not.toBeNull();
      const kept = await sql<{ n: number }>`SELECT jsonb_array_length(scan->'timeline')::int AS n FROM report_run_scans WHERE run_id = ${runId}`.execute(database.store.db);
      expect(kept.rows[0]?.n).toBeGreaterThan(0);
    } finally {
      await sql`DELETE FROM run_timeline_missing WHERE run_id = ${runId}`.execute(database.store.db);
    }
  });
});

/** A screenshot is not blank: drawn back in the page, it has dark pixels (text, chart lines). */
async function expectNotBlank(page: Page, png: Buffer): Promise<void> {
  // Run in the page (a string: the test's TypeScript has no DOM types).
  const dark = (await page.evaluate(`(async () => {
    const image = new Image();
    image.src = 'data:image/png;base64,${png.toString('base64')}';
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height).data;
    let count = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 300) count += 1;
    return { count, total: pixels.length / 4 };
  })()`)) as { count: number; total: number };
  expect(dark.count).toBeGreaterThan(1000);
  expect(dark.count).toBeLessThan(dark.total);
}
