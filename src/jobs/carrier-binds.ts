import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import { BindPool, type BindPoolOptions } from '../smpp/bind-pool.js';
import type { CarrierOutageRepository } from '../store/carrier-outage.repository.js';
import type { ReceiptRepository } from '../store/receipt.repository.js';
import { allowedBinds, BindStatePublisher, BindStateReader } from './bind-state.js';
import { CarrierOutageRecorder } from './carrier-outages.js';
import type { LateResponseTracker } from './engine-contract.js';
import { LateResponses } from './late-responses.js';
import { ReceiptMaintenance } from './receipt-maintenance.js';
import { ReceiptWriter } from './receipt-writer.js';
import type { AudioClipRepository } from '../store/audio-clip.repository.js';

export interface CarrierBinds {
  readonly pools: Readonly<Record<CarrierId, BindPool>>;
  readonly receipts: ReceiptWriter;
  /** Give it to the submit worker: it reports each PDU that timed out (engine-contract.ts). */
  readonly lateResponses: LateResponseTracker;
  /** The parked sweep (every second) and retention (hourly), started with the binds. */
  readonly maintenance: ReceiptMaintenance;
  /** Unbinds every carrier, releases the leases, then writes the receipts still in memory. */
  stop(): Promise<void>;
}

/** Transport settings for every carrier's pool (tests shorten them; milliseconds throughout). */
export type CarrierBindsOptions = Pick<BindPoolOptions, 'session' | 'faultPolicy' | 'leaseMs'> & {
  /** How often the bind state is published for /health and /metrics (default 1000). */
  publishEveryMs?: number;
  /** How long no worker may hold a bind before it is recorded as a carrier outage (default 10000). */
  outageGraceMs?: number;
};

/** The environment's transport settings (LOA_SMPP_*, LOA_NO_BIND_PAUSE_MS, LOA_SYSTEM_ERROR_LIMIT); a test's options win. */
function fromConfig(config: Config): Pick<BindPoolOptions, 'session' | 'faultPolicy'> {
  const transport = config.transport;
  if (!transport) return {};
  return {
    session: { timeouts: { submitResponseMs: transport.submitResponseMs, probeResponseMs: transport.probeResponseMs } },
    faultPolicy: { noBindTimeoutMs: transport.noBindPauseMs, systemErrorLimit: transport.systemErrorLimit },
  };
}

/**
 * A worker's binds: one BindPool per carrier (leases in Redis keep every process together within
 * the carrier's bind limit), all receipts into one ReceiptWriter. Binds come up in the background,
 * so a carrier that is down never stops the process from starting.
 */
export async function startCarrierBinds(deps: {
  config: Config;
  redis: Redis;
  receiptStore: ReceiptRepository;
  /** Where periods without a bind in any worker are recorded (the daily report's abnormal events). */
  outages?: CarrierOutageRepository;
  logger: Logger;
  options?: CarrierBindsOptions;
  /** The loudspeakers' audio cache, whose retention runs with the receipts' (issue 11). */
  audioClips?: AudioClipRepository;
}): Promise<CarrierBinds> {
  const { config, redis, logger } = deps;
  const log = logger.child({ component: 'carrier-binds' });
  const receipts = new ReceiptWriter(deps.receiptStore, logger);
  const lateResponses = new LateResponses(deps.receiptStore, logger);
  const maintenance = new ReceiptMaintenance(deps.receiptStore, logger, { retentionDays: config.receipts.retentionDays, audioRetentionDays: config.receipts.audioRetentionDays }, deps.audioClips);
  const pools = {} as Record<CarrierId, BindPool>;
  let announced = false;
  let stopping = false;

  for (const id of CARRIER_IDS) {
    const pool = new BindPool({
      carrier: config.carriers[id],
      // LOA_WORKER_MAX_BINDS: several workers then each hold part of the carrier's binds.
      ...(config.workerMaxBinds ? { maxLocalBinds: config.workerMaxBinds } : {}),
      redis,
      prefix: config.redisPrefix,
      receiptSink: receipts,
      logger,
      ...fromConfig(config),
      ...(deps.options?.session ? { session: deps.options.session } : {}),
      ...(deps.options?.faultPolicy ? { faultPolicy: deps.options.faultPolicy } : {}),
      ...(deps.options?.leaseMs ? { leaseMs: deps.options.leaseMs } : {}),
    });
    pool.on('bound', () => {
      log.info({ carrier: id, binds: pool.boundCount, allowed: pool.allowedBinds }, 'carrier bound');
      if (!announced && CARRIER_IDS.every((carrier) => pools[carrier]?.boundCount > 0)) {
        announced = true;
        log.info(
          { carriers: CARRIER_IDS.length, simulated: config.carriersSource === 'simulator', binds: Object.fromEntries(CARRIER_IDS.map((c) => [c, pools[c].boundCount])) },
          `all ${CARRIER_IDS.length} carriers bound${config.carriersSource === 'simulator' ? ' (simulated SMSCs)' : ''}`,
        );
      }
    });
    pool.on('unbound', (_session, reason) => {
      if (stopping) log.info({ carrier: id, reason }, 'carrier unbound');
      else log.warn({ carrier: id, reason, binds: pool.boundCount }, 'carrier bind lost');
    });
    pool.on('alert', (alert) => log.error({ carrier: id, alert }, 'carrier alert'));
    lateResponses.attach(pool);
    pools[id] = pool;
  }
  maintenance.start();
  await Promise.all(CARRIER_IDS.map((id) => pools[id].start()));
  const state = new BindStatePublisher({
    redis,
    prefix: config.redisPrefix,
    owner: pools[CARRIER_IDS[0]].owner,
    pools,
    logger,
    ...(deps.options?.publishEveryMs ? { everyMs: deps.options.publishEveryMs } : {}),
  });
  state.start();
  const outages = deps.outages
    ? new CarrierOutageRecorder({
        reader: new BindStateReader(redis, config.redisPrefix, allowedBinds(config.carriers)),
        outages: deps.outages,
        worker: pools[CARRIER_IDS[0]].owner,
        logger,
        ...(deps.options?.publishEveryMs ? { everyMs: deps.options.publishEveryMs } : {}),
        ...(deps.options?.outageGraceMs !== undefined ? { graceMs: deps.options.outageGraceMs } : {}),
      })
    : null;
  outages?.start();

  return {
    pools,
    receipts,
    lateResponses,
    maintenance,
    async stop() {
      stopping = true;
      // First: this worker's own unbinding is not an outage of the carrier.
      await outages?.stop();
      await Promise.all(CARRIER_IDS.map((id) => pools[id].stop()));
      await state.stop();
      await Promise.all([receipts.close(), lateResponses.close(), maintenance.stop()]);
    },
  };
}
