import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarrierId } from '../../src/domain/carrier.js';
import { UrgentFirst } from '../../src/jobs/urgent-first.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
const NORMAL = 1_500;
const URGENT = 60;
/** Urgent handsets are numbered from here, so the simulator tells the two runs apart. */
const URGENT_BASE = 5_000_000;

describe(UrgentFirst.name, () => {
  let database: TestDatabase;
  let fixture: EngineFixture;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
    // One carrier's grant of 100 segments/s over 2 binds: a normal run of 1,500 keeps it busy
    // for about 15 s, with every one of the 4 normal submit slots of the carrier's queue in use.
    fixture = await startEngineFixture(database.store, {
      binds: 2,
      window: 10,
      tps: 100,
      sim: () => ({ receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 5 } } }),
      // Small batches: the normal run is several jobs at once, as a 1 M run is.
      engine: { compile: { batchSize: 300 } },
    });
    await seedList(database.store, 'normal-many', Array.from({ length: NORMAL }, (_, i) => ({ msisdn: subscriber('viettel', i) })));
    await seedList(database.store, 'urgent-few', Array.from({ length: URGENT }, (_, i) => ({ msisdn: subscriber('viettel', URGENT_BASE + i) })));
  }, 60_000);

  afterAll(async () => {
    await fixture?.stop();
    await database?.drop();
  });

  it('sends an urgent run ahead of a normal run saturating the same carrier, and the normal run completes afterwards', async () => {
    const carrier: CarrierId = 'viettel';
    const sim = fixture.sims[carrier];
    const isUrgent = (destination: string): boolean => Number(destination.slice(4)) >= URGENT_BASE;
    const normalRun = await seedRun(database.store, { id: 'normal-broadcast', audience: { lists: ['normal-many'] }, operators: ['viettel'] });
    await fixture.engine.queues.enqueueCompile(normalRun, { priority: 'normal' });
    // Saturating: the normal run has been sending for a while.
    await waitForStatus(fixture.engine, normalRun, (s) => s.totals.submitted + s.totals.delivered >= 200, 30_000);

    const urgentRun = await seedRun(database.store, { id: 'urgent-alert', priority: 'urgent', audience: { lists: ['urgent-few'] }, operators: ['viettel'] });
    const launchedAt = sim.submits.length;
    await fixture.engine.queues.enqueueCompile(urgentRun, { priority: 'urgent' });
    const urgentDone = await waitForStatus(fixture.engine, urgentRun, (s) => s.state === 'completed', 30_000);
    expect(urgentDone.totals.delivered).toBe(URGENT);

    // At the SMSC, in arrival order: once the first urgent part arrived, no normal part arrived
    // until the last urgent one — the normal batches gave way, they did not interleave.
    const order = sim.submits.slice(launchedAt).map((submit) => isUrgent(submit.destination));
    const first = order.indexOf(true);
    const last = order.lastIndexOf(true);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(order.slice(first, last + 1).filter((urgent) => !urgent)).toHaveLength(0);
    expect(last - first + 1).toBe(URGENT);

    // The normal run goes on afterwards and completes: every subscriber once, nothing lost.
    const normalDone = await waitForStatus(fixture.engine, normalRun, (s) => s.state === 'completed', 60_000);
    expect(normalDone.totals.delivered).toBe(NORMAL);
    expect(sum(normalDone.totals)).toBe(NORMAL);
    const perDestination = sim.submitsByDestination();
    const duplicates = [...perDestination.values()].filter((submits) => submits.length > 1);
    expect(duplicates).toHaveLength(0);
    expect(perDestination.size).toBe(NORMAL + URGENT);
    // The normal run did send after the urgent one finished.
    const after = sim.submits.slice(launchedAt + last + 1).filter((submit) => !isUrgent(submit.destination));
    expect(after.length).toBeGreaterThan(0);
  }, 120_000);
});
