import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduler } from '../../src/jobs/scheduler-role.js';
import { MessageRepository } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';
import { alertReceiver } from '../helpers/alerts.js';
import { testLogger, useCleanups } from '../helpers/smpp.js';

const WINDOW = 50;
const BINDS = 2;

/**
 * Short, configured timeouts stand in for the real ones (10 s response, 3 s probe, 30 s
 * enquire_link period): the silence lasts many response timeouts, as 50 s does in production. The
 * periodic enquire_link is left long on purpose, so only the probe can notice the silence in time.
 */
const TRANSPORT = {
  session: {
    timeouts: { connectMs: 1_000, bindMs: 400, submitResponseMs: 600, probeResponseMs: 300, enquireLinkIntervalMs: 60_000, enquireLinkResponseMs: 10_000, unbindMs: 300, drainMs: 500 },
    reconnect: { baseMs: 50, maxMs: 300, bindRefusedBaseMs: 2_000, bindRefusedMaxMs: 4_000 },
  },
};

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}


describe('transport under SMSC faults (issue 9 items 7 and 8)', () => {
  let database: TestDatabase;
  const cleanups = useCleanups();

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
  });

  afterAll(async () => {
    await database.drop();
  });

  async function fixture(options: Parameters<typeof startEngineFixture>[1]): Promise<EngineFixture> {
    const started = await startEngineFixture(database.store, { binds: BINDS, window: WINDOW, ...options });
    cleanups.push(() => started.stop());
    return started;
  }

  async function statesOf(runId: number): Promise<Record<string, number>> {
    return new MessageRepository(database.store.db, database.store.pool).countsByState(runId) as Promise<Record<string, number>>;
  }

  it('a silent SMSC costs one window per bind: the rest is sent once it answers again, nothing twice', async () => {
    const count = 3_000;
    await seedList(database.store, 'silent', Array.from({ length: count }, (_, i) => ({ msisdn: subscriber('viettel', i) })));
    // Capped at 600/s so the run is still sending when the SMSC falls silent.
    const { engine, sims } = await fixture({
      sim: () => ({ tps: 600, latencyMs: { min: 2, max: 10 }, receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 20 } } }),
      carrierBinds: TRANSPORT,
    });
    const sim = sims.viettel;
    const runId = await seedRun(database.store, { id: 'silent-run', priority: 'urgent', audience: { lists: ['silent'] }, operators: ['viettel'], validity: 'PT30S' });
    await engine.queues.enqueueCompile(runId);

    await waitFor(() => sim.submits.length >= 600, 20_000, '600 accepted submits');
    // 4 s of silence ≈ 7 response timeouts: with the old transport each freed slot was refilled on
    // the dead connections until the 60 s enquire_link period noticed.
    await sim.goSilentFor(4_000);
    const sentIntoSilence = sim.stats.ignoredWhileSilent;

    const status = await waitForStatus(engine, runId, (s) => s.state === 'completed', 60_000);
    const states = await statesOf(runId);
    const ambiguous = states.ambiguous ?? 0;
    // None at all when every slot was outstanding as the silence began (no answer frees one).
    expect(sentIntoSilence).toBeLessThanOrEqual(WINDOW * BINDS);
    expect(ambiguous).toBeGreaterThan(0);
    // Ambiguous: what was in flight when the silence began (its answers never came) plus what went
    // into the silence before the first response timeout: one window per bind at most.
    expect(ambiguous).toBeLessThanOrEqual(WINDOW * BINDS);
    expect(ambiguous).toBeGreaterThanOrEqual(sentIntoSilence);
    // Every other message was sent after the SMSC came back and delivered; none twice.
    expect(states.delivered).toBe(count - ambiguous);
    expect(status.totals.queued + status.totals.submitting + status.totals.failed).toBe(0);
    const seen = sim.submitsByDestination();
    expect(seen.size).toBeGreaterThanOrEqual(count - ambiguous);
    expect([...seen.values()].every((parts) => parts.length === 1)).toBe(true);
  }, 90_000);

  it('the SMSC drops every bind mid-run, twice: the binds reconnect with back-off and the run completes, nothing sent twice', async () => {
    const count = 3_000;
    await seedList(database.store, 'dropped', Array.from({ length: count }, (_, i) => ({ msisdn: subscriber('viettel', 200_000 + i) })));
    const { engine, sims, binds } = await fixture({
      sim: () => ({ tps: 600, latencyMs: { min: 2, max: 10 }, receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 20 } } }),
      carrierBinds: TRANSPORT,
    });
    const sim = sims.viettel;
    const runId = await seedRun(database.store, { id: 'dropped-run', priority: 'urgent', audience: { lists: ['dropped'] }, operators: ['viettel'], validity: 'PT30S' });
    await engine.queues.enqueueCompile(runId);

    await waitFor(() => sim.submits.length >= 600, 20_000, '600 accepted submits');
    expect(sim.dropAllConnections()).toBe(BINDS);
    await waitFor(() => binds.pools.viettel.boundCount === BINDS && sim.submits.length >= 1_500, 20_000, 'binds back and sending');
    expect(sim.dropAllConnections()).toBe(BINDS);

    const status = await waitForStatus(engine, runId, (s) => s.state === 'completed', 60_000);
    const states = await statesOf(runId);
    const ambiguous = states.ambiguous ?? 0;
    // Only what was in flight at each drop is ambiguous: one window per bind per drop at most.
    expect(ambiguous).toBeLessThanOrEqual(2 * WINDOW * BINDS);
    expect(states.delivered).toBe(count - ambiguous);
    expect(status.totals.queued + status.totals.submitting + status.totals.failed).toBe(0);
    expect(sim.stats.bindsAccepted).toBeGreaterThanOrEqual(3 * BINDS);
    const seen = sim.submitsByDestination();
    expect(seen.size).toBeGreaterThanOrEqual(count - ambiguous);
    expect([...seen.values()].every((parts) => parts.length === 1)).toBe(true);
  }, 90_000);

  it('an SMSC answering ESME_RSYSERR (0x08) to everything pauses the run with that reason, tells the alert webhook, and sends the rest after resume', async () => {
    const count = 600;
    await seedList(database.store, 'syserr', Array.from({ length: count }, (_, i) => ({ msisdn: subscriber('vnpt', 100_000 + i) })));
    const { engine, sims, prefix } = await fixture({
      sim: (carrier) =>
        carrier === 'vnpt'
          ? { transientErrors: [{ status: 0x08, ratio: 1 }], latencyMs: 2, receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 20 } } }
          : {},
      carrierBinds: { ...TRANSPORT, faultPolicy: { systemErrorLimit: 40 } },
    });
    const alerts = await alertReceiver();
    cleanups.push(() => alerts.close());
    const scheduler = startScheduler({
      store: database.store,
      launcher: engine.queues,
      config: { alertWebhook: alerts.url, leaseMs: 2_000, tickMs: 100, lookbackMs: 60_000 },
      logger: testLogger,
      options: { leaseName: `transport-test-${prefix}` },
    });
    cleanups.push(() => scheduler.scheduler.stop());
    const sim = sims.vnpt;
    // Urgent: quiet hours (22:00–07:00 in Vietnam by default) must not pause it for another reason.
    const runId = await seedRun(database.store, { id: 'syserr-run', priority: 'urgent', audience: { lists: ['syserr'] }, operators: ['vnpt'] });
    await engine.queues.enqueueCompile(runId);

    const paused = await waitForStatus(engine, runId, (s) => s.state === 'paused', 30_000);
    expect(paused.error).toMatch(/vnpt answered ESME_RSYSERR \(0x08\) to \d+ submits in a row/);
    // Nothing was failed for the SMSC's fault, nor sent: every message waits, queued, for a resume.
    await waitFor(async () => ((await statesOf(runId)).submitting ?? 0) === 0, 10_000, 'no row left submitting');
    const states = await statesOf(runId);
    expect(states.queued).toBe(count);
    expect(Object.values(states).reduce((a, b) => a + b, 0)).toBe(count);
    // A handful of attempts per message at most, not five for every one of them.
    expect(sim.stats.transientErrors).toBeLessThan(count);
    await waitFor(() => alerts.events.some((event) => event.runId === runId), 10_000, 'the alert');
    expect(alerts.events.find((event) => event.runId === runId)).toMatchObject({ event: 'run.paused', code: 'auto', reason: paused.error });
    const announced = await engine.status.get(runId);
    expect(announced?.pausedReason).toBe('auto');

    // The SMSC recovers; resumed, the run sends everything once.
    sim.setTransientErrors([]);
    await scheduler.control.resume(runId, 'test');
    const done = await waitForStatus(engine, runId, (s) => s.state === 'completed', 30_000);
    expect(done.totals.submitted + done.totals.delivered).toBe(count);
    expect([...sim.submitsByDestination().values()].every((parts) => parts.length === 1)).toBe(true);
  }, 60_000);
});
