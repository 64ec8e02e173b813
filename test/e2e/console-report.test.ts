import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { runLoaProcess as loa, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';
import { chromiumOptions, FAKE_AUDIO_ARGS } from '../helpers/browser.js';

/**
 * The console's daily report and loudspeaker pages in Debian's chromium against `loa serve --role
 * api`: pick a day and an area, add and remove a manual entry, download the report; the loudspeaker
 * registry, a cluster added with its token shown once, and "listen" to a text (espeak-ng renders it,
 * the browser plays it with a fake audio output).
 */

const SCREENSHOTS = 'test-results';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe in the page and in its frames (the report is the service's own HTML in a frame). */
async function seriousViolations(page: Page): Promise<string[]> {
  for (const frame of page.frames()) await frame.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(async () => (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document));
  return result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

/** Today in Vietnam, as the page's date field starts. */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());

describe('daily report and loudspeakers in the console (real browser)', { timeout: 240_000 }, () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let base: string;
  let adminToken: string;
  let password: string;
  let browser: Browser;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  const apiCall = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
    return { status: response.status, body: (await response.text()) || 'null' };
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: `${SCREENSHOTS}/console-${name}.png`, fullPage: true });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    execFileSync(process.execPath, ['scripts/build-console.mjs'], { stdio: 'pipe' });
    database = await createTestDatabase();
    service = startServiceProcess(['--role', 'api'], { DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOA_REDIS_PREFIX: testRedisPrefix() });
    base = `http://127.0.0.1:${await service.port()}`;
    const key = await loa(['keys', 'create', '--role', 'admin', '--name', 'report-test', '--json'], { DATABASE_URL: database.url });
    expect(key.code, key.stderr).toBe(0);
    adminToken = (JSON.parse(key.stdout) as { token: string }).token;
    const added = await loa(['users', 'add', 'chi', '--role', 'admin', '--json'], { LOA_URL: base, LOA_TOKEN: adminToken });
    expect(added.code, added.stderr).toBe(0);
    password = (JSON.parse(added.stdout) as { password: string }).password;
    const group = await apiCall('PUT', '/v1/reports/areas/ninh-kieu', { name: 'Khu vực Ninh Kiều', province: '92', communes: ['31117', '31120'] });
    expect(group.status, group.body).toBe(201);
    const cluster = await apiCall('POST', '/v1/loudspeakers', { id: 'an-binh', name: 'Loa xã An Bình', province: '92', commune: '31117', airtime: [{ from: '17:00', to: '17:05' }], blackout: [{ from: '21:00', to: '05:00' }] });
    expect(cluster.status, cluster.body).toBe(201);
    browser = await chromium.launch(chromiumOptions(FAKE_AUDIO_ARGS));
    context = await browser.newContext({ timezoneId: 'Europe/Berlin', acceptDownloads: true });
    context.on('weberror', (error) => pageErrors.push(error.error().message));
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.fill('#signin-name', 'chi');
    await page.fill('#signin-password', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.bar');
    await page.close();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (service) {
      service.child.kill('SIGTERM');
      await service.exited;
      writeFileSync(`${SCREENSHOTS}/console-report-service.log`, service.output());
    }
    await database?.drop();
  });

  it('opens the daily report of an area, adds a manual entry that appears in it, downloads and deletes it', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/#/report`);
    await page.waitForSelector('#report-frame');
    expect(await page.textContent('h1')).toBe('Báo cáo nhanh trong ngày');
    expect(await page.inputValue('#report-date')).toBe(today());
    // The areas come from GET /v1/reports/areas: all, the group's province, the group.
    expect(await page.$$eval('#report-area option', (options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(['all', 'province:92', 'group:ninh-kieu']);
    await page.selectOption('#report-area', 'group:ninh-kieu');
    const report = page.frameLocator('#report-frame');
    await expect.poll(() => report.locator('h1').textContent(), { timeout: 15_000 }).toBe('Báo cáo nhanh kết quả tuyên truyền');
    await expect.poll(() => report.locator('body').textContent()).toContain('Khu vực Ninh Kiều');
    expect(await page.textContent('#report-entries')).toContain('Chưa có số liệu nhập tay');

    await page.selectOption('#entry-channel', 'web');
    await page.fill('#entry-count', '3');
    await page.fill('#entry-text', 'Bài viết về phòng chống bão trên cổng thông tin điện tử');
    await page.click('#add-entry');
    await page.waitForSelector('#report-entries tr[data-entry]');
    const row = await page.textContent('#report-entries tr[data-entry]');
    expect(row).toContain('Trang thông tin điện tử');
    expect(row).toContain('Bài viết về phòng chống bão');
    expect(await page.textContent('#report-status')).toBe('Đã thêm vào báo cáo.');
    // The service stored it under the chosen day and area, by the person signed in.
    const stored = JSON.parse((await apiCall('GET', `/v1/reports/entries?date=${today()}&area=group:ninh-kieu`)).body) as Array<{ id: number; channel: string; count: number; createdBy: string }>;
    expect(stored).toEqual([expect.objectContaining({ channel: 'web', count: 3, createdBy: expect.stringContaining('chi') })]);
    // And the report the frame shows (reloaded) counts it.
    await expect.poll(() => report.locator('body').textContent(), { timeout: 15_000 }).toContain('Trang thông tin điện tử: 3 tin, bài — Bài viết về phòng chống bão');

    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'daily-report');

    // Download: the CSV link gives the same day and area, with the entry.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(download.suggestedFilename()).toBe(`bao-cao-${today()}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain('Bài viết về phòng chống bão');
    // Print prints the frame (the report alone); a spy stands in for the print dialog a headless browser lacks.
    await page.evaluate(() => {
      const frame = document.getElementById('report-frame') as HTMLIFrameElement;
      (frame.contentWindow as unknown as { print: () => void }).print = () => document.body.setAttribute('data-printed', 'yes');
    });
    await page.click('#print-report');
    expect(await page.getAttribute('body', 'data-printed')).toBe('yes');

    await page.click(`#report-entries tr[data-entry="${stored[0]!.id}"] button`);
    await expect.poll(() => page.textContent('#report-status')).toBe('Đã xóa khỏi báo cáo.');
    expect(await page.textContent('#report-entries')).toContain('Chưa có số liệu nhập tay');
    expect(JSON.parse((await apiCall('GET', `/v1/reports/entries?date=${today()}&area=group:ninh-kieu`)).body)).toEqual([]);
    // In English the frame shows the report in English (the page asks for it in its own language).
    await page.click('header button[lang=en]');
    await expect.poll(() => page.textContent('h1')).toBe('Daily quick report');
    await expect.poll(() => report.locator('h1').textContent(), { timeout: 15_000 }).toBe('Quick report of propaganda results');
    await page.click('header button[lang=vi]');
    await expect.poll(() => page.textContent('h1')).toBe('Báo cáo nhanh trong ngày');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('lists the loudspeaker clusters with today’s schedule, adds one with its token shown once, and plays a rendered text', async () => {
    // A launched campaign with a loudspeaker item for province 92 gives an-binh a schedule.
    const imported = await loa(['audience', 'import', 'cantho-subscribers', 'examples/cantho-subscribers.csv', '--json'], { LOA_URL: base, LOA_TOKEN: adminToken });
    expect(imported.code, imported.stderr).toBe(0);
    const saved = await fetch(`${base}/v1/campaigns/cantho-loa-truyen-thanh-2021`, { method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/yaml' }, body: readFileSync('campaigns/cantho-loa-truyen-thanh-2021.yaml', 'utf8') });
    expect(saved.status).toBe(201);
    const launched = await apiCall('POST', '/v1/campaigns/cantho-loa-truyen-thanh-2021/launch', { now: true });
    expect(launched.status, launched.body).toBe(201);
    const schedule = JSON.parse((await apiCall('GET', '/v1/loudspeakers/an-binh/schedule')).body) as { slots: Array<{ start: string; text: string | null }> };
    expect(schedule.slots.length).toBeGreaterThan(0);
    // The same schedule from the command line (nothing possible only in the browser).
    const cli = await loa(['loudspeakers', 'schedule', 'an-binh', '--json'], { LOA_URL: base, LOA_TOKEN: adminToken });
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as typeof schedule).slots).toEqual(schedule.slots);
    const human = await loa(['loudspeakers', 'schedule', 'an-binh'], { LOA_URL: base, LOA_TOKEN: adminToken, LOA_LANG: 'vi' });
    expect(human.stdout.split('\n')[0]).toMatch(/^17:0\d:\d\d \d\d\/\d\d\/\d{4} {2}\d+ giây {2}Ủy ban nhân dân xã, phường thông báo/);
    const todaySlots = schedule.slots.filter((slot) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(slot.start)) === today());

    const page = await context.newPage();
    await page.goto(`${base}/#/loudspeakers`);
    await page.waitForSelector('#loudspeakers tr[data-loudspeaker="an-binh"]');
    const cells = await page.$$eval('#loudspeakers tr[data-loudspeaker="an-binh"] td', (tds) => tds.slice(0, 7).map((td) => td.textContent));
    expect(cells).toEqual(['an-binh', 'Loa xã An Bình', '92 · 31117', 'chưa kết nối', '—', '17:00–17:05', '21:00–05:00']);
    // Today's schedule opens on demand: the same slots as the API's for today (Vietnam time).
    await page.click('details[data-schedule="an-binh"] summary');
    if (todaySlots.length === 0) await expect.poll(() => page.textContent('details[data-schedule="an-binh"]')).toContain('Hôm nay không có lượt phát nào.');
    else {
      await expect.poll(() => page.locator('details[data-schedule="an-binh"] li').count(), { timeout: 10_000 }).toBe(todaySlots.length);
      expect(await page.textContent('details[data-schedule="an-binh"] li')).toMatch(/^17:0\d \(\d+ s\) Ủy ban nhân dân xã, phường thông báo/);
    }

    // A window the API would refuse is named before anything is sent.
    await page.fill('#ls-id', 'long-my');
    await page.fill('#ls-name', 'Loa phường Long Mỹ');
    await page.fill('#ls-commune', '31120');
    await page.fill('#ls-airtime', '06:00-6:30');
    await page.click('#add-loudspeaker');
    await expect.poll(() => page.textContent('form [role=status]')).toBe('Giờ phát: "06:00-6:30" không phải khung giờ HH:MM-HH:MM.');
    await page.fill('#ls-airtime', '06:00-06:30, 17:00-17:30');
    await page.click('#add-loudspeaker');
    await page.waitForSelector('#ls-token');
    const token = await page.textContent('#ls-token p:nth-child(2) code');
    const player = await page.textContent('#ls-token p:nth-child(3) code');
    expect(token).toMatch(/\S{20,}/);
    expect(player).toBe(`${base}/v1/loudspeakers/long-my/player?token=${encodeURIComponent(token!)}`);
    // The player takes the token once, trades it for a cookie and drops it from the address.
    const opened = await fetch(player!, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/v1/loudspeakers/long-my/player');
    // The registry shows it at once, below which the token stays.
    await page.waitForSelector('#loudspeakers tr[data-loudspeaker="long-my"]');
    expect(await page.isVisible('#ls-token')).toBe(true);
    const registered = JSON.parse((await apiCall('GET', '/v1/loudspeakers/long-my')).body) as { airtime: unknown; commune: string };
    expect(registered).toMatchObject({ commune: '31120', airtime: [{ from: '06:00', to: '06:30' }, { from: '17:00', to: '17:30' }] });

    await page.fill('#listen-text', 'Ủy ban nhân dân phường thông báo lịch tiêm vắc-xin.');
    await page.click('.listen-button');
    await page.waitForSelector('.listen audio');
    const duration = await page.$eval('.listen audio', (audio) => {
      const element = audio as HTMLAudioElement;
      return element.readyState >= 1 ? element.duration : new Promise<number>((resolve) => element.addEventListener('loadedmetadata', () => resolve(element.duration), { once: true }));
    });
    expect(duration).toBeGreaterThan(1);
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'loudspeakers');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('listens to a campaign’s loudspeaker item in the editor before launch', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/#/campaigns/new`);
    await page.waitForSelector('#campaign-yaml');
    await page.fill('#campaign-yaml', readFileSync('campaigns/cantho-loa-truyen-thanh-2021.yaml', 'utf8'));
    await page.waitForSelector('#loudspeaker-items .listen-button');
    expect(await page.textContent('#loudspeaker-items')).toContain('thông điệp 5K');
    await page.click('#loudspeaker-items .listen-button');
    await page.waitForSelector('#loudspeaker-items audio');
    const duration = await page.$eval('#loudspeaker-items audio', (audio) => {
      const element = audio as HTMLAudioElement;
      return element.readyState >= 1 ? element.duration : new Promise<number>((resolve) => element.addEventListener('loadedmetadata', () => resolve(element.duration), { once: true }));
    });
    // A long paragraph read out at 150 words a minute lasts well over ten seconds.
    expect(duration).toBeGreaterThan(10);
    await shot(page, 'editor-listen');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
