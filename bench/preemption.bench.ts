import type { Config } from '../src/config.js';
import { contentHash, validateCampaign } from '../src/domain/campaign.js';
import { CARRIER_IDS } from '../src/domain/carrier.js';
import { startCarrierBinds } from '../src/jobs/carrier-binds.js';
import { startEngine } from '../src/jobs/engine.js';
import { createRedis } from '../src/jobs/redis.js';
import { createLogger } from '../src/logger.js';
import { SmscSimulator } from '../src/sim/smsc-simulator.js';
import { TokenBucket } from '../src/smpp/token-bucket.js';
import { AudienceRepository, CampaignRepository, createDb, feedOf, MigrationRunner, ReceiptRepository, RunRepository, type Store } from '../src/store/index.js';
import { campaignDocument } from '../test/factories.js';
import { throwawayDatabase, type Report } from './harness.js';

/**
 * Issue 9 item 2: launch of an urgent run → its first submit_sm at the SMSC, while a normal run
 * saturates the same carrier (goal < 1 s). The normal run (LOA_BENCH_PREEMPT_NORMAL recipients,
 * default 1,000,000) sends at the carrier's grant (LOA_BENCH_PREEMPT_TPS, default 100, over 2 binds
 * of window 50); once it has sent for a few seconds, urgent runs of 20 recipients are launched one
 * after another (LOA_BENCH_PREEMPT_SAMPLES, default 5), the first while the normal run may still be
 * compiling. The time is taken at the simulator (same process, same clock).
 */
const logger = createLogger('error');
const credentials = { systemId: 'loa-bench', password: 'bench' };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const URGENT_PREFIX = '84969';

async function list(store: Store, id: string, count: number, number: (i: number) => string): Promise<void> {
  const audience = new AudienceRepository(store.db, store.pool);
  await audience.createList({ id, name: id });
  function* rows() {
    for (let i = 0; i < count; i++) yield { msisdn: number(i) };
  }
  await audience.mergeSubscribers(id, feedOf(rows()));
}

async function createRun(store: Store, overrides: Record<string, unknown>, occurrenceId: string): Promise<number> {
  const campaign = validateCampaign(campaignDocument(overrides));
  const campaigns = new CampaignRepository(store.db);
  await campaigns.upsert({ id: campaign.id, name: campaign.name });
  const { version } = await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'bench' });
  const { run } = await new RunRepository(store.db).createIfAbsent({ campaignVersionId: version.id, occurrenceId, scheduledFor: new Date(), launchedBy: 'bench', priority: campaign.priority });
  return run.id;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A token bucket in Redis: refill by elapsed server time, take `count` if there (the shared-bucket design). */
const REDIS_TAKE = `
local now = redis.call('TIME'); now = tonumber(now[1]) * 1000 + tonumber(now[2]) / 1000
local rate, burst, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local ok = 0
if tokens >= count then tokens = tokens - count; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
return ok`;

/**
 * Issue 9 item 5 asks to measure before choosing how workers share a carrier's grant: one token
 * bucket in Redis that every PDU takes from, or (what Loa does) a bucket per bind at the grant ÷
 * allowed binds, the binds split by leases. This measures what the Redis bucket would cost per take.
 */
async function redisBucketCost(report: Report, redis: ReturnType<typeof createRedis>, prefix: string): Promise<void> {
  const key = `${prefix}:bench-bucket`;
  const takes = 5_000;
  let start = performance.now();
  for (let i = 0; i < takes; i++) await redis.eval(REDIS_TAKE, 1, key, 1e9, 1e9, 1);
  const sequentialUs = ((performance.now() - start) * 1000) / takes;
  // As the Submitter would with a window of PDUs waiting: 50 takes in flight.
  start = performance.now();
  for (let i = 0; i < takes; i += 50) await Promise.all(Array.from({ length: 50 }, () => redis.eval(REDIS_TAKE, 1, key, 1e9, 1e9, 1)));
  const concurrentPerSecond = takes / ((performance.now() - start) / 1000);
  const local = new TokenBucket({ rate: 1e9, burst: 1e9 });
  start = performance.now();
  for (let i = 0; i < 1_000_000; i++) local.tryTake(1);
  const localNs = ((performance.now() - start) * 1e6) / 1_000_000;
  report({
    bench: 'sharing.redis-token-bucket',
    value: Number(sequentialUs.toFixed(1)),
    unit: 'µs per take (one at a time)',
    takesPerSecondWith50InFlight: Math.round(concurrentPerSecond),
    localBucketNsPerTake: Number(localNs.toFixed(1)),
  });
}

export async function run(report: Report): Promise<void> {
  const normalCount = Number(process.env.LOA_BENCH_PREEMPT_NORMAL ?? 1_000_000);
  const tps = Number(process.env.LOA_BENCH_PREEMPT_TPS ?? 100);
  const samples = Number(process.env.LOA_BENCH_PREEMPT_SAMPLES ?? 5);
  const urgentCount = 20;
  const database = await throwawayDatabase('preemption');
  const store = createDb(database.url, { max: 20, applicationName: 'loa-bench' });
  const sim = new SmscSimulator({ carrier: 'viettel', ...credentials, recordSubmits: false, messageIds: { submit: 'hex', receipt: 'dec' }, receipts: { delayMs: { min: 5, max: 20 } } });
  const prefix = `loa-bench-preemption-${process.pid}`;
  const redis = createRedis(REDIS_URL, 'loa-bench');
  try {
    if (process.env.LOA_BENCH_PREEMPT_REDIS !== '0') await redisBucketCost(report, redis, prefix);
    await new MigrationRunner(store.pool).migrate();
    await sim.listen();
    const seedStart = performance.now();
    await list(store, 'normal', normalCount, (i) => `8496${String(i).padStart(7, '0')}`);
    await list(store, 'urgent', urgentCount, (i) => `${URGENT_PREFIX}${String(i).padStart(6, '0')}`);
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const carriers = Object.fromEntries(
      CARRIER_IDS.map((id) => [
        id,
        { id, systemType: '', tps, window: 50, bindMode: 'transceiver', messageId: { submit: 'hex', receipt: 'dec' }, binds: [{ host: '127.0.0.1', port: sim.port, ...credentials, count: 2 }] },
      ]),
    ) as unknown as Config['carriers'];
    const config = { carriers, redisPrefix: prefix, carriersSource: 'file', receipts: { windowMs: 7 * 24 * 3_600_000, retentionDays: null } } as Config;
    const receipts = new ReceiptRepository(store.db, store.pool);
    const binds = await startCarrierBinds({ config, redis, receiptStore: receipts, logger });
    while (binds.pools.viettel.boundCount < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const engine = await startEngine({ store, redis, config, pools: binds.pools, receipts, late: binds.lateResponses, logger, options: { sweeper: { intervalMs: 1000 } } });

    let normalSent = 0;
    let urgentSent = 0;
    let firstUrgentAt = 0;
    sim.on('submit', (record) => {
      if (!record.destination.startsWith(URGENT_PREFIX)) normalSent += 1;
      else {
        urgentSent += 1;
        firstUrgentAt ||= Date.now();
      }
    });
    const until = async (condition: () => boolean, timeoutMs: number, what: string): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    const normalRun = await createRun(store, { id: 'normal', audience: { lists: ['normal'] }, operators: ['viettel'] }, 'bench:normal');
    const launchedNormal = Date.now();
    await engine.queues.enqueueCompile(normalRun, { priority: 'normal' });
    await until(() => normalSent >= tps * 3, 120_000, 'the normal run to saturate the carrier');
    const saturatedAfter = (Date.now() - launchedNormal) / 1000;
    const saturatedAt = Date.now();
    const sentAtSaturation = normalSent;
    let urgentTotal = 0;

    const latencies: number[] = [];
    const compilingAt: boolean[] = [];
    for (let sample = 0; sample < samples; sample++) {
      const urgentRun = await createRun(store, { id: 'urgent', priority: 'urgent', audience: { lists: ['urgent'] }, operators: ['viettel'] }, `bench:urgent:${sample}`);
      // The run is `running` from its first chunk on; its compile goes on until the cursor is done.
      const progress = (await new RunRepository(store.db).get(normalRun))?.progress as { compile?: { done?: boolean } } | undefined;
      compilingAt.push(progress?.compile?.done !== true);
      urgentSent = 0;
      firstUrgentAt = 0;
      const launchedAt = Date.now();
      await engine.queues.enqueueCompile(urgentRun, { priority: 'urgent' });
      await until(() => firstUrgentAt > 0, 60_000, 'the first urgent submit_sm');
      latencies.push(firstUrgentAt - launchedAt);
      await until(() => urgentSent >= urgentCount, 60_000, 'every urgent submit_sm');
      urgentTotal += urgentSent;
      // The normal run takes the carrier back before the next urgent launch.
      const before = normalSent;
      await until(() => normalSent >= before + tps, 60_000, 'the normal run to send again');
    }
    // Both runs together at the carrier over the sampling period: the grant, shared.
    const carrierRate = (normalSent - sentAtSaturation + urgentTotal) / ((Date.now() - saturatedAt) / 1000);
    await engine.stop();
    await binds.stop();
    report({
      bench: 'preemption.urgent-first-submit',
      value: median(latencies),
      unit: 'ms',
      goalMs: 1000,
      maxMs: Math.max(...latencies),
      samplesMs: latencies,
      normalStillCompiling: compilingAt,
      normalRecipients: normalCount,
      grantTps: tps,
      saturatedAfterSeconds: Number(saturatedAfter.toFixed(1)),
      carrierRateDuringSamples: Math.round(carrierRate),
      seedSeconds: Number(seedSeconds.toFixed(1)),
    });
  } finally {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await sim.close();
    await store.close();
    await database.drop();
  }
}
