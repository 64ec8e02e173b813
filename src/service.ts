import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from './api/app.js';
import type { Config } from './config.js';
import { CARRIER_IDS } from './domain/carrier.js';
import { startCarrierBinds } from './jobs/carrier-binds.js';
import { createRunLauncher, createRunStatusReader, startEngine } from './jobs/engine.js';
import { createRedis } from './jobs/redis.js';
import { startScheduler } from './jobs/scheduler-role.js';
import type { Logger } from './logger.js';
import { allowedBinds, BindStateReader } from './jobs/bind-state.js';
import { createMetricsRegistry, registerTransportMetrics } from './metrics.js';
import { RunProgressRepository } from './store/run-progress.repository.js';
import { createApiServices, createScreenServices, type EngineParts } from './services/index.js';
import { startBuiltInSimulators } from './sim/built-in.js';
import { AudienceRepository } from './store/audience.repository.js';
import { createDatabaseIfMissing, Store } from './store/db.js';
import { ReceiptRepository } from './store/receipt.repository.js';
import { CarrierOutageRepository } from './store/carrier-outage.repository.js';
import { AudioClipRepository } from './store/audio-clip.repository.js';
import { MigrationRunner } from './store/migrator.js';
import { PlaylistChanges } from './screens/playlist-changes.js';
import { PushDispatcher } from './screens/push-dispatcher.js';
import { ScreenRepository } from './store/screen.repository.js';

export const ROLES = ['api', 'worker', 'scheduler', 'all'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningService {
  /** The HTTP address when the api role runs. */
  readonly address: string | undefined;
  /** Stop taking work, finish or release what is in flight, unbind, close pools. Safe to call twice. */
  stop(): Promise<void>;
}

/** Start-up failed for a reason outside the code (a service down, a database missing): one line, no stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** A fresh machine has no `loa` database yet: create it when this user may (like `createdb`). */
async function preparePostgres(databaseUrl: string, logger: Logger): Promise<void> {
  try {
    if (await createDatabaseIfMissing(databaseUrl)) logger.info({ database: new URL(databaseUrl).pathname.slice(1) }, 'database created');
  } catch (error) {
    // Not allowed or not reachable: the migration below reports what is wrong.
    logger.debug({ err: error }, 'could not check for the database');
  }
}

function has(role: Role, part: Exclude<Role, 'all'>): boolean {
  return role === 'all' || role === part;
}

/**
 * Composes one Loa process from its parts for a role. Every part is started in order and stopped
 * in reverse, so shutdown releases carriers before it closes the stores they report to.
 */
/** Parts a caller may supply instead of the defaults. */
export interface ServiceParts {
  /**
   * How the API starts runs and reads their progress. Default, until the engine is wired here:
   * a launcher that only logs (runs stay `scheduled`) and a status reader that counts messages.
   */
  engine?: EngineParts;
}

export async function startService(config: Config, role: Role, logger: Logger, parts: ServiceParts = {}): Promise<RunningService> {
  const started = Date.now();
  const stops: Array<() => Promise<void>> = [];
  let app: FastifyInstance | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const stopPart of stops.reverse()) {
        try {
          await stopPart();
        } catch (error) {
          logger.warn({ err: error }, 'error while stopping');
        }
      }
    })());

  try {
    await preparePostgres(config.databaseUrl, logger);
    // A worker runs several batch jobs per carrier, each claiming and writing its results on its
    // own connections alongside the receipt writer: more than the default 10.
    const store = new Store(config.databaseUrl, { applicationName: `loa-${role}`, logger, max: has(role, 'worker') ? 30 : 10 });
    stops.push(() => store.close());
    await new MigrationRunner(store.pool, { logger }).migrate().catch((error: Error) => {
      throw new StartupError(`PostgreSQL at ${redactUrl(config.databaseUrl)}: ${error.message}`, { cause: error });
    });

    const redis: Redis = createRedis(config.redisUrl, `loa-${role}`);
    redis.on('error', (error) => logger.warn({ component: 'redis', err: error.message }, 'redis connection error'));
    stops.push(async () => {
      // QUIT is queued, never sent, while Redis is away: give it a moment, then drop the socket.
      if (redis.status === 'ready') await Promise.race([redis.quit().catch(() => undefined), delay(1000, undefined, { ref: false })]);
      redis.disconnect();
    });

    if (has(role, 'worker')) {
      if (config.carriersSource === 'simulator' && role === 'all') {
        // No carrier account configured, one process (`npm start`): it plays the three SMSCs itself.
        const simulators = await startBuiltInSimulators(config.carriers, logger);
        stops.push(() => simulators.close());
        logger.info({ ports: CARRIER_IDS.map((id) => config.carriers[id].binds[0]?.port) }, 'simulated SMSCs listening');
      } else if (config.carriersSource === 'simulator') {
        // Several workers share carriers outside them: a second worker must not open the same ports.
        logger.info(
          { ports: CARRIER_IDS.map((id) => config.carriers[id].binds[0]?.port) },
          'no LOA_CARRIERS: binding to simulated SMSCs on LOA_SIM_PORT; run `loa sim` as its own process',
        );
      }
      const receipts = new ReceiptRepository(store.db, store.pool, { receiptWindowMs: config.receipts.windowMs, logger });
      const binds = await startCarrierBinds({ config, redis, receiptStore: receipts, outages: new CarrierOutageRepository(store.db), audioClips: new AudioClipRepository(store.db), logger });
      stops.push(() => binds.stop());
      // Compile and submit workers, the completion sweeper. Stopped before the binds (stops run
      // in reverse), so the jobs in flight settle and return their unsent rows to queued first.
      const engine = await startEngine({
        store,
        redis,
        config,
        pools: binds.pools,
        receipts,
        late: binds.lateResponses,
        logger,
        options: { leaseMs: config.recovery.workerLeaseMs, reconciler: { intervalMs: config.recovery.reconcileEveryMs } },
      });
      stops.push(() => engine.stop());
    }

    if (has(role, 'scheduler')) {
      // Occurrences put their items on screens and loudspeakers as manual launches do; the change
      // reaches the API processes' long-polls over the same Redis channel.
      const changes = new PlaylistChanges(redis, null, `${config.redisPrefix}:screens:changed`, logger);
      const { broadcasts } = createScreenServices(store, changes);
      // Runs paused for a carrier with no bind resume once a worker (any process) publishes one again.
      const binds = new BindStateReader(redis, config.redisPrefix, allowedBinds(config.carriers));
      const carrierBinds = async () => {
        // Not queued while Redis is away (this connection would hold the command until it is back).
        if (redis.status !== 'ready') throw new Error(`Redis is ${redis.status}`);
        return (await binds.read()).carriers;
      };
      const scheduler = startScheduler({ store, launcher: createRunLauncher(redis, config), config: config.scheduler, logger, reports: config.reports, broadcasts, carrierBinds });
      stops.push(() => scheduler.stop());
    }

    if (has(role, 'api')) {
      const launcher = createRunLauncher(redis, config);
      stops.push(() => launcher.close());
      const engine: EngineParts = parts.engine ?? { launcher, statusReader: createRunStatusReader(store, config) };
      // Screens: playlist changes reach the long-polls of every API process over Redis pub/sub.
      const subscriber = createRedis(config.redisUrl, `loa-${role}-screens`);
      subscriber.on('error', (error) => logger.warn({ component: 'redis', err: error.message }, 'redis subscriber error'));
      const playlistChanges = new PlaylistChanges(redis, subscriber, `${config.redisPrefix}:screens:changed`, logger);
      // Not awaited: with Redis down the API still starts (and /health says why); ioredis
      // subscribes once it connects, and again after every reconnect.
      void playlistChanges.start().catch((error: unknown) => logger.warn({ component: 'screens', err: error }, 'could not subscribe to playlist changes'));
      stops.push(async () => {
        await playlistChanges.stop();
        subscriber.disconnect();
      });
      const { organisation, compilerName, compilerPhone, timeZone } = config.reports;
      const services = createApiServices(store, engine, { logger, playlistChanges, maxWaitSeconds: config.screensMaxWaitSeconds, reportDefaults: { organisation, compilerName, compilerPhone, timeZone } });
      stops.push(async () => services.screens?.playlists.stop());
      if (services.screens) {
        const pushes = new PushDispatcher(
          { screens: new ScreenRepository(store.db), playlists: services.screens.playlists, changes: playlistChanges, redis, logger, loudspeakers: services.screens.loudspeakers },
          { leasePrefix: config.redisPrefix },
        );
        pushes.start();
        stops.push(() => pushes.stop());
      }
      // Its own connection: a request must not wait for Redis to come back (BullMQ's connection
      // queues commands forever); with Redis away the limiter lets requests through (skipOnError).
      const limiterRedis = new Redis(config.redisUrl, { connectionName: `loa-${role}-rate-limit`, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
      limiterRedis.on('error', () => undefined);
      stops.push(async () => limiterRedis.disconnect());
      // Binds live in the workers: they publish them through Redis for /health and /metrics here.
      const carrierBinds = new BindStateReader(redis, config.redisPrefix, allowedBinds(config.carriers));
      const metrics = createMetricsRegistry();
      const progress = new RunProgressRepository(store.db);
      registerTransportMetrics(metrics, { transport: () => carrierBinds.read(), activeRunCounts: () => progress.activeRunCounts() });
      app = await buildApp({
        logger,
        metrics,
        carriers: carrierBinds,
        services,
        rateLimit: { ...config.rateLimit, redis: limiterRedis, nameSpace: `${config.redisPrefix}:rate-limit:` },
        audience: { audience: new AudienceRepository(store.db, store.pool), maxImportBytes: config.importMaxBytes },
        checks: [
          {
            name: 'postgres',
            check: async () => {
              if (!(await store.ping())) throw new Error('PostgreSQL did not answer');
            },
          },
          {
            name: 'redis',
            check: async () => {
              if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
              await redis.ping();
            },
          },
        ],
      });
      const api = app;
      stops.push(() => api.close());
      await api.listen({ host: config.host, port: config.port });
    }

    const address = app?.server.address();
    const port = address && typeof address === 'object' ? address.port : undefined;
    logger.info({ role, port, startupMs: Date.now() - started }, 'loa started');
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    get address() {
      const address = app?.server.address();
      return address && typeof address === 'object' ? `http://127.0.0.1:${address.port}` : undefined;
    },
    stop,
  };
}
