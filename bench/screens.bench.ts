import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { buildApp } from '../src/api/app.js';
import { createLogger } from '../src/logger.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { PlaylistChanges } from '../src/screens/playlist-changes.js';
import { hashScreenToken, screenToken } from '../src/screens/screens.service.js';
import { createApiServices, type ApiServices } from '../src/services/index.js';
import { createDb, type Store } from '../src/store/db.js';
import { MigrationRunner } from '../src/store/migrator.js';
import { rssMb, throwawayDatabase, type Report } from './harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LONG_POLLS = 10_000;
const LOAD_MS = 2000;
const CONCURRENCY = 64;
const helper = (name: string) => new URL(name, import.meta.url).pathname;

interface ApiProcess {
  app: FastifyInstance;
  services: ApiServices;
  close(): Promise<void>;
}

async function apiProcess(store: Store, channel: string): Promise<ApiProcess> {
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const changes = new PlaylistChanges(publisher, subscriber, channel);
  await changes.start();
  const logger = createLogger('silent');
  const services = createApiServices(
    store,
    { launcher: { enqueueCompile: async () => undefined }, statusReader: { get: async () => undefined } },
    { playlistChanges: changes, maxWaitSeconds: 120 },
  );
  const app = await buildApp({ logger, metrics: createMetricsRegistry(), checks: [], services });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    services,
    async close() {
      await app.close();
      await changes.stop();
      await services.screens?.playlists.stop();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;

async function load(port: number, path: string, headers: Record<string, string>): Promise<{ rps: number; statuses: Record<string, number> }> {
  const { stdout } = await promisify(execFile)(process.execPath, [helper('screens-load.mjs'), String(port), path, JSON.stringify(headers), String(CONCURRENCY), String(LOAD_MS)]);
  return JSON.parse(stdout) as { rps: number; statuses: Record<string, number> };
}

/** A campaign document showing `text` on the screens of `targets`. */
function campaign(id: string, priority: 'normal' | 'urgent', targets: Record<string, unknown>, text: string): string {
  return stringify({
    id,
    name: id,
    priority,
    message: { text: 'Loa bench', sender: { viettel: 'LOA', vnpt: 'LOA', mobifone: 'LOA' } },
    audience: { lists: ['bench'] },
    operators: ['viettel', 'vnpt', 'mobifone'],
    screens: [{ targets, text: { vi: text }, duration: 10 }],
  });
}

/**
 * Screens (issue 10): conditional polls per second on the 304 path through the real app beside a
 * bare fastify hello-world in the same run; 10,000 pending long-polls in one API process
 * (memory, time to wake them all); an urgent launch on one API process → a long-poll held by
 * another answered. Load comes from child processes, so the API process's figures are its own.
 */
export async function run(report: Report): Promise<void> {
  const database = await throwawayDatabase('screens');
  const store = createDb(database.url, { max: 10, applicationName: 'loa-bench-screens' });
  const channel = `loa-bench:${process.pid}:screens:changed`;
  const work = mkdtempSync(join(tmpdir(), 'loa-bench-screens-'));
  let first: ApiProcess | undefined;
  let second: ApiProcess | undefined;
  try {
    await new MigrationRunner(store.pool).migrate();
    first = await apiProcess(store, channel);
    second = await apiProcess(store, channel);
    const { services } = first;
    const added = await services.screens!.registry.add({ id: 'bench-led', name: 'Bench', kind: 'led', tags: ['bench'] }, 'bench');
    await services.campaigns.put('bench-normal', { text: campaign('bench-normal', 'normal', { ids: ['bench-led'] }, 'Thông báo thường lệ') }, 'bench');
    await services.launches.launch({ campaignId: 'bench-normal', now: true }, 'bench');

    // 1. The 304 path against hello-world, alternating (3 rounds each) so that load from other
    // work on the machine falls on both alike; medians reported.
    const hello = Fastify();
    hello.get('/', async () => ({ hello: 'world' }));
    await hello.listen({ host: '127.0.0.1', port: 0 });
    const playlist = await services.screens!.playlists.playlist('bench-led');
    const helloRuns: number[] = [];
    const pollRuns: number[] = [];
    let statuses: Record<string, number> = {};
    for (let round = 0; round < 3; round += 1) {
      helloRuns.push((await load(portOf(hello), '/', {})).rps);
      const polls = await load(portOf(first.app), '/v1/screens/bench-led/playlist', { authorization: `Bearer ${added.token}`, 'if-none-match': `"${playlist!.version}"` });
      pollRuns.push(polls.rps);
      statuses = polls.statuses;
    }
    await hello.close();
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1]!;
    report({ bench: 'screens.poll304', value: median(pollRuns), unit: 'requests/s', helloWorld: median(helloRuns), ratio: Math.round((median(pollRuns) / median(helloRuns)) * 100) / 100, rounds: { poll304: pollRuns, helloWorld: helloRuns }, statuses, concurrency: CONCURRENCY });

    // 2. Urgent launch on the first process → a long-poll held by the second answered (5 runs).
    const latencies: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await second.services.screens!.playlists.playlist('bench-led');
      const port = portOf(second.app);
      const answered = fetch(`http://127.0.0.1:${port}/v1/screens/bench-led/playlist?wait=60`, { headers: { authorization: `Bearer ${added.token}`, 'if-none-match': `"${current!.version}"` } }).then(() => performance.now());
      while (second.services.screens!.changes.pending === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const id = `bench-urgent-${attempt}`;
      await services.campaigns.put(id, { text: campaign(id, 'urgent', { ids: ['bench-led'] }, `Khẩn cấp ${attempt}`) }, 'bench');
      const launched = performance.now();
      await services.launches.launch({ campaignId: id }, 'bench');
      latencies.push((await answered) - launched);
    }
    latencies.sort((a, b) => a - b);
    report({ bench: 'screens.urgentToLongPoll', value: Math.round(latencies[2]! * 10) / 10, unit: 'ms (median of 5)', max: Math.round(latencies[4]! * 10) / 10, goal: '< 1000' });

    // 3. 10,000 screens, one pending long-poll each, held by the second process.
    const rows: Array<[string, string, string]> = [];
    const values: Array<{ id: string; name: string; kind: string; token_hash: string; tags: string[] }> = [];
    for (let index = 0; index < LONG_POLLS; index += 1) {
      const token = screenToken();
      values.push({ id: `s-${index}`, name: `Screen ${index}`, kind: 'led', token_hash: hashScreenToken(token), tags: ['many'] });
      rows.push([`s-${index}`, token, '']);
    }
    for (let index = 0; index < values.length; index += 1000) await store.db.insertInto('screens').values(values.slice(index, index + 1000)).execute();
    for (const row of rows) row[2] = `"${(await second.services.screens!.playlists.playlist(row[0]))!.version}"`;
    const file = join(work, 'rows.json');
    writeFileSync(file, JSON.stringify(rows));
    global.gc?.();
    const before = process.memoryUsage();
    const clients = spawn(process.execPath, [helper('screens-clients.mjs'), String(portOf(second.app)), '110', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const done = new Promise<string>((resolve, reject) => {
      clients.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /done (\d+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      clients.on('exit', (code) => (code ? reject(new Error(`clients exited ${code}`)) : undefined));
    });
    done.catch(() => undefined); // awaited below; a failure before then must not crash the run
    const pendingSince = performance.now();
    while (second.services.screens!.changes.pending < LONG_POLLS) {
      if (performance.now() - pendingSince > 120_000) throw new Error(`only ${second.services.screens!.changes.pending} long-polls pending`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    global.gc?.();
    const held = process.memoryUsage();
    const rss = rssMb();
    // One launch targeting all 10,000 screens (by tag), through the first process.
    await services.campaigns.put('bench-many', { text: campaign('bench-many', 'urgent', { tags: ['many'] }, 'Cảnh báo cho mọi màn hình') }, 'bench');
    const launched = performance.now();
    await services.launches.launch({ campaignId: 'bench-many' }, 'bench');
    const launchMs = performance.now() - launched;
    const changed = Number(await done);
    const wakeMs = performance.now() - launched;
    report({
      bench: 'screens.longPolls10k',
      value: Math.round(((held.heapUsed - before.heapUsed) / LONG_POLLS) * 10) / 10 / 1024,
      unit: 'KiB heap per pending long-poll',
      pending: LONG_POLLS,
      heapMb: Math.round(held.heapUsed / 1024 / 1024),
      rssMb: rss,
      rssDeltaMb: Math.round((held.rss - before.rss) / 1024 / 1024),
      wakeAllMs: Math.round(wakeMs),
      launchMs: Math.round(launchMs),
      answeredWithNewPlaylist: changed,
    });
    clients.kill();
  } finally {
    await second?.close();
    await first?.close();
    await store.close();
    rmSync(work, { recursive: true, force: true });
    await database.drop();
  }
}
