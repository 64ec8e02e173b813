import { chromium } from 'playwright-core';
import { MigrationRunner, createDb } from '../src/store/index.js';
import { freePortRun, runLoaProcess as loa, startServiceProcess } from '../test/helpers/processes.js';
import { throwawayDatabase, type Report } from './harness.js';
import { chromiumOptions } from '../test/helpers/browser.js';

/** Recipients per carrier: at the simulators' grants (200, 100, 100 TPS) the run sends for ~30 s. */
const PER_CARRIER = Number(process.env.LOA_BENCH_CONSOLE_LIVE_PER_CARRIER ?? 3000);
const WATCH_MS = 10_000;

function audienceCsv(): string {
  const lines = ['msisdn,province,commune'];
  for (const prefix of ['098', '091', '090']) for (let i = 0; i < PER_CARRIER; i++) lines.push(`${prefix}${String(i).padStart(7, '0')},92,31117`);
  return `${lines.join('\n')}\n`;
}

const CAMPAIGN = [
  'id: console-live',
  'name: "Bảng điều khiển khi gửi hết tốc độ"',
  'priority: normal',
  'message:',
  '  text: "Thông báo thử tốc độ bảng điều khiển."',
  '  encoding: auto',
  '  sender: { viettel: STTTT-CT, vnpt: STTTT-CT, mobifone: STTTT-CT }',
  'audience:',
  '  lists: [console-live]',
  'operators: [viettel, vnpt, mobifone]',
  'validity: PT1H',
  '',
].join('\n');

/**
 * The issue's third figure: how often the run dashboard changes while a run sends at the carriers'
 * full granted speed — `loa serve --role all` with its simulated carriers, the dashboard in
 * Debian's chromium, a MutationObserver on the totals row's `sent` cell for WATCH_MS.
 */
export async function run(report: Report): Promise<void> {
  const database = await throwawayDatabase('console_live');
  const store = createDb(database.url, { max: 2, applicationName: 'loa-bench' });
  await new MigrationRunner(store.pool).migrate();
  await store.close();
  const service = startServiceProcess(['--role', 'all'], { DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOA_SIM_PORT: String(await freePortRun()), LOA_REDIS_PREFIX: `loa-bench-console-${process.pid}` });
  const browser = await chromium.launch(chromiumOptions());
  try {
    const base = `http://127.0.0.1:${await service.port()}`;
    await service.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('all 3 carriers bound'));
    const key = await loa(['keys', 'create', '--role', 'admin', '--name', 'bench', '--json'], { DATABASE_URL: database.url });
    const token = (JSON.parse(key.stdout) as { token: string }).token;
    const auth = { authorization: `Bearer ${token}` };
    const added = await loa(['users', 'add', 'bench-viewer', '--role', 'viewer', '--json'], { LOA_URL: base, LOA_TOKEN: token });
    const password = (JSON.parse(added.stdout) as { password: string }).password;
    await fetch(`${base}/v1/lists/console-live/import`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: audienceCsv() });
    await fetch(`${base}/v1/campaigns`, { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body: CAMPAIGN });
    const launched = (await (await fetch(`${base}/v1/campaigns/console-live/launch`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `bench-${Date.now()}` }, body: JSON.stringify({ now: true }) })).json()) as { run: { id: number } };
    const runId = launched.run.id;

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/`);
    await page.fill('#signin-name', 'bench-viewer');
    await page.fill('#signin-password', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.bar');
    await page.goto(`${base}/#/runs/${runId}`);
    await page.waitForSelector('#run-carriers tr[data-carrier=all] [data-field=sent]');
    // A string, not a function: tsx would wrap a function's inner functions in a helper the page lacks.
    const changes = (await page.evaluate(`(async () => {
      const cell = () => document.querySelector('#run-carriers tr[data-carrier=all] [data-field=sent]');
      const seen = [];
      let last = cell()?.textContent ?? '';
      const observer = new MutationObserver(() => {
        const text = cell()?.textContent ?? '';
        if (text !== last) seen.push({ at: performance.now(), text });
        last = text;
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
      const start = performance.now();
      await new Promise((resolve) => setTimeout(resolve, ${WATCH_MS}));
      observer.disconnect();
      return { start, seen };
    })()`)) as { start: number; seen: Array<{ at: number; text: string }> };
    const times = changes.seen.map((change) => change.at);
    const gaps = times.map((at, i) => at - (i === 0 ? changes.start : times[i - 1]!));
    const status = (await (await fetch(`${base}/v1/runs/${runId}`, { headers: auth })).json()) as { state: string };
    report({
      bench: 'console.dashboard.updatesPerSecond',
      value: Number((changes.seen.length / (WATCH_MS / 1000)).toFixed(2)),
      unit: 'updates/s',
      watchedMs: WATCH_MS,
      updates: changes.seen.length,
      longestGapMs: Math.round(Math.max(0, ...gaps)),
      lastSent: changes.seen.at(-1)?.text ?? null,
      runStateAfter: status.state,
    });
  } finally {
    await browser.close();
    await service.stop();
    await database.drop();
  }
}
