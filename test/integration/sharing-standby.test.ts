import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { CARRIER_IDS, type CarrierId } from '../../src/domain/carrier.js';
import { takeSubmitJobsWhileLeased } from '../../src/jobs/bound-queues.js';
import { startCarrierBinds, type CarrierBinds } from '../../src/jobs/carrier-binds.js';
import { startEngine, type Engine } from '../../src/jobs/engine.js';
import { carrierConfigFor } from '../../src/sim/fixtures.js';
import { ReceiptRepository } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';
import { testLogger } from '../helpers/smpp.js';

const RECIPIENTS = 1_000;

/**
 * A second worker that holds no bind lease of the carriers (the first holds them all) stands by:
 * it takes none of their submit jobs, which would otherwise wait in it for a bind while the first
 * could send them (src/jobs/bound-queues.ts).
 */
describe(takeSubmitJobsWhileLeased.name, () => {
  let database: TestDatabase;
  let fixture: EngineFixture;
  let standbyBinds: CarrierBinds;
  let standby: Engine;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
    // Small batches: ten submit jobs per carrier, for both workers to reach for.
    fixture = await startEngineFixture(database.store, { binds: 1, engine: { compile: { batchSize: 100 } } });
    // The same carriers (credentials of the engine fixture), the same Redis prefix: a second worker process.
    const carriers = Object.fromEntries(
      CARRIER_IDS.map((id) => [
        id,
        carrierConfigFor(fixture.sims[id], { systemId: 'loa-test', password: 'secret' }, { id, tps: 20_000, window: 50, count: 1, messageId: { submit: 'hex', receipt: 'dec' } }),
      ]),
    ) as Config['carriers'];
    const config = { carriers, redisPrefix: fixture.prefix, carriersSource: 'file', receipts: { windowMs: 7 * 24 * 3_600_000, retentionDays: null } } as Config;
    const receipts = new ReceiptRepository(database.store.db, database.store.pool);
    standbyBinds = await startCarrierBinds({ config, redis: fixture.redis, receiptStore: receipts, logger: testLogger });
    standby = await startEngine({
      store: database.store,
      redis: fixture.redis,
      config,
      pools: standbyBinds.pools,
      receipts,
      late: standbyBinds.lateResponses,
      logger: testLogger,
      options: { compile: { batchSize: 100 }, sweeper: { intervalMs: 200 } },
    });
    await seedList(database.store, 'standby', Array.from({ length: RECIPIENTS }, (_, i) => ({ msisdn: subscriber('viettel', i) })));
  }, 60_000);

  afterAll(async () => {
    await standby?.stop();
    await standbyBinds?.stop();
    await fixture?.stop();
    await database?.drop();
  });

  it('leaves the submit jobs of carriers it holds no bind of to the worker that holds them', async () => {
    expect(CARRIER_IDS.map((id: CarrierId) => standbyBinds.pools[id].heldCount)).toEqual([0, 0, 0]);
    const runId = await seedRun(database.store, { id: 'standby', audience: { lists: ['standby'] }, operators: ['viettel'] });
    await fixture.engine.queues.enqueueCompile(runId);
    // A job the standby took would claim rows under its own lease and hold them while it waited for
    // a bind (noBindTimeoutMs, a minute): sample the claims while the run sends.
    const claims = new Set<number>();
    let done = false;
    const sampling = (async () => {
      while (!done) {
        const rows = await sql<{ claim: number }>`SELECT DISTINCT claim FROM messages WHERE run_id = ${runId} AND claim IS NOT NULL`.execute(database.store.db);
        for (const row of rows.rows) claims.add(row.claim);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      const status = await waitForStatus(fixture.engine, runId, (s) => s.state === 'completed', 60_000);
      expect(status.totals.delivered).toBe(RECIPIENTS);
    } finally {
      done = true;
      await sampling;
    }
    expect([...claims]).toEqual([fixture.engine.leaseId]);
  }, 90_000);
});
