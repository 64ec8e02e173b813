import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Config } from '../src/config.js';
import { contentHash, validateCampaign } from '../src/domain/campaign.js';
import { CARRIER_IDS, type CarrierId } from '../src/domain/carrier.js';
import { startCarrierBinds } from '../src/jobs/carrier-binds.js';
import { CompileWorker } from '../src/jobs/compile.worker.js';
import { startEngine } from '../src/jobs/engine.js';
import { JobQueues } from '../src/jobs/queues.js';
import { createRedis } from '../src/jobs/redis.js';
import { createLogger } from '../src/logger.js';
import { AudienceRepository, feedOf, CampaignRepository, CompileRepository, createDb, MessageRepository, MigrationRunner, ReceiptRepository, RunRepository, type Store } from '../src/store/index.js';
import { campaignDocument } from '../test/factories.js';
import { throwawayDatabase, type BenchResult, type Report } from './harness.js';
import { uncapped } from './smpp.bench.js';

const logger = createLogger('error');
const credentials = { systemId: 'loa-bench', password: 'bench' };
const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Peak resident set of this process so far, MB. */
function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** CPU µs each PostgreSQL backend of the store's database has used so far, by pid (Linux /proc). */
async function backendCpuMicros(store: Store): Promise<Map<number, number>> {
  const { rows } = await store.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks.set(pid, (Number(fields[11]) + Number(fields[12])) * 10_000); // utime + stime, at 100 ticks/s
    } catch {
      // another host's server, or the backend just ended: not counted
    }
  }
  return ticks;
}

function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, micros] of after) total += micros - (before.get(pid) ?? 0);
  return total;
}

/** An uncapped SMSC in its own process (so it is not what limits the engine); reports its peak RSS on exit. */
async function childSimulator(): Promise<{ port: number; stop: () => Promise<{ accepted: number; peakRssMb: number; cpuMicros: number }> }> {
  const code = `
    const { SmscSimulator } = await import(${JSON.stringify(new URL('src/sim/smsc-simulator.ts', `file://${repoRoot}`).href)});
    const sim = new SmscSimulator({ carrier: 'viettel', systemId: ${JSON.stringify(credentials.systemId)}, password: ${JSON.stringify(credentials.password)},
      recordSubmits: false, messageIds: { submit: 'hex', receipt: 'dec' }, receipts: { delayMs: { min: 0, max: 0 } } });
    const port = await sim.listen();
    process.stdout.write(JSON.stringify({ port }) + '\\n');
    process.stdin.on('data', () => {});
    process.stdin.on('end', async () => {
      const usage = process.resourceUsage();
      process.stdout.write(JSON.stringify({ accepted: sim.stats.accepted, peakRssMb: Math.round(usage.maxRSS / 1024), cpuMicros: usage.userCPUTime + usage.systemCPUTime }) + '\\n');
      await sim.close(); process.exit(0);
    });
  `;
  const child = spawn(process.execPath, [...(process.env.LOA_BENCH_SIM_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.LOA_BENCH_SIM_PROF] : []), '--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (exitCode) => reject(new Error(`simulator process exited (${exitCode})`)));
  });
  const port = (JSON.parse(await next()) as { port: number }).port;
  return {
    port,
    stop: async () => {
      const last = next();
      child.stdin!.end();
      return JSON.parse(await last) as { accepted: number; peakRssMb: number; cpuMicros: number };
    },
  };
}

async function freshStore(name: string): Promise<{ store: Store; drop: () => Promise<void> }> {
  const database = await throwawayDatabase(name);
  const store = createDb(database.url, { max: Number(process.env.LOA_BENCH_POOL ?? 20), applicationName: 'loa-bench' });
  await new MigrationRunner(store.pool).migrate();
  return {
    store,
    drop: async () => {
      await store.close();
      await database.drop();
    },
  };
}

/** `count` subscribers of one carrier (8496…: Viettel) in list `bench`, and a run of a one-part campaign to them. */
async function seed(store: Store, count: number, carrier: CarrierId = 'viettel'): Promise<number> {
  const audience = new AudienceRepository(store.db, store.pool);
  await audience.createList({ id: 'bench', name: 'bench' });
  const prefix = { viettel: '8496', vnpt: '8491', mobifone: '8490' }[carrier];
  function* rows() {
    for (let i = 0; i < count; i++) yield { msisdn: `${prefix}${String(i).padStart(7, '0')}`, province: '92', commune: `c${i % 80}` };
  }
  await audience.mergeSubscribers('bench', feedOf(rows()));
  const campaign = validateCampaign(campaignDocument({ id: 'bench', audience: { lists: ['bench'] } }));
  const campaigns = new CampaignRepository(store.db);
  await campaigns.upsert({ id: campaign.id, name: campaign.name });
  const { version } = await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'bench' });
  const { run } = await new RunRepository(store.db).createIfAbsent({ campaignVersionId: version.id, occurrenceId: `bench:${count}`, scheduledFor: new Date(), launchedBy: 'bench' });
  return run.id;
}

/** Launch → every message submitted, every write done and every receipt applied, against an uncapped SMSC. */
async function e2e(report: Report, count: number, name: string): Promise<BenchResult> {
  const { store, drop } = await freshStore('engine');
  const sim = await childSimulator();
  const prefix = `loa-bench-engine-${process.pid}`;
  const redis = createRedis(REDIS_URL, 'loa-bench');
  try {
    const runId = await seed(store, count);
    const carriers = Object.fromEntries(
      CARRIER_IDS.map((id) => [
        id,
        { id, systemType: '', tps: 100_000, window: 200, bindMode: 'transceiver', messageId: { submit: 'hex', receipt: 'dec' }, binds: [{ host: '127.0.0.1', port: sim.port, ...credentials, count: 2 }] },
      ]),
    ) as unknown as Config['carriers'];
    const config = { carriers, redisPrefix: prefix, carriersSource: 'file', receipts: { windowMs: 7 * 24 * 3_600_000, retentionDays: null } } as Config;
    const receipts = new ReceiptRepository(store.db, store.pool);
    const binds = await startCarrierBinds({ config, redis, receiptStore: receipts, logger });
    while (binds.pools.viettel.boundCount < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const engine = await startEngine({ store, redis, config, pools: binds.pools, receipts, late: binds.lateResponses, logger, options: { sweeper: { intervalMs: 500 }, workers: { concurrency: { 'submit-viettel': 4 } } } });
    const backendsBefore = await backendCpuMicros(store);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await engine.queues.enqueueCompile(runId, { priority: 'urgent' });
    let status = await engine.status.get(runId);
    let submittedAt = 0;
    let receiptBacklog = 0;
    let heapMb = 0;
    for (;;) {
      // What the process holds: receipts acknowledged but not yet written are the receipt path's buffer.
      receiptBacklog = Math.max(receiptBacklog, binds.receipts.pending);
      heapMb = Math.max(heapMb, Math.round(process.memoryUsage().heapUsed / 1024 / 1024));
      status = await engine.status.get(runId);
      const totals = status!.totals;
      if (!submittedAt && totals.queued + totals.submitting === 0 && totals.submitted + totals.delivered >= count) submittedAt = performance.now();
      const open = totals.queued + totals.submitting + totals.submitted + totals.enroute + totals.accepted;
      if (open === 0 && Object.values(totals).reduce((a, b) => a + b, 0) >= count) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = (performance.now() - start) / 1000;
    const engineCpu = process.cpuUsage(cpuBefore);
    const postgresCpu = cpuSince(backendsBefore, await backendCpuMicros(store));
    await engine.stop();
    await binds.stop();
    const simulator = await sim.stop();
    // CPU per segment holds under a shared machine's load where segments/s does not: what to optimise.
    const perSegment = (micros: number) => Number((micros / count).toFixed(1));
    const result: BenchResult = {
      bench: name,
      value: Math.round(count / seconds),
      unit: 'segments/s',
      recipients: count,
      seconds: Number(seconds.toFixed(2)),
      submittedAfterSeconds: Number(((submittedAt - start) / 1000).toFixed(2)),
      delivered: status!.totals.delivered,
      failed: status!.totals.failed,
      ambiguous: status!.totals.ambiguous,
      accepted: simulator.accepted,
      peakRssMb: { engine: peakRssMb(), simulator: simulator.peakRssMb },
      peakHeapMb: heapMb,
      peakReceiptBacklog: receiptBacklog,
      cpuMicrosPerSegment: {
        engine: perSegment(engineCpu.user + engineCpu.system),
        simulator: perSegment(simulator.cpuMicros),
        postgres: perSegment(postgresCpu),
      },
    };
    report(result);
    return result;
  } finally {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await drop();
  }
}

/** Compile alone: recipients/s from the audience tables into the run's partition, with its batches enqueued. */
async function compile(report: Report, count: number): Promise<void> {
  const { store, drop } = await freshStore('compile');
  const prefix = `loa-bench-compile-${process.pid}`;
  const redis = createRedis(REDIS_URL, 'loa-bench');
  const queues = new JobQueues(redis, prefix);
  try {
    const runId = await seed(store, count);
    const sut = new CompileWorker({ runs: new RunRepository(store.db), messages: new MessageRepository(store.db, store.pool), compile: new CompileRepository(store.db), queues, logger });
    const rssBefore = peakRssMb();
    const start = performance.now();
    const result = await sut.process({ runId });
    const seconds = (performance.now() - start) / 1000;
    report({ bench: 'engine.compile', value: Math.round(result.rows / seconds), unit: 'recipients/s', recipients: result.rows, chunks: result.chunks, seconds: Number(seconds.toFixed(2)), peakRssMbBefore: rssBefore, peakRssMb: peakRssMb() });
  } finally {
    await queues.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await drop();
  }
}

export async function run(report: Report): Promise<void> {
  const recipients = Number(process.env.LOA_BENCH_ENGINE_RECIPIENTS ?? 100_000);
  let transport = 0;
  if (process.env.LOA_BENCH_TRANSPORT !== '0') {
    await uncapped((result) => {
      transport = result.value;
      report(result);
    }, 1, 'smpp.submit.uncapped.with-receipts');
  }
  const engine = await e2e(() => undefined, recipients, 'engine.e2e');
  report({ ...engine, ratioToTransport: Number((engine.value / transport).toFixed(3)), transport });
  if (process.env.LOA_BENCH_COMPILE !== '0') await compile(report, Number(process.env.LOA_BENCH_COMPILE_RECIPIENTS ?? 1_000_000));
  if (process.env.LOA_BENCH_RSS !== '0') {
    const big = await e2e(() => undefined, Number(process.env.LOA_BENCH_RSS_RECIPIENTS ?? 1_000_000), 'engine.rss.run');
    // maxRSS is the process's peak over its life, so the figure includes the phases before: an upper bound.
    report({ bench: 'engine.rss', value: (big.peakRssMb as { engine: number }).engine, unit: 'MB', recipients: big.recipients, peakRssMb: big.peakRssMb, segmentsPerSecond: big.value });
  }
}
