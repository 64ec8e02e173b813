import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarrierId } from '../../src/domain/carrier.js';
import type { MessageState } from '../../src/domain/message-state.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { Reconciler } from '../../src/jobs/reconciler.js';
import { ReceiptWriter } from '../../src/jobs/receipt-writer.js';
import { RedisSentinel } from '../../src/jobs/redis.js';
import { carrierConfigFor } from '../../src/sim/fixtures.js';
import { SmscSimulator } from '../../src/sim/smsc-simulator.js';
import { BindPool } from '../../src/smpp/bind-pool.js';
import { MessageRepository } from '../../src/store/message.repository.js';
import { ReceiptRepository, type ReceiptUpdate } from '../../src/store/receipt.repository.js';
import { RecoveryRepository } from '../../src/store/recovery.repository.js';
import { RunCountRepository } from '../../src/store/run-count.repository.js';
import { RunRepository, WorkerLeaseRepository } from '../../src/store/index.js';
import { cleanupRedisPrefix, createTestDatabase, seedRun, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { eventually, submitterFor, testLogger as logger, testParts, useCleanups } from '../helpers/smpp.js';

const WINDOW_MS = 7 * 24 * 3600 * 1000;

/**
 * Ambiguous messages resolved by their receipts (0017 resolve_ambiguous): a worker died with the
 * SMSC's answers unwritten; the receipts, parked for want of a segment, name the handset.
 */
describe(`${RecoveryRepository.name}.resolveAmbiguous`, () => {
  let database: TestDatabase;
  let messages: MessageRepository;
  let receipts: ReceiptRepository;
  let counts: RunCountRepository;
  let sut: RecoveryRepository;
  let nextNumber = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    messages = new MessageRepository(database.store.db, database.store.pool);
    receipts = new ReceiptRepository(database.store.db, database.store.pool);
    counts = new RunCountRepository(database.store.db);
    sut = new RecoveryRepository(database.store.db);
  });
  afterAll(async () => {
    await database.drop();
  });

  /** A fresh Vietnamese mobile number (E.164 digits), one per test case. */
  function number(): string {
    nextNumber += 1;
    return String(84_912_000_000 + nextNumber);
  }

  /** A run whose messages were claimed and then left ambiguous (as the reconciler leaves a dead worker's rows). */
  async function ambiguousRun(name: string, rows: Array<{ msisdn: string; carrier?: CarrierId; parts?: number; stored?: string[] }>): Promise<number> {
    const runId = await seedRun(database.store, name);
    await messages.copyQueued(runId, rows.map((row) => ({ msisdn: row.msisdn, carrier: row.carrier ?? 'viettel', partsTotal: row.parts ?? 1 })));
    const ids = rows.map((_, i) => i + 1);
    await messages.markSubmitting(runId, ids);
    // Parts whose submit_sm_resp was written before the crash.
    for (const [i, row] of rows.entries()) {
      if (row.stored) await receipts.markSubmitted(runId, row.carrier ?? 'viettel', [{ id: i + 1, smscMessageIds: row.stored }]);
    }
    await messages.releaseSubmitting(runId, 'ambiguous', ids);
    return runId;
  }

  function receipt(smscMessageId: string, msisdn: string | null, state: MessageState = 'delivered', carrier: CarrierId = 'viettel', error: string | null = null): ReceiptUpdate {
    return { carrier, smscMessageId, state, error, doneAt: null, msisdn };
  }

  async function message(runId: number, id = 1) {
    return database.store.db.selectFrom('messages').selectAll().where('run_id', '=', runId).where('id', '=', id).executeTakeFirstOrThrow();
  }

  async function parked(smscMessageId: string): Promise<number> {
    const rows = await database.store.db.selectFrom('parked_receipts').select('msisdn').where('smsc_message_id', '=', smscMessageId).execute();
    return rows.length;
  }

  it('parks a receipt with its handset and resolves the one ambiguous message to that number: segment, state, counts', async () => {
    const msisdn = number();
    const runId = await ambiguousRun('single', [{ msisdn }, { msisdn: number() }]);
    expect(await receipts.applyReceipts([receipt('a-1', msisdn, 'undeliverable', 'viettel', '001')])).toEqual({ applied: 0, duplicates: 0, parked: 1 });
    const stored = await database.store.db.selectFrom('parked_receipts').select('msisdn').where('smsc_message_id', '=', 'a-1').executeTakeFirstOrThrow();
    expect(stored.msisdn).toBe(msisdn);

    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 1, receipts: 1 });

    expect(await message(runId, 1)).toMatchObject({ state: 'undeliverable', error_code: '001', parts_submitted: 1 });
    expect(await message(runId, 2)).toMatchObject({ state: 'ambiguous' });
    expect(await parked('a-1')).toBe(0);
    const byState = Object.fromEntries((await counts.byCarrierAndState(runId)).map((row) => [row.state, Number(row.count)]));
    expect(byState).toEqual({ undeliverable: 1, ambiguous: 1 });
    // The id is now the message's segment: the SMSC redelivering the receipt is a duplicate.
    expect(await receipts.applyReceipts([receipt('a-1', msisdn, 'undeliverable', 'viettel', '001')])).toEqual({ applied: 0, duplicates: 1, parked: 0 });
    // Nothing more to do: a second call changes nothing.
    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 0, receipts: 0 });
  });

  it('takes an interim then a final receipt for one id as one part, and later receipts for that id match it', async () => {
    const msisdn = number();
    const runId = await ambiguousRun('interim', [{ msisdn }]);
    await receipts.applyReceipts([receipt('b-1', msisdn, 'enroute')]);
    await receipts.applyReceipts([receipt('b-1', msisdn, 'delivered')]);

    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 1, receipts: 1 });
    expect(await message(runId)).toMatchObject({ state: 'delivered', parts_delivered: 1 });
    expect(await parked('b-1')).toBe(0);
  });

  it('an interim receipt alone: the SMSC has the message, which waits for its final receipt by id', async () => {
    const msisdn = number();
    const runId = await ambiguousRun('interim-only', [{ msisdn }]);
    await receipts.applyReceipts([receipt('c-1', msisdn, 'enroute')]);

    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 1, receipts: 1 });
    expect(await message(runId)).toMatchObject({ state: 'enroute' });
    expect(await receipts.applyReceipts([receipt('c-1', null, 'delivered')])).toEqual({ applied: 1, duplicates: 0, parked: 0 });
    expect(await message(runId)).toMatchObject({ state: 'delivered' });
  });

  it('leaves it ambiguous when another message to that number on that carrier could own the receipt', async () => {
    // Two ambiguous messages to one number (two runs): the receipt could be either's.
    const twice = number();
    const first = await ambiguousRun('twice-1', [{ msisdn: twice }]);
    const second = await ambiguousRun('twice-2', [{ msisdn: twice }]);
    await receipts.applyReceipts([receipt('d-1', twice)]);
    expect(await sut.resolveAmbiguous(first, WINDOW_MS)).toEqual({ messages: 0, receipts: 0 });
    expect(await sut.resolveAmbiguous(second, WINDOW_MS)).toEqual({ messages: 0, receipts: 0 });

    // Another run's message to the number is submitted and its SMSC id not written yet (or never): still not ours to take.
    const busy = number();
    const other = await seedRun(database.store, 'busy-other');
    await messages.copyQueued(other, [{ msisdn: busy, carrier: 'viettel', partsTotal: 1 }]);
    await messages.markSubmitting(other, [1]);
    const runId = await ambiguousRun('busy', [{ msisdn: busy }]);
    await receipts.applyReceipts([receipt('d-2', busy)]);
    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 0, receipts: 0 });
    // Once that message has its own segment and final receipt, the parked receipt can only be this one's.
    await receipts.markSubmitted(other, 'viettel', [{ id: 1, smscMessageIds: ['d-3'] }]);
    await receipts.applyReceipts([receipt('d-3', busy)]);
    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 1, receipts: 1 });

    expect(await message(first)).toMatchObject({ state: 'ambiguous' });
    expect(await message(second)).toMatchObject({ state: 'ambiguous' });
    expect(await parked('d-1')).toBe(1);
  });

  it('never takes a receipt of another carrier, without a number, or older than the run', async () => {
    const msisdn = number();
    await receipts.applyReceipts([receipt('e-old', msisdn)]);
    await database.store.pool.query(`UPDATE parked_receipts SET received_at = now() - interval '1 hour' WHERE smsc_message_id = 'e-old'`);
    const runId = await ambiguousRun('foreign', [{ msisdn }]);
    await receipts.applyReceipts([receipt('e-1', msisdn, 'delivered', 'vnpt'), receipt('e-2', null)]);

    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 0, receipts: 0 });
    expect(await message(runId)).toMatchObject({ state: 'ambiguous' });
    expect(await parked('e-old')).toBe(1);
  });

  it('resolves a multipart message only when there is one receipt per part without a segment', async () => {
    const short = number();
    const whole = number();
    const half = number();
    const runId = await ambiguousRun('multipart', [
      { msisdn: short, parts: 3 },
      { msisdn: whole, parts: 2 },
      { msisdn: half, parts: 2, stored: ['f-half-1'] },
    ]);
    await receipts.applyReceipts([
      receipt('f-short-1', short),
      receipt('f-short-2', short), // the third part never reached the SMSC (or its receipt is not here)
      receipt('f-whole-1', whole),
      receipt('f-whole-2', whole),
      receipt('f-half-1', half), // the stored part: matched by its id at once
      receipt('f-half-2', half),
    ]);
    expect(await message(runId, 3)).toMatchObject({ state: 'ambiguous', parts_delivered: 1, parts_submitted: 1 });

    expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 2, receipts: 3 });

    expect(await message(runId, 1)).toMatchObject({ state: 'ambiguous', parts_delivered: 0 });
    expect(await message(runId, 2)).toMatchObject({ state: 'delivered', parts_delivered: 2, parts_submitted: 2 });
    expect(await message(runId, 3)).toMatchObject({ state: 'delivered', parts_delivered: 2, parts_submitted: 2 });
    const segments = await database.store.db
      .selectFrom('message_segments')
      .select(['smsc_message_id', 'message_id', 'part'])
      .where('run_id', '=', runId)
      .orderBy('smsc_message_id')
      .execute();
    expect(segments).toEqual([
      { smsc_message_id: 'f-half-1', message_id: 3, part: 1 },
      { smsc_message_id: 'f-half-2', message_id: 3, part: 2 },
      { smsc_message_id: 'f-whole-1', message_id: 2, part: 1 },
      { smsc_message_id: 'f-whole-2', message_id: 2, part: 2 },
    ]);
    expect(await parked('f-short-1')).toBe(1);
  });

  it("the reconciler resolves a dead worker's rows in the pass that makes them ambiguous, never with a receipt older than the worker's lease", async () => {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const prefix = testRedisPrefix();
    const queues = new JobQueues(redis, prefix);
    try {
      const leases = new WorkerLeaseRepository(database.store.db);
      const early = number();
      const late = number();
      // A receipt for `early` came before the dead worker even started: not its message's.
      await receipts.applyReceipts([receipt('g-early', early)]);
      await database.store.pool.query(`UPDATE parked_receipts SET received_at = now() - interval '1 minute' WHERE smsc_message_id = 'g-early'`);
      const runId = await seedRun(database.store, 'reconciled');
      await database.store.pool.query(`UPDATE runs SET started_at = now() - interval '10 minutes', state = 'running' WHERE id = $1`, [runId]);
      await messages.copyQueued(runId, [early, late].map((msisdn) => ({ msisdn, carrier: 'viettel' as const, partsTotal: 1 })));
      const dead = await leases.acquire('dead', 60_000);
      await database.store.pool.query(`UPDATE worker_leases SET started_at = now() - interval '30 seconds', expires_at = now() WHERE id = $1`, [dead]);
      await database.store.pool.query(`UPDATE messages SET state = 'submitting', claim = $2 WHERE run_id = $1`, [runId, dead]);
      await receipts.applyReceipts([receipt('g-late', late, 'expired')]);
      const sut = new Reconciler(
        {
          runs: new RunRepository(database.store.db),
          counts,
          recovery: new RecoveryRepository(database.store.db),
          queues,
          sentinel: new RedisSentinel(redis, prefix),
          resolver: { recovery: new RecoveryRepository(database.store.db), receiptWindowMs: WINDOW_MS },
          logger,
        },
        { resolveRetryMs: 60_000 },
      );

      const result = await sut.reconcile('periodic');

      expect(result).toMatchObject({ ambiguous: 2, resolved: 1 });
      expect(await message(runId, 1)).toMatchObject({ state: 'ambiguous' });
      expect(await message(runId, 2)).toMatchObject({ state: 'expired' });
      expect(await parked('g-early')).toBe(1);
      // A pass that resolves nothing: after it, the run is looked at again only when its ambiguous
      // count moves or resolveRetryMs has passed, so a receipt arriving now waits for that.
      expect((await sut.reconcile('periodic')).resolved ?? 0).toBe(0);
      await receipts.applyReceipts([receipt('g-early-2', early)]);
      expect((await sut.reconcile('periodic')).resolved ?? 0).toBe(0);
      expect(await message(runId, 1)).toMatchObject({ state: 'ambiguous' });
      expect(await new RecoveryRepository(database.store.db).resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: 1, receipts: 1 });
    } finally {
      await queues.close();
      await cleanupRedisPrefix(redis, prefix);
      redis.disconnect();
    }
  });

  describe('through the real receipt path', () => {
    const cleanups = useCleanups();
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    const credentials = { systemId: 'loa-ambiguous', password: 'secret' };
    afterAll(() => redis.disconnect());

    it('a worker whose submit_sm_resp were never written: the SMSC receipts, parked with the handset, resolve its ambiguous messages once each', async () => {
      const sim = new SmscSimulator({
        carrier: 'viettel',
        ...credentials,
        messageIds: { submit: 'hex', receipt: 'dec' },
        receipts: { delayMs: { min: 1, max: 30 }, earlyProbability: 0, outcomes: { delivered: 3, undeliverable: 1, expired: 0, rejected: 0 } },
      });
      await sim.listen();
      cleanups.push(() => sim.close());
      const writer = new ReceiptWriter(receipts, logger, { flushEveryMs: 10 });
      cleanups.push(() => writer.close());
      const pool = new BindPool({
        carrier: carrierConfigFor(sim, credentials, { id: 'viettel', messageId: { submit: 'hex', receipt: 'dec' } }),
        redis,
        prefix: `loa-test-ambiguous-${randomUUID()}`,
        receiptSink: writer,
        logger,
        leaseMs: 3_000,
      });
      cleanups.push(() => pool.stop());
      await pool.start();
      await eventually(() => pool.boundCount === 1, 5_000, 'a bind');

      const count = 8;
      // National form on the wire (0912…), E.164 in the database (84912…): the handset must still match.
      const numbers = Array.from({ length: count }, () => number());
      const runId = await seedRun(database.store, 'real-path');
      await messages.copyQueued(runId, numbers.map((msisdn) => ({ msisdn, carrier: 'viettel' as const, partsTotal: 1 })));
      const submitter = submitterFor('viettel', pool, 1_000, { messageIdFormat: 'hex' });
      const parts = testParts(count, { registeredDelivery: 1, destination: (i) => `0${numbers[i]!.slice(2)}`, shortMessage: (i) => Buffer.from(`lost ${i}`, 'latin1') }).map(
        (part) => ({ ...part, ref: part.ref + 1 }),
      );
      // The worker claims and sends, and dies before writing a single submit_sm_resp: nothing recorded.
      const summary = await submitter.run([parts], {
        beforeSend: async (batch) => {
          const claimed = new Set(await messages.markSubmitting(runId, batch.map((part) => part.ref)));
          return batch.filter((part) => claimed.has(part.ref));
        },
        onResult: async () => undefined,
      });
      submitter.dispose();
      expect(summary.submitted).toBe(count);
      await messages.releaseSubmitting(runId, 'ambiguous');
      await eventually(() => sim.stats.receiptsAcked === count, 10_000, 'every receipt acknowledged (durable)');
      expect(writer.totals.parked).toBe(count);

      expect(await sut.resolveAmbiguous(runId, WINDOW_MS)).toEqual({ messages: count, receipts: count });

      const states = await messages.countsByState(runId);
      const outcomes = sim.submits.map((submit) => submit.outcome);
      expect(states.ambiguous).toBe(0);
      expect(states.delivered).toBe(outcomes.filter((outcome) => outcome === 'delivered').length);
      expect(states.undeliverable).toBe(outcomes.filter((outcome) => outcome === 'undeliverable').length);
      // Each message has the id the SMSC gave it (its receipt's id), and nothing was sent twice.
      const segments = await database.store.db.selectFrom('message_segments').select(['smsc_message_id', 'message_id']).where('run_id', '=', runId).execute();
      const byMessage = new Map(segments.map((segment) => [segment.message_id, segment.smsc_message_id]));
      for (const submit of sim.submits) {
        const id = numbers.findIndex((msisdn) => `0${msisdn.slice(2)}` === submit.destination) + 1;
        expect(byMessage.get(id)).toBe(BigInt(`0x${submit.messageId}`).toString(10));
      }
      expect(sim.submits).toHaveLength(count);
    });
  });
});
