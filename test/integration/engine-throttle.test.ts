import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubmitWorker } from '../../src/jobs/submit.worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus } from '../helpers/engine.js';
import { useCleanups } from '../helpers/smpp.js';

// A campaign's `throttle` (segments/s per carrier) caps its run on that carrier (issue 8 item 4),
// counted as the SMSC counts: accepted submits per calendar second.
describe(SubmitWorker.name, () => {
  let database: TestDatabase;
  const cleanups = useCleanups();

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
  });

  afterAll(async () => {
    await database.drop();
  });

  it("keeps a run within its campaign's throttle on each carrier, in every calendar second at the SMSC", async () => {
    const perCarrier = 360;
    await seedList(database.store, 'throttled', [
      ...Array.from({ length: perCarrier }, (_, i) => ({ msisdn: subscriber('viettel', 300_000 + i) })),
      ...Array.from({ length: perCarrier }, (_, i) => ({ msisdn: subscriber('vnpt', 300_000 + i) })),
    ]);
    const fixture = await startEngineFixture(database.store, { engine: { compile: { batchSize: 60 } } });
    cleanups.push(() => fixture.stop());
    const runId = await seedRun(database.store, { id: 'throttled-run', audience: { lists: ['throttled'] }, throttle: { viettel: 120, vnpt: 80 } });

    await fixture.engine.queues.enqueueCompile(runId);
    const status = await waitForStatus(fixture.engine, runId, (s) => s.totals.queued + s.totals.submitting === 0 && s.audienceSize === 2 * perCarrier, 60_000);

    expect(status.totals.failed + status.totals.ambiguous).toBe(0);
    const { viettel, vnpt } = fixture.sims;
    expect(viettel.submits.length).toBe(perCarrier);
    expect(vnpt.submits.length).toBe(perCarrier);
    // Six jobs per carrier ran at once (batches of 60, concurrency 4), sharing the run's throttle.
    expect(viettel.maxAcceptedPerSecond(), JSON.stringify([...viettel.acceptedPerSecond])).toBeLessThanOrEqual(120);
    expect(vnpt.maxAcceptedPerSecond(), JSON.stringify([...vnpt.acceptedPerSecond])).toBeLessThanOrEqual(80);
  }, 90_000);
});
