import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELD_WINDOWS, SubmitWorker } from '../../src/jobs/submit.worker.js';
import { idBase } from '../../src/store/compile.repository.js';
import { MessageRepository, ReceiptRepository, RunRepository } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber } from '../helpers/engine.js';
import { testLogger, useCleanups } from '../helpers/smpp.js';

// The exactly-once bound (issue 8 item 5; src/jobs/submit.worker.ts module comment): however many
// submit jobs of a carrier run at once in a process, the rows it holds in `submitting` stay within
// HELD_WINDOWS × window × binds, and those claimed but not yet answered within window × binds (issue 9).
describe(SubmitWorker.name, () => {
  let database: TestDatabase;
  const cleanups = useCleanups();

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
  });

  afterAll(async () => {
    await database.drop();
  });

  it('never holds more than 3 × window × binds rows in submitting, nor more than window × binds unanswered, with six jobs of one carrier running at once', async () => {
    const count = 12_000;
    const window = 20;
    const binds = 2;
    const bound = HELD_WINDOWS * window * binds;
    await seedList(database.store, 'bound', Array.from({ length: count }, (_, i) => ({ msisdn: subscriber('viettel', 100_000 + i) })));
    // Some latency keeps PDUs in flight, so the window, not the SMSC, is what limits.
    const fixture = await startEngineFixture(database.store, { window, binds, sim: () => ({ latencyMs: { min: 1, max: 4 } }) });
    cleanups.push(() => fixture.stop());
    const runId = await seedRun(database.store, { id: 'bound-run', audience: { lists: ['bound'] } });
    const runs = new RunRepository(database.store.db);
    const messages = new MessageRepository(database.store.db, database.store.pool);
    await messages.copyQueued(
      runId,
      Array.from({ length: count }, (_, i) => ({ msisdn: subscriber('viettel', 100_000 + i), carrier: 'viettel' as const, partsTotal: 1 })),
      { firstId: idBase('viettel') + 1 },
    );
    await runs.setState(runId, 'compiling');
    await runs.setState(runId, 'running');
    const sut = new SubmitWorker({
      runs,
      messages,
      receipts: new ReceiptRepository(database.store.db, database.store.pool),
      pools: fixture.binds.pools,
      late: { expect: () => undefined },
      claim: () => 1,
      logger: testLogger,
    });
    cleanups.push(async () => sut.dispose());
    expect(sut.window('viettel')).toBe(window * binds);

    // What PostgreSQL itself holds in `submitting`, sampled on a connection of its own while the jobs send.
    let sampling = true;
    const samples: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE run_id = ${runId} AND state = 'submitting'`.execute(database.store.db);
        samples.push(rows[0]!.n);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const size = count / 6;
    const jobs = Array.from({ length: 6 }, (_, k) => ({ runId, carrier: 'viettel' as const, fromId: idBase('viettel') + 1 + k * size, toId: idBase('viettel') + (k + 1) * size }));
    const results = await Promise.all(jobs.map((job) => sut.process(job)));
    sampling = false;
    await sampler;

    expect(results.reduce((sum, r) => sum + r.submitted, 0)).toBe(count);
    expect(fixture.sims.viettel.submits.length).toBe(count);
    // The worker's own count of rows it held, and what the database showed, both within the bound.
    const held = sut.held('viettel');
    expect(held.held).toBe(0);
    expect(held.bound).toBe(bound);
    expect(held.peak).toBeGreaterThan(window * binds);
    expect(held.peak).toBeLessThanOrEqual(bound);
    // Of those, the rows claimed and not yet answered (what a crash could leave truly ambiguous): within one window.
    const unanswered = sut.unansweredRows('viettel');
    expect(unanswered.held).toBe(0);
    expect(unanswered.bound).toBe(window * binds);
    expect(unanswered.peak).toBeGreaterThan(window);
    expect(unanswered.peak).toBeLessThanOrEqual(window * binds);
    expect(samples.length).toBeGreaterThan(20);
    expect(Math.max(...samples)).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(bound);
    const counted = await messages.countsByState(runId);
    expect(counted.submitting).toBe(0);
  }, 90_000);
});
