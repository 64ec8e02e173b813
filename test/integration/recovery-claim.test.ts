import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubmitWorker } from '../../src/jobs/submit.worker.js';
import { idBase } from '../../src/store/compile.repository.js';
import { MessageRepository, ReceiptRepository, RunRepository } from '../../src/store/index.js';
import { RecoveryRepository } from '../../src/store/recovery.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber } from '../helpers/engine.js';
import { statesOf } from '../helpers/recovery.js';
import { testLogger, useCleanups } from '../helpers/smpp.js';

/**
 * Issue 9, item 7: PostgreSQL drops the connection after it committed a claim but before the
 * worker read the reply. The claimed rows are `submitting` under the worker's own (live) lease and
 * no job holds them: without care they would stay so for ever (lost), or be taken by a reconciler.
 */
describe('a claim whose reply was lost with the connection', () => {
  let database: TestDatabase;
  const cleanups = useCleanups();

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
  });
  afterAll(async () => {
    await database.drop();
  });

  it('is put back to queued once no job holds the carrier’s rows, and every recipient is then sent exactly once', async () => {
    const total = 2_000;
    await seedList(database.store, 'lost-reply', Array.from({ length: total }, (_, i) => ({ msisdn: subscriber('vnpt', i) })));
    const fixture = await startEngineFixture(database.store);
    cleanups.push(() => fixture.stop());
    const runId = await seedRun(database.store, { id: 'lost-reply-run', audience: { lists: ['lost-reply'] } });
    const runs = new RunRepository(database.store.db);
    const real = new MessageRepository(database.store.db, database.store.pool);
    await real.copyQueued(runId, Array.from({ length: total }, (_, i) => ({ msisdn: subscriber('vnpt', i), carrier: 'vnpt' as const, partsTotal: 1 })), { firstId: idBase('vnpt') + 1 });
    await runs.setState(runId, 'compiling');
    await runs.setState(runId, 'running');

    // The third claim commits in PostgreSQL, then its reply is lost as the connection drops.
    let claims = 0;
    let lost: number[] = [];
    const messages = Object.assign(Object.create(real) as MessageRepository, {
      claim: async (...args: Parameters<MessageRepository['claim']>) => {
        const claimed = await real.claim(...args);
        claims += 1;
        if (claims === 3) {
          lost = claimed.map((row) => row.id);
          throw new Error('Connection terminated unexpectedly');
        }
        return claimed;
      },
    });
    const lease = fixture.engine.leaseId;
    const sut = new SubmitWorker({
      runs,
      messages,
      receipts: new ReceiptRepository(database.store.db, database.store.pool),
      pools: fixture.binds.pools,
      late: { expect: () => undefined },
      claim: () => lease,
      recovery: new RecoveryRepository(database.store.db),
      logger: testLogger,
    });
    cleanups.push(async () => sut.dispose());
    const job = { runId, carrier: 'vnpt' as const, fromId: idBase('vnpt') + 1, toId: idBase('vnpt') + total };

    await expect(sut.process(job)).rejects.toThrow('Connection terminated unexpectedly');
    expect(lost.length).toBeGreaterThan(0);
    const afterFailure = await statesOf(database.store, runId);
    expect(afterFailure.submitting ?? 0).toBe(0);
    const { rows } = await database.store.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE run_id = $1 AND id = ANY($2) AND state = 'queued'`, [runId, lost]);
    expect(rows[0]!.n).toBe(lost.length);

    // The job retried: the rest, including the lost claim's rows, sent once.
    const sentFirst = fixture.sims.vnpt.submits.length;
    const retried = await sut.process(job);
    expect(retried.claimed).toBe(total - sentFirst);
    expect(retried.submitted).toBe(retried.claimed);
    const seen = fixture.sims.vnpt.submitsByDestination();
    expect(seen.size).toBe(total);
    expect([...seen.values()].every((records) => records.length === 1)).toBe(true);
  }, 60_000);
});
