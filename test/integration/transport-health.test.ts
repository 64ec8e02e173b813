import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/api/app.js';
import { EventEmitter } from 'node:events';
import { CARRIER_IDS, type CarrierId } from '../../src/domain/carrier.js';
import { allowedBinds, BindStatePublisher, BindStateReader } from '../../src/jobs/bind-state.js';
import type { BindPool } from '../../src/smpp/bind-pool.js';
import { newTransportCounters } from '../../src/smpp/transport-counters.js';
import { startScheduler } from '../../src/jobs/scheduler-role.js';
import { createMetricsRegistry, registerTransportMetrics } from '../../src/metrics.js';
import { RunProgressRepository } from '../../src/store/run-progress.repository.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL, seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';
import { alertReceiver } from '../helpers/alerts.js';
import { testLogger, useCleanups } from '../helpers/smpp.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The value of one sample in Prometheus text, e.g. metric('loa_carrier_binds', { carrier: 'vnpt' }). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries(body.split(',').map((pair) => pair.split('=') as [string, string]).map(([k, v]) => [k, v.replace(/^"|"$/g, '')]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('health and metrics of the carriers (issue 9 item 9)', () => {
  let database: TestDatabase;
  const cleanups = useCleanups();

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
  });

  afterAll(async () => {
    await database.drop();
  });

  /** An API process of its own: it sees the worker's binds only through Redis, reached over a proxy the test can cut. */
  async function apiFor(fixture: EngineFixture): Promise<{ app: FastifyInstance; redisProxy: TcpProxy }> {
    const target = new URL(REDIS_URL);
    const redisProxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    const port = await redisProxy.listen();
    const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 100, lazyConnect: false });
    redis.on('error', () => undefined);
    const carriers = new BindStateReader(redis, fixture.prefix, allowedBinds(fixture.config.carriers));
    const metrics = createMetricsRegistry();
    const progress = new RunProgressRepository(database.store.db);
    registerTransportMetrics(metrics, { transport: () => carriers.read(), activeRunCounts: () => progress.activeRunCounts() });
    const app = await buildApp({
      logger: testLogger,
      metrics,
      carriers,
      checks: [
        {
          name: 'postgres',
          check: async () => {
            if (!(await database.store.ping())) throw new Error('PostgreSQL did not answer');
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
    cleanups.push(async () => {
      await app.close();
      redis.disconnect();
      await redisProxy.close();
    });
    return { app, redisProxy };
  }

  it('says ok with every carrier bound, degraded (200) with a carrier that has no bind, unavailable (503) without Redis; the run pauses for no bind and resumes by itself once the carrier binds again', async () => {
    const count = 400;
    await seedList(database.store, 'health', Array.from({ length: count }, (_, i) => ({ msisdn: subscriber('mobifone', i) })));
    const fixture = await startEngineFixture(database.store, {
      binds: 2,
      sim: () => ({ receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 10 } } }),
      carrierBinds: {
        session: { reconnect: { baseMs: 50, maxMs: 200, bindRefusedBaseMs: 1_000, bindRefusedMaxMs: 2_000 }, timeouts: { connectMs: 300, bindMs: 300 } },
        faultPolicy: { noBindTimeoutMs: 800 },
        publishEveryMs: 200,
      },
    });
    cleanups.push(() => fixture.stop());
    const { app, redisProxy } = await apiFor(fixture);

    await waitFor(async () => (await app.inject('/health')).json().status === 'ok', 5_000, 'health ok');
    const ok = await app.inject('/health');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'ok', carriers: { viettel: { bound: 2, allowed: 2, workers: 1 }, vnpt: { bound: 2, allowed: 2 }, mobifone: { bound: 2, allowed: 2 } } });

    // Mobifone's SMSC goes away: the API still answers 200, degraded, and names the carrier.
    const mobifone = fixture.sims.mobifone;
    await mobifone.close();
    await waitFor(async () => (await app.inject('/health')).json().status === 'degraded', 5_000, 'health degraded');
    const degraded = await app.inject('/health');
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json()).toMatchObject({ status: 'degraded', checks: { postgres: { ok: true }, redis: { ok: true } }, carriers: { mobifone: { bound: 0, allowed: 2 }, viettel: { bound: 2 } } });

    // The scheduler role tells LOA_ALERT_WEBHOOK of automatic pauses.
    const webhook = await alertReceiver();
    cleanups.push(() => webhook.close());
    const alerts = webhook.events;
    // It reads the binds the workers publish on its own Redis connection, as service.ts wires it.
    const schedulerRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => schedulerRedis.disconnect());
    const published = new BindStateReader(schedulerRedis, fixture.prefix, allowedBinds(fixture.config.carriers));
    const scheduler = startScheduler({
      store: database.store,
      launcher: fixture.engine.queues,
      config: { alertWebhook: webhook.url, leaseMs: 2_000, tickMs: 100, lookbackMs: 60_000 },
      logger: testLogger,
      options: { leaseName: `transport-health-${fixture.prefix}` },
      carrierBinds: async () => (await published.read()).carriers,
    });
    cleanups.push(() => scheduler.scheduler.stop());

    // A run for mobifone meanwhile: past noBindTimeoutMs it is paused, and its status says why.
    const runId = await seedRun(database.store, { id: 'health-run', priority: 'urgent', audience: { lists: ['health'] }, operators: ['mobifone'] });
    await fixture.engine.queues.enqueueCompile(runId);
    const paused = await waitForStatus(fixture.engine, runId, (s) => s.state === 'paused', 20_000);
    expect(paused.error).toMatch(/no bind to mobifone for \d+ ms/);
    await waitFor(() => alerts.some((alert) => alert.runId === runId), 10_000, 'the alert');
    expect(alerts.find((alert) => alert.runId === runId)).toMatchObject({ event: 'run.paused', code: 'auto:no-bind:mobifone', reason: paused.error });
    // Announced with the carrier it waits for; it stays paused while that carrier has no bind.
    await waitForStatus(fixture.engine, runId, (s) => s.pausedReason === 'auto:no-bind:mobifone', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await fixture.engine.status.get(runId))?.state).toBe('paused');

    // /metrics: binds per carrier, the queue depth and the paused run's progress.
    await waitFor(async () => sample((await app.inject('/metrics')).body, 'loa_carrier_queue_depth', { carrier: 'mobifone' }) === count, 10_000, 'queue depth');
    const during = (await app.inject('/metrics')).body;
    expect(sample(during, 'loa_carrier_binds', { carrier: 'mobifone' })).toBe(0);
    expect(sample(during, 'loa_carrier_binds', { carrier: 'viettel' })).toBe(2);
    expect(sample(during, 'loa_carrier_binds_allowed', { carrier: 'mobifone' })).toBe(2);
    expect(sample(during, 'loa_run_messages', { run: String(runId), state: 'queued' })).toBe(count);
    expect(sample(during, 'loa_run_progress_ratio', { run: String(runId) })).toBe(0);

    // The SMSC is back: healthy again, the scheduler resumes the run by itself (and says so), and it completes.
    await mobifone.listen();
    await waitFor(async () => (await app.inject('/health')).json().status === 'ok', 10_000, 'health ok again');
    await waitFor(() => alerts.some((alert) => alert.runId === runId && alert.event === 'run.resumed'), 10_000, 'the resume alert');
    expect(alerts.find((alert) => alert.runId === runId && alert.event === 'run.resumed')).toMatchObject({ code: 'auto:no-bind:mobifone', reason: 'mobifone bound again' });
    await waitForStatus(fixture.engine, runId, (s) => s.state === 'completed', 30_000);
    await waitFor(async () => sample((await app.inject('/metrics')).body, 'loa_carrier_receipts_total', { carrier: 'mobifone' }) === count, 10_000, 'receipts counted');
    const after = (await app.inject('/metrics')).body;
    expect(sample(after, 'loa_carrier_submits_total', { carrier: 'mobifone', result: 'submitted' })).toBe(count);
    expect(sample(after, 'loa_carrier_submits_total', { carrier: 'mobifone', result: 'ambiguous' })).toBe(0);
    expect(sample(after, 'loa_carrier_throttles_total', { carrier: 'mobifone' })).toBe(0);
    // A completed run is no longer reported.
    expect(sample(after, 'loa_run_messages', { run: String(runId), state: 'delivered' })).toBeUndefined();
    expect(sample(after, 'loa_carrier_queue_depth', { carrier: 'mobifone' })).toBe(0);

    // Redis gone: 503 (the API cannot work), whatever the carriers.
    redisProxy.down();
    await waitFor(async () => (await app.inject('/health')).statusCode === 503, 5_000, 'health 503');
    expect((await app.inject('/health')).json()).toMatchObject({ status: 'unavailable', checks: { redis: { ok: false } } });
    redisProxy.up();
  }, 90_000);

  it('counts the binds of every live worker, forgets a worker that stopped publishing (kill -9) after its time-to-live, and keeps the counters it added', async () => {
    const prefix = testRedisPrefix();
    const redis = new Redis(REDIS_URL);
    cleanups.push(async () => {
      await cleanupRedisPrefix(redis, prefix);
      redis.disconnect();
    });
    // Stand-ins for two workers' pools: only what the publisher reads of a BindPool.
    const poolsOf = (bound: number, submitted: number): Record<CarrierId, BindPool> =>
      Object.fromEntries(
        CARRIER_IDS.map((id) => {
          const pool = Object.assign(new EventEmitter(), { boundCount: bound, heldCount: bound, counters: { ...newTransportCounters(), submitted } });
          return [id, pool as unknown as BindPool];
        }),
      ) as Record<CarrierId, BindPool>;
    let now = 1_000_000;
    const clock = (): number => now;
    const first = new BindStatePublisher({ redis, prefix, owner: 'worker-a', pools: poolsOf(1, 10), logger: testLogger, everyMs: 1_000, clock });
    const second = new BindStatePublisher({ redis, prefix, owner: 'worker-b', pools: poolsOf(1, 5), logger: testLogger, everyMs: 1_000, clock });
    await first.publish();
    await second.publish();
    const sut = new BindStateReader(redis, prefix, { viettel: 2, vnpt: 2, mobifone: 2 }, clock);

    const both = await sut.read();
    expect(both.carriers.viettel).toEqual({ bound: 2, allowed: 2, workers: 2 });
    expect(both.counters.vnpt.submitted).toBe(15);

    // worker-b dies without a word; worker-a keeps publishing. Past b's time-to-live (3 × 1 s) only a counts.
    now += 3_001;
    await first.publish();
    const one = await sut.read();
    expect(one.carriers.mobifone).toEqual({ bound: 1, allowed: 2, workers: 1 });
    expect(await redis.hkeys(`${prefix}:bind-state`)).toEqual(['worker-a']);
    // What b counted stays in the totals: counters only grow.
    expect(one.counters.vnpt.submitted).toBe(15);

    // A graceful stop removes the worker at once.
    await first.stop();
    expect((await sut.read()).carriers.viettel).toEqual({ bound: 0, allowed: 2, workers: 0 });
  });
});
