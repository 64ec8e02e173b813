import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildApp } from '../src/api/app.js';
import { simulatorCarriers } from '../src/config.js';
import { CARRIER_IDS } from '../src/domain/carrier.js';
import { createRunStatusReader } from '../src/jobs/engine.js';
import { createLogger } from '../src/logger.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { createApiServices } from '../src/services/index.js';
import { MessageRepository, type QueuedMessage } from '../src/store/message.repository.js';
import { RunRepository } from '../src/store/run.repository.js';
import { benchStore, type Report } from './harness.js';
import { chromiumOptions } from '../test/helpers/browser.js';

/** The figure: the dashboard of a 1 M-message run. */
const MESSAGES = Number(process.env.LOA_BENCH_CONSOLE_MESSAGES ?? 1_000_000);
const LOADS = 5;

function* recipients(count: number): Generator<QueuedMessage> {
  for (let i = 0; i < count; i += 1) yield { msisdn: String(84_900_000_000 + i), carrier: CARRIER_IDS[i % 3]!, province: '92', commune: `c${i % 80}`, partsTotal: 1 };
}

/**
 * The console's size (esbuild bundle, raw and gzip) and the time from navigation to the first
 * render of a run dashboard over a run of MESSAGES queued messages, in Debian's chromium against
 * the real app and PostgreSQL (median of LOADS fresh loads).
 */
export async function run(report: Report): Promise<void> {
  execFileSync(process.execPath, ['scripts/build-console.mjs'], { stdio: 'pipe' });
  const bundle = readFileSync('dist/console/console.js');
  report({ bench: 'console.bundle', value: bundle.length, unit: 'bytes', gzipBytes: gzipSync(bundle).length });

  const { store, versionId, close } = await benchStore('console');
  const services = createApiServices(store, { launcher: { enqueueCompile: async () => undefined }, statusReader: createRunStatusReader(store, { carriers: simulatorCarriers(2775) }) });
  const app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
  const browser = await chromium.launch(chromiumOptions());
  try {
    const runId = (await new RunRepository(store.db).createIfAbsent({ campaignVersionId: versionId, occurrenceId: 'console', scheduledFor: new Date(), launchedBy: 'bench' })).run.id;
    await new MessageRepository(store.db, store.pool).copyQueued(runId, recipients(MESSAGES));
    await services.users!.create({ name: 'bench-viewer', role: 'viewer', password: 'bench-viewer-password' }, 'bench');
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.fill('#signin-name', 'bench-viewer');
    await page.fill('#signin-password', 'bench-viewer-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('header.bar');
    let shownTotal = '';
    const renders: number[] = [];
    const statusMs: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const fresh = await context.newPage();
      await fresh.goto(`${base}/#/runs/${runId}`);
      await fresh.waitForSelector('#run-carriers tr[data-carrier=all]');
      shownTotal = (await fresh.textContent('#run-carriers tr[data-carrier=all] [data-field=total]')) ?? '';
      renders.push(await fresh.evaluate(() => performance.getEntriesByName('loa:dashboard-rendered')[0]?.startTime ?? Number.NaN));
      statusMs.push(await fresh.evaluate(async (id) => {
        const start = performance.now();
        await fetch(`/v1/runs/${id}`);
        return performance.now() - start;
      }, runId));
      await fresh.close();
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    report({ bench: 'console.dashboard.firstRender', value: Math.round(median(renders)), unit: 'ms', messages: MESSAGES, loads: LOADS, shownTotal, statusRequestMs: Math.round(median(statusMs)) });
  } finally {
    await browser.close();
    await app.close();
    await close();
  }
}
