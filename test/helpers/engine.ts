import { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { contentHash, validateCampaign } from '../../src/domain/campaign.js';
import { CARRIER_IDS, type CarrierId } from '../../src/domain/carrier.js';
import { startCarrierBinds, type CarrierBinds, type CarrierBindsOptions } from '../../src/jobs/carrier-binds.js';
import { startEngine, type Engine, type EngineOptions } from '../../src/jobs/engine.js';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import { createRedis } from '../../src/jobs/redis.js';
import { carrierConfigFor } from '../../src/sim/fixtures.js';
import { CarrierOutageRepository } from '../../src/store/carrier-outage.repository.js';
import { SmscSimulator, type SmscSimulatorOptions } from '../../src/sim/smsc-simulator.js';
import { AudienceRepository, feedOf, CampaignRepository, ReceiptRepository, RunRepository, type Store } from '../../src/store/index.js';
import { campaignDocument } from '../factories.js';
import { cleanupRedisPrefix, testRedisPrefix } from './db.js';
import { testLogger } from './smpp.js';

const credentials = { systemId: 'loa-test', password: 'secret' };
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The handset number `i` of a carrier (each carrier's own prefix). */
export const CARRIER_PREFIX: Record<CarrierId, string> = { viettel: '8496', vnpt: '8491', mobifone: '8490' };
export function subscriber(carrier: CarrierId, i: number): string {
  return `${CARRIER_PREFIX[carrier]}${String(i).padStart(7, '0')}`;
}

export interface EngineFixture {
  sims: Record<CarrierId, SmscSimulator>;
  binds: CarrierBinds;
  engine: Engine;
  redis: Redis;
  prefix: string;
  /** The configuration the binds and the engine run with. */
  config: Config;
  stop(): Promise<void>;
}

/** Three simulated SMSCs, a worker's binds to them, and the engine, on a test database and Redis prefix. */
export async function startEngineFixture(
  store: Store,
  options: {
    sim?: (carrier: CarrierId) => Partial<SmscSimulatorOptions>;
    binds?: number;
    window?: number;
    engine?: EngineOptions;
    /** Transport settings of the binds (timeouts, reconnect, fault policy). */
    carrierBinds?: CarrierBindsOptions;
    /** Record carrier outages in the test database, as a worker of the service does. */
    recordOutages?: boolean;
  } = {},
): Promise<EngineFixture> {
  const sims = {} as Record<CarrierId, SmscSimulator>;
  for (const id of CARRIER_IDS) {
    // A seed of its own per simulator: SMSC ids then never repeat across the tests of a file (reuse is
    // the receipt path's concern, tested there).
    sims[id] = new SmscSimulator({ carrier: id, ...credentials, seed: Math.floor(Math.random() * 2 ** 31), messageIds: { submit: 'hex', receipt: 'dec' }, ...options.sim?.(id) });
    await sims[id].listen();
  }
  const prefix = testRedisPrefix();
  const redis = createRedis(REDIS_URL, 'loa-test-engine');
  const carriers = Object.fromEntries(
    CARRIER_IDS.map((id) => [
      id,
      carrierConfigFor(sims[id], credentials, { id, tps: 20_000, window: options.window ?? 50, count: options.binds ?? 2, messageId: { submit: 'hex', receipt: 'dec' } }),
    ]),
  ) as Config['carriers'];
  const config = { carriers, redisPrefix: prefix, carriersSource: 'file', receipts: { windowMs: 7 * 24 * 3_600_000, retentionDays: null } } as Config;
  const receipts = new ReceiptRepository(store.db, store.pool);
  const binds = await startCarrierBinds({
    config,
    redis,
    receiptStore: receipts,
    logger: testLogger,
    ...(options.recordOutages ? { outages: new CarrierOutageRepository(store.db) } : {}),
    ...(options.carrierBinds ? { options: options.carrierBinds } : {}),
  });
  const start = Date.now();
  while (CARRIER_IDS.some((id) => binds.pools[id].boundCount < (options.binds ?? 2))) {
    if (Date.now() - start > 10_000) throw new Error('binds did not come up');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const engine = await startEngine({
    store,
    redis,
    config,
    pools: binds.pools,
    receipts,
    late: binds.lateResponses,
    logger: testLogger,
    options: { sweeper: { intervalMs: 200 }, ...options.engine },
  });
  let stopped = false;
  return {
    sims,
    binds,
    engine,
    redis,
    prefix,
    config,
    async stop() {
      if (stopped) return;
      stopped = true;
      await engine.stop();
      await binds.stop();
      for (const id of CARRIER_IDS) await sims[id].close();
      const cleaner = new Redis(REDIS_URL);
      await cleanupRedisPrefix(cleaner, prefix);
      cleaner.disconnect();
      redis.disconnect();
    },
  };
}

/** A list with the given subscribers. */
export async function seedList(store: Store, listId: string, rows: ReadonlyArray<{ msisdn: string; province?: string; commune?: string }>): Promise<void> {
  const audience = new AudienceRepository(store.db, store.pool);
  await audience.createList({ id: listId, name: listId });
  await audience.mergeSubscribers(listId, feedOf(rows));
}

/** Stores the campaign version and creates a run of it; returns the run id. */
export async function seedRun(
  store: Store,
  overrides: Record<string, unknown>,
  options: { occurrenceId?: string; testList?: string } = {},
): Promise<number> {
  const campaign = validateCampaign(campaignDocument(overrides));
  const campaigns = new CampaignRepository(store.db);
  await campaigns.upsert({ id: campaign.id, name: campaign.name });
  const { version } = await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'test' });
  const { run } = await new RunRepository(store.db).createIfAbsent({
    campaignVersionId: version.id,
    occurrenceId: options.occurrenceId ?? `now:${Math.random()}`,
    scheduledFor: new Date(),
    launchedBy: 'test',
    priority: campaign.priority,
    testList: options.testList ?? null,
  });
  return run.id;
}

export async function waitForStatus(engine: Engine, runId: number, done: (status: RunStatus) => boolean, timeoutMs: number): Promise<RunStatus> {
  const start = Date.now();
  for (;;) {
    const status = await engine.status.get(runId);
    if (status && done(status)) return status;
    if (Date.now() - start > timeoutMs) throw new Error(`run ${runId} status: ${JSON.stringify(status?.totals)} state ${status?.state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
