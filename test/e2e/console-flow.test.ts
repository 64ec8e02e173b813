import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { freePortRun, runLoaProcess as loa, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';
import { chromiumOptions } from '../helpers/browser.js';

/**
 * The operator console in Debian's chromium against `loa serve --role all` with its simulated
 * carriers: sign in, upload an audience, write a message and watch the parts change, preview,
 * launch, watch the run complete, pause/resume/cancel an urgent second run, sign out. Viewers,
 * CSRF and the sign-in limit are checked against the same running service.
 */

const SCREENSHOTS = 'test-results';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD_VIEWER = 'mat-khau-nguoi-xem-2026';

function campaignYaml(id: string, options: { priority?: 'normal' | 'urgent'; tps: number; text: string }): string {
  return [
    `id: ${id}`,
    `name: "Thử bảng điều khiển ${id}"`,
    `priority: ${options.priority ?? 'normal'}`,
    'message:',
    `  text: "${options.text}"`,
    '  encoding: auto',
    '  sender: { viettel: STTTT-CT, vnpt: STTTT-CT, mobifone: STTTT-CT }',
    'audience:',
    '  lists: [console-e2e]',
    'operators: [viettel, vnpt, mobifone]',
    `throttle: { viettel: ${options.tps}, vnpt: ${options.tps}, mobifone: ${options.tps} }`,
    'validity: PT1H',
    '',
  ].join('\n');
}

/** 100 numbers on each carrier, and two lines the import must reject with a reason. */
function audienceCsv(): string {
  const lines = ['msisdn,province,commune'];
  for (const prefix of ['098', '091', '090']) for (let i = 0; i < 100; i++) lines.push(`${prefix}7${String(i).padStart(6, '0')},92,31117`);
  lines.push('12345,92,31117', 'abc,92,31117');
  return `${lines.join('\n')}\n`;
}

/** "1.234" (vi-VN) → 1234. */
const parseNumber = (text: string | null) => Number((text ?? '').replace(/[^0-9]/g, ''));

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document));
  return result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

describe('the operator console in a real browser', { timeout: 300_000 }, () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let base: string;
  let adminToken: string;
  let operatorPassword: string;
  let browser: Browser;
  let operator: BrowserContext;
  let firstRunId = 0;
  const figures: Record<string, number> = {};
  const pageErrors: string[] = [];

  const apiGet = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };
  const apiPost = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: `${SCREENSHOTS}/console-${name}.png`, fullPage: true });
  const signIn = async (page: Page, name: string, password: string) => {
    await page.goto(`${base}/`);
    await page.fill('#signin-name', name);
    await page.fill('#signin-password', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.bar');
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    execFileSync(process.execPath, ['scripts/build-console.mjs'], { stdio: 'pipe' });
    database = await createTestDatabase();
    service = startServiceProcess(['--role', 'all'], { DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOA_SIM_PORT: String(await freePortRun()), LOA_REDIS_PREFIX: testRedisPrefix() });
    base = `http://127.0.0.1:${await service.port()}`;
    await service.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('all 3 carriers bound'));
    const key = await loa(['keys', 'create', '--role', 'admin', '--name', 'console-test', '--json'], { DATABASE_URL: database.url });
    expect(key.code, key.stderr).toBe(0);
    adminToken = (JSON.parse(key.stdout) as { token: string }).token;
    const env = { LOA_URL: base, LOA_TOKEN: adminToken };
    const added = await loa(['users', 'add', 'lan', '--role', 'operator', '--json'], env);
    expect(added.code, added.stderr).toBe(0);
    operatorPassword = (JSON.parse(added.stdout) as { password: string }).password;
    browser = await chromium.launch(chromiumOptions());
    operator = await browser.newContext({ timezoneId: 'Europe/Berlin' });
    // A script error in the page fails the test that caused it, with its message.
    operator.on('weberror', (error) => pageErrors.push(error.error().message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (service) {
      const code = await service.stop();
      writeFileSync(`${SCREENSHOTS}/console-service.log`, service.output());
      expect(code).toBe(0);
    }
    await database?.drop();
  });

  it('signs in, uploads an audience, writes, previews and launches a campaign, and follows the run to completed', async () => {
    const page = await operator.newPage();
    await page.goto(`${base}/`);
    await expect.poll(() => page.textContent('h1'), { timeout: 15_000 }).toBe('Đăng nhập Loa');
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'sign-in');
    // By keyboard alone: the name field has the focus, Tab to the password, Enter to sign in.
    await page.keyboard.type('lan');
    await page.keyboard.press('Tab');
    await page.keyboard.type('sai-mat-khau-roi');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('[role=alert]'), { timeout: 15_000 }).toBe('Sai tên đăng nhập hoặc mật khẩu.');
    await signIn(page, 'lan', operatorPassword);
    expect(await page.textContent('h1')).toBe('Chiến dịch');
    // The session cookie is out of the page's reach, and Strict.
    const [cookie] = await operator.cookies();
    expect(cookie).toMatchObject({ name: 'loa_session', httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => document.cookie)).toBe('');

    // Audience upload with a progress bar; bad lines are named with their reason.
    await page.goto(`${base}/#/audience`);
    await page.fill('#upload-list', 'console-e2e');
    await page.setInputFiles('#upload-file', { name: 'thue-bao.csv', mimeType: 'text/csv', buffer: Buffer.from(audienceCsv()) });
    await page.click('#upload');
    await page.waitForSelector('#import-report');
    expect(await page.getAttribute('#upload-progress', 'value')).toBe('100');
    const report = await page.textContent('#import-report');
    expect(report).toContain('Đã đọc 302 dòng: nạp 300, loại 2');
    expect(report).toContain('dòng 302: 12345');
    const lists = await apiGet<{ lists: Array<{ id: string; subscribers: number }> }>('/v1/lists');
    expect(lists.lists.find((list) => list.id === 'console-e2e')?.subscribers).toBe(300);
    await page.waitForSelector('tr[data-list="console-e2e"]');
    expect(parseNumber(await page.textContent('tr[data-list="console-e2e"] [data-field=subscribers]'))).toBe(300);
    // Per carrier and per commune, from GET /v1/lists/:id/breakdown.
    await page.click('button[data-breakdown="console-e2e"]');
    await page.waitForSelector('#breakdown');
    for (const carrier of ['viettel', 'vnpt', 'mobifone']) expect(await page.textContent(`#breakdown-carriers tr[data-carrier=${carrier}] td`)).toBe('100');
    expect(await page.textContent('#breakdown-communes tbody')).toContain('31117');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'audience');

    // The editor: the per-carrier view comes from src/domain running in the page.
    await page.goto(`${base}/#/campaigns/new`);
    await page.fill('#campaign-yaml', campaignYaml('console-e2e', { tps: 200, text: 'Thong bao thu' }));
    const parts = (carrier: string) => page.textContent(`#carrier-view tr[data-carrier=${carrier}] [data-field=parts]`);
    const encoding = (carrier: string) => page.textContent(`#carrier-view tr[data-carrier=${carrier}] [data-field=encoding]`);
    await expect.poll(() => encoding('viettel'), { timeout: 15_000 }).toBe('GSM 7-bit');
    expect(await parts('viettel')).toBe('1');
    expect(await page.textContent('#carrier-view tr[data-carrier=viettel] [data-field=left]')).toBe('147');
    const vietnamese = 'Sở TTTT Cần Thơ thông báo: từ ngày mai, người dân theo dõi tin tức chính thức về phòng chống bão số 9 trên Cổng thông tin điện tử thành phố.';
    await page.fill('#message-text', vietnamese);
    await expect.poll(() => encoding('viettel'), { timeout: 15_000 }).toBe('UCS-2');
    expect(await parts('viettel')).toBe(String(Math.ceil(vietnamese.length / 67)));
    // VNPT refuses UCS-2 on a brandname: the same text, unaccented, in GSM and fewer parts.
    expect(await encoding('vnpt')).toBe('GSM 7-bit');
    expect(await parts('vnpt')).toBe('1');
    expect(await page.textContent('#carrier-view tr[data-carrier=vnpt] [data-field=text]')).toContain('So TTTT Can Tho thong bao');
    expect(await page.inputValue('#campaign-yaml')).toContain('Cần Thơ thông báo');
    // A schema problem is shown at its line:column as one types.
    await page.fill('#campaign-yaml', (await page.inputValue('#campaign-yaml')).replace('validity: PT1H', 'validity: PT1H\nbogus: 1'));
    await expect.poll(() => page.textContent('#issues'), { timeout: 15_000 }).toMatch(/^\d+:1 bogus: /);
    await page.fill('#campaign-yaml', (await page.inputValue('#campaign-yaml')).replace('\nbogus: 1', ''));
    await page.waitForSelector('#carrier-view');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'editor');

    // Preview: the same figures the API gives the CLI.
    await page.click('#preview');
    await page.waitForSelector('#reach');
    const reach = await apiPost<{ recipients: number; segments: number }>('/v1/campaigns/console-e2e/preview');
    expect(reach.recipients).toBe(300);
    expect(await page.textContent('#reach-total')).toContain(`${reach.recipients} người nhận, ${reach.segments} tin SMS`);
    await shot(page, 'preview');

    // Launch: the confirmation states the numbers; Cancel launches nothing.
    await page.click('#launch');
    await page.waitForSelector('dialog[open]');
    expect(await page.textContent('#launch-numbers')).toContain(`${reach.segments} tin SMS tới ${reach.recipients} người nhận`);
    await shot(page, 'launch-confirm');
    await page.click('dialog button[data-value=cancel]');
    expect((await apiGet<unknown[]>('/v1/runs')).length).toBe(0);
    // Escape closes the dialog without launching too.
    await page.click('#launch');
    await page.waitForSelector('dialog[open]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog', { state: 'detached' });
    expect(await page.textContent('#editor-status')).toBe('Chưa gửi.');
    expect((await apiGet<unknown[]>('/v1/runs')).length).toBe(0);
    // Whatever the hour in Vietnam: the default quiet hours would defer the run until morning.
    await page.check('#launch-now');
    await page.click('#launch');
    await page.click('dialog button[data-value=launch]');
    await page.waitForURL(/#\/runs\/\d+$/);
    firstRunId = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    await expect.poll(() => page.getAttribute('#run-state', 'data-state'), { timeout: 120_000, interval: 500 }).toBe('completed');
    const final = await apiGet<RunStatus>(`/v1/runs/${firstRunId}`);
    expect(final.state).toBe('completed');
    for (const carrier of final.carriers) {
      const row = `#run-carriers tr[data-carrier=${carrier.carrier}]`;
      expect(parseNumber(await page.textContent(`${row} [data-field=total]`))).toBe(carrier.total);
      expect(parseNumber(await page.textContent(`${row} [data-field=delivered]`))).toBe(carrier.counts.delivered);
    }
    expect(parseNumber(await page.textContent('#run-carriers tr[data-carrier=all] [data-field=total]'))).toBe(300);
    // Failures by code: never more per carrier and state than the run's counts, and each group a row.
    const errorGroups = await apiGet<Array<{ carrier: string; state: string; count: number }>>(`/v1/runs/${firstRunId}/errors`);
    for (const group of errorGroups) {
      const counts = final.carriers.find((carrier) => carrier.carrier === group.carrier)!.counts as Record<string, number>;
      const sameCarrierState = errorGroups.filter((other) => other.carrier === group.carrier && other.state === group.state).reduce((n, other) => n + other.count, 0);
      expect(sameCarrierState).toBeLessThanOrEqual(counts[group.state]!);
    }
    await page.waitForSelector(errorGroups.length > 0 ? '#run-errors' : 'text=Chưa có lỗi nào.');
    expect(await page.locator('#run-errors tbody tr').count()).toBe(errorGroups.length);
    // Message states in the reader's language.
    if (errorGroups.some((group) => group.state === 'undeliverable')) expect(await page.textContent('#run-errors')).toContain('không chuyển được');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'dashboard');

    // Time to first render of the dashboard on a fresh load (a figure for the note, not asserted).
    const fresh = await operator.newPage();
    await fresh.goto(`${base}/#/runs/${firstRunId}`);
    await fresh.waitForSelector('#run-carriers tr[data-carrier=all]');
    figures.dashboardFirstRenderMs = await fresh.evaluate(() => performance.getEntriesByName('loa:dashboard-rendered')[0]?.startTime ?? -1);
    figures.bundleBytes = readFileSync('dist/console/console.js').length;
    await fresh.close();

    // The launch is in the audit log under the person's name, not a key's.
    const audit = await database.store.db.selectFrom('audit_log').select(['actor', 'action']).where('action', '=', 'campaign.launch').execute();
    expect(audit.map((entry) => entry.actor)).toEqual([expect.stringMatching(/^user:\d+:lan$/)]);

    // English on request; dates stay in Vietnam's zone whatever the browser's zone.
    await page.goto(`${base}/#/campaigns`);
    await page.click('header button[lang=en]');
    await expect.poll(() => page.textContent('h1'), { timeout: 15_000 }).toBe('Campaigns');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await shot(page, 'campaigns-en');
    await page.click('header button[lang=vi]');
    await expect.poll(() => page.textContent('h1'), { timeout: 15_000 }).toBe('Chiến dịch');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'campaigns');
    expect(await page.textContent('tr[data-campaign=console-e2e]')).toContain('hoàn tất');

    await page.goto(`${base}/#/runs`);
    await page.waitForSelector(`a[href="#/runs/${firstRunId}"]`);
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'runs');

    // The screens registry: a screen registered through the API, never seen yet.
    const registered = await fetch(`${base}/v1/screens`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'ben-ninh-kieu', name: 'Bến Ninh Kiều', kind: 'led', province: '92', languages: ['vi'] }) });
    expect(registered.status).toBe(201);
    await page.goto(`${base}/#/screens`);
    await page.waitForSelector('tr[data-screen=ben-ninh-kieu]');
    expect(await page.textContent('tr[data-screen=ben-ninh-kieu]')).toContain('chưa kết nối');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'screens');
  });

  it('launches an urgent run after a second confirmation, pauses, resumes and cancels it from the dashboard', async () => {
    const page = await operator.newPage();
    await page.goto(`${base}/#/campaigns/new`);
    await page.fill('#campaign-yaml', campaignYaml('console-e2e-urgent', { priority: 'urgent', tps: 2, text: 'Canh bao khan cap: bao so 9' }));
    await page.waitForSelector('#warnings');
    await page.click('#preview');
    await page.waitForSelector('#reach');
    await page.click('#launch');
    await page.click('dialog button[data-value=launch]');
    // The second, explicit confirmation of an urgent launch; refusing it launches nothing.
    await page.waitForSelector('dialog[open] button[data-value=urgent]');
    await shot(page, 'launch-urgent');
    await page.click('dialog button[data-value=cancel]');
    expect((await apiGet<Array<{ campaignId: string }>>('/v1/runs')).filter((run) => run.campaignId === 'console-e2e-urgent')).toEqual([]);
    await page.check('#launch-now');
    await page.click('#launch');
    await page.click('dialog button[data-value=launch]');
    await page.click('dialog button[data-value=urgent]');
    await page.waitForURL(/#\/runs\/\d+$/);
    const runId = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    const apiState = async () => (await apiGet<RunStatus>(`/v1/runs/${runId}`)).state;

    await expect.poll(() => page.getAttribute('#run-state', 'data-state'), { timeout: 60_000, interval: 250 }).toBe('running');
    // How often the dashboard changes while the run sends (a figure for the note, not asserted).
    const seen = new Set<string>();
    const sampleStart = Date.now();
    while (Date.now() - sampleStart < 5000) {
      seen.add((await page.textContent('#run-summary')) ?? '');
      await page.waitForTimeout(100);
    }
    figures.dashboardUpdatesIn5s = seen.size;
    await page.click('#pause');
    await expect.poll(() => page.getAttribute('#run-state', 'data-state'), { timeout: 15_000, interval: 250 }).toBe('paused');
    expect(await apiState()).toBe('paused');
    // Who paused it, in Vietnamese, not the API's code ('operator').
    await expect.poll(() => page.locator('#run-state').locator('xpath=..').textContent(), { timeout: 5_000, interval: 250 }).toContain('(người vận hành)');
    await shot(page, 'dashboard-paused');
    await page.click('#resume');
    await expect.poll(() => page.getAttribute('#run-state', 'data-state'), { timeout: 15_000, interval: 250 }).toBe('running');
    expect(await apiState()).toBe('running');
    await page.click('#cancel');
    await page.click('dialog button[data-value=yes]');
    await expect.poll(() => page.getAttribute('#run-state', 'data-state'), { timeout: 15_000, interval: 250 }).toBe('cancelled');
    expect(await apiState()).toBe('cancelled');
    const actions = await database.store.db.selectFrom('audit_log').select(['actor', 'action']).where('subject', '=', `run:${runId}`).orderBy('id').execute();
    expect(actions.filter((entry) => entry.actor.endsWith(':lan')).map((entry) => entry.action)).toEqual(expect.arrayContaining(['run.pause', 'run.resume', 'run.cancel']));
  });

  it('refuses a change whose CSRF token is missing or wrong, even with the session cookie', async () => {
    const page = await operator.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('header.bar');
    const statuses = await page.evaluate(async (runId) => {
      const session = (await (await fetch('/v1/session')).json()) as { csrfToken: string };
      const missing = await fetch(`/v1/runs/${runId}/pause`, { method: 'POST' });
      const wrong = await fetch(`/v1/runs/${runId}/pause`, { method: 'POST', headers: { 'x-csrf-token': session.csrfToken.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) } });
      const right = await fetch(`/v1/runs/${runId}/pause`, { method: 'POST', headers: { 'x-csrf-token': session.csrfToken } });
      return { missing: [missing.status, ((await missing.json()) as { error: string }).error], wrong: wrong.status, right: right.status };
    }, firstRunId);
    expect(statuses.missing).toEqual([403, 'forbidden']);
    expect(statuses.wrong).toBe(403);
    // With the token the request gets through to the run: a completed run cannot be paused (409).
    expect(statuses.right).toBe(409);
  });

  it('shows a viewer no launch or run buttons, and the API refuses the viewer anyway', async () => {
    const created = await fetch(`${base}/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'minh', role: 'viewer', password: PASSWORD_VIEWER }) });
    expect(created.status).toBe(201);
    const viewer = await browser.newContext();
    const page = await viewer.newPage();
    await signIn(page, 'minh', PASSWORD_VIEWER);
    await page.goto(`${base}/#/campaigns/console-e2e`);
    await page.waitForSelector('#carrier-view');
    expect(await page.$('#launch')).toBeNull();
    expect(await page.$('#save')).toBeNull();
    expect(await page.$('#new-campaign')).toBeNull();
    await page.goto(`${base}/#/runs/${firstRunId}`);
    await page.waitForSelector('#run-carriers tr[data-carrier=all]');
    expect(await page.$('#pause, #resume, #cancel')).toBeNull();
    await shot(page, 'viewer-dashboard');
    const refused = await page.evaluate(async () => {
      const session = (await (await fetch('/v1/session')).json()) as { csrfToken: string };
      const response = await fetch('/v1/campaigns/console-e2e/launch', { method: 'POST', headers: { 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' }, body: '{}' });
      return [response.status, ((await response.json()) as { message: string }).message];
    });
    expect(refused[0]).toBe(403);
    expect(refused[1]).toContain('operator');
    // Sign out: the session ends on the server, not only in the page.
    await page.click('#sign-out');
    await page.waitForSelector('#signin-name');
    expect(await page.evaluate(async () => (await fetch('/v1/session')).status)).toBe(401);
    await viewer.close();
  });

  it('lets an admin add an account, holds a large launch for a second person’s approval, and sends a test only to the test list', async () => {
    const created = await fetch(`${base}/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'quan-tri', role: 'admin', password: 'quan-tri-mat-khau-2026' }) });
    expect(created.status).toBe(201);
    const staff = await fetch(`${base}/v1/lists/can-bo-thu/import`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/csv' }, body: 'msisdn\n0987111222\n0917111222\n' });
    expect(staff.status).toBe(200);
    const admin = await browser.newContext();
    admin.on('weberror', (error) => pageErrors.push(error.error().message));
    const page = await admin.newPage();
    await signIn(page, 'quan-tri', 'quan-tri-mat-khau-2026');
    await page.click('a[href="#/users"]');
    await page.waitForSelector('tr[data-user=lan]');
    await page.fill('#user-name', 'hoa');
    await page.selectOption('#user-role', 'operator');
    await page.fill('#user-password', 'hoa-mat-khau-dai-2026');
    await page.click('#add-user');
    await page.waitForSelector('tr[data-user=hoa]');
    const users = await apiGet<Array<{ name: string; role: string }>>('/v1/users');
    expect(users.find((user) => user.name === 'hoa')?.role).toBe('operator');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'users');

    // A screen added on the screens page: its token and player URL shown once, and the URL works.
    await page.goto(`${base}/#/screens`);
    await page.fill('#screen-id', 'cho-an-binh');
    await page.fill('#screen-name', 'Chợ An Bình');
    await page.selectOption('#screen-kind', 'led');
    await page.click('#add-screen');
    await page.waitForSelector('#screen-token');
    const playerUrl = /https?:\/\/\S+\/player\?token=\S+/.exec((await page.textContent('#screen-token')) ?? '')![0];
    // The player trades the token for its cookie at once (303 to the same page without ?token=).
    expect((await fetch(playerUrl, { redirect: 'manual' })).status).toBe(303);
    expect((await apiGet<Array<{ id: string }>>('/v1/screens')).map((screen) => screen.id)).toContain('cho-an-binh');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'screens-added');

    // The approval rule: above 200 recipients a second person approves first.
    const rule = await fetch(`${base}/v1/launch-approval-rule`, { method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ above: 200 }) });
    expect(rule.status).toBe(200);
    const asker = await operator.newPage();
    await asker.goto(`${base}/#/campaigns/console-e2e`);
    await asker.waitForSelector('#carrier-view');
    await asker.check('#launch-now');
    await asker.click('#preview');
    await asker.waitForSelector('#reach');
    await asker.click('#launch');
    await asker.click('dialog button[data-value=launch]');
    await asker.click('#request-approval');
    await expect.poll(() => asker.textContent('#editor-status'), { timeout: 15_000 }).toContain('300 người nhận');
    const runsBefore = (await apiGet<unknown[]>('/v1/runs')).length;
    await page.goto(`${base}/#/campaigns`);
    await page.click('button[data-approve]');
    await expect.poll(() => page.textContent('#approvals tbody'), { timeout: 15_000 }).toContain('quan-tri');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'approvals');
    await asker.click('#launch');
    await asker.click('dialog button[data-value=launch]');
    await asker.waitForURL(/#\/runs\/\d+$/);
    expect((await apiGet<unknown[]>('/v1/runs')).length).toBe(runsBefore + 1);
    await asker.close();
    await fetch(`${base}/v1/launch-approval-rule`, { method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ above: null }) });

    await page.goto(`${base}/#/campaigns/console-e2e`);
    await page.waitForSelector('#carrier-view');
    await page.click('details summary');
    await page.fill('#test-list', 'can-bo-thu');
    await page.click('#test-send');
    await page.waitForURL(/#\/runs\/\d+$/);
    const runId = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    await expect.poll(() => page.getAttribute('#run-state', 'data-state'), { timeout: 60_000, interval: 250 }).toBe('completed');
    const run = await apiGet<Array<{ id: number; testList: string | null; audienceSize: number | null }>>('/v1/runs');
    expect(run.find((candidate) => candidate.id === runId)).toMatchObject({ testList: 'can-bo-thu', audienceSize: 2 });
    await admin.close();
  });

  it('limits sign-in attempts (last: it blocks this address for a while)', async () => {
    const attempt = () => fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'lan', password: 'doan-mo-mat-khau' }) }).then((response) => response.status);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await attempt());
    expect(statuses).toContain(401);
    expect(statuses.at(-1)).toBe(429);
    const refusals = await database.store.db.selectFrom('audit_log').select('actor').where('action', '=', 'session.refused').execute();
    expect(refusals.length).toBeGreaterThan(0);
    // Figures for the hand-over note (not assertions).
    console.log(JSON.stringify({ console: figures }));
    expect(pageErrors).toEqual([]);
  });
});
