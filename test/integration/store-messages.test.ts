import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_IDS, type CarrierId } from '../../src/domain/carrier.js';
import { MessageRepository, type QueuedMessage } from '../../src/store/message.repository.js';
import { ReceiptRepository } from '../../src/store/receipt.repository.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';

function* recipients(count: number, carrierOf: (index: number) => CarrierId | null = (i) => CARRIER_IDS[i % 3]!): Generator<QueuedMessage> {
  for (let i = 0; i < count; i += 1) {
    yield { msisdn: String(84_900_000_000 + i), carrier: carrierOf(i), province: '92', commune: `c${i % 50}`, partsTotal: 1 + (i % 2) };
  }
}

describe(MessageRepository.name, () => {
  let database: TestDatabase;
  let sut: MessageRepository;
  let receipts: ReceiptRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    sut = new MessageRepository(database.store.db, database.store.pool);
    receipts = new ReceiptRepository(database.store.db, database.store.pool);
  });

  afterAll(async () => {
    await database.drop();
  });

  async function statesOf(runId: number, ids: number[]): Promise<Record<number, string>> {
    const rows = await database.store.db.selectFrom('messages').select(['id', 'state']).where('run_id', '=', runId).where('id', 'in', ids).execute();
    return Object.fromEntries(rows.map((row) => [row.id, row.state]));
  }

  describe('copyQueued', () => {
    it('streams 100k recipients into the run partition with ids 1..n', async () => {
      const runId = await seedRun(database.store, 'copy-100k');
      async function* source(): AsyncGenerator<QueuedMessage> {
        yield* recipients(100_000);
      }

      const result = await sut.copyQueued(runId, source());

      expect(result).toMatchObject({ count: 100_000, firstId: 1, lastId: 100_000, unroutable: 0 });
      expect(result.byCarrier).toEqual({
        viettel: { count: 33_334, firstId: 1, lastId: 100_000 },
        vnpt: { count: 33_333, firstId: 2, lastId: 99_998 },
        mobifone: { count: 33_333, firstId: 3, lastId: 99_999 },
      });
      const counts = await sut.countsByState(runId);
      expect(counts.queued).toBe(100_000);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(100_000);
      const row = await database.store.db.selectFrom(`messages_r${runId}` as 'messages').selectAll().where('id', '=', 2).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ run_id: runId, id: 2, msisdn: '84900000001', carrier: 'vnpt', state: 'queued', parts_total: 2, province: '92', commune: 'c1' });
    });

    it('stores numbers of other networks as unroutable, counted but never queued', async () => {
      const runId = await seedRun(database.store, 'copy-unroutable');

      const result = await sut.copyQueued(runId, recipients(10, (i) => (i < 4 ? null : 'viettel')));

      expect(result.unroutable).toBe(4);
      expect(result.byCarrier).toEqual({ viettel: { count: 6, firstId: 5, lastId: 10 } });
      expect(await sut.countsByCarrierAndState(runId)).toEqual(
        expect.arrayContaining([
          { carrier: null, state: 'unroutable', count: 4 },
          { carrier: 'viettel', state: 'queued', count: 6 },
        ]),
      );
    });

    it('stores nothing when a row is invalid', async () => {
      const runId = await seedRun(database.store, 'copy-invalid');
      function* rows(): Generator<QueuedMessage> {
        yield* recipients(5000);
        yield { msisdn: '0912\t345678', carrier: 'vnpt', partsTotal: 1 };
      }

      await expect(sut.copyQueued(runId, rows())).rejects.toThrow(/message 5001: msisdn .* is not E.164 digits/);

      expect((await sut.countsByState(runId)).queued).toBe(0);
    });

    it('refuses to copy the same run twice instead of duplicating recipients', async () => {
      const runId = await seedRun(database.store, 'copy-twice');
      await sut.copyQueued(runId, recipients(100));

      await expect(sut.copyQueued(runId, recipients(100))).rejects.toThrow(/duplicate key/);

      expect((await sut.countsByState(runId)).queued).toBe(100);
    });

    it('escapes text so a commune name cannot break the COPY stream', async () => {
      const runId = await seedRun(database.store, 'copy-escape');

      await sut.copyQueued(runId, [{ msisdn: '84912345678', carrier: 'vnpt', partsTotal: 1, province: 'Cần Thơ', commune: 'a\tb\\c\nd' }]);

      const row = await database.store.db.selectFrom('messages').select(['province', 'commune']).where('run_id', '=', runId).executeTakeFirstOrThrow();
      expect(row).toEqual({ province: 'Cần Thơ', commune: 'a\tb\\c\nd' });
    });

    it('refuses a run that does not exist', async () => {
      await expect(sut.copyQueued(987_654, recipients(1))).rejects.toThrow(/run 987654 does not exist/);
    });
  });

  describe('state transitions', () => {
    let runId: number;

    beforeAll(async () => {
      runId = await seedRun(database.store, 'transitions');
      await sut.copyQueued(runId, recipients(1000, () => 'viettel'));
    });

    it('moves only queued rows to submitting, once', async () => {
      const first = await sut.markSubmitting(runId, [1, 2, 3]);
      const again = await sut.markSubmitting(runId, [2, 3, 4]);

      expect(first).toEqual([1, 2, 3]);
      expect(again).toEqual([4]);
      const attempts = await database.store.db.selectFrom('messages').select(['id', 'attempts']).where('run_id', '=', runId).where('id', '<=', 4).orderBy('id').execute();
      expect(attempts.map((row) => row.attempts)).toEqual([1, 1, 1, 1]);
    });

    it('gives each row to one of two workers racing for the same batch', async () => {
      const ids = Array.from({ length: 200 }, (_, i) => 101 + i);

      const [a, b] = await Promise.all([sut.markSubmitting(runId, ids), sut.markSubmitting(runId, [...ids].reverse())]);

      expect([...a, ...b].sort((x, y) => x - y)).toEqual(ids);
      expect(a.filter((id) => b.includes(id))).toEqual([]);
    });

    it('claims a carrier id range for a batch job, each row once across concurrent claims', async () => {
      const batch = { carrier: 'viettel' as const, fromId: 401, toId: 600 };

      const [a, b] = await Promise.all([sut.claim(runId, { ...batch, limit: 150, claim: 1 }), sut.claim(runId, { ...batch, limit: 150, claim: 2 })]);
      const rest = await sut.claim(runId, { ...batch, limit: 200, claim: 3 });

      const ids = [...a, ...b, ...rest].map((m) => m.id).sort((x, y) => x - y);
      expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => 401 + i));
      expect(a[0]).toMatchObject({ msisdn: expect.stringMatching(/^849/), partsTotal: expect.any(Number), attempts: 1 });
      expect(await sut.claim(runId, { carrier: 'vnpt', fromId: 1, toId: 1000, limit: 1000, claim: 4 })).toEqual([]);
    });

    it('marks submitted only rows that are submitting, and never moves a submitted row back', async () => {
      // 5 is still queued: submit_sm_resp for a row never claimed must not move it.
      const moved = await receipts.markSubmitted(runId, 'viettel', [
        { id: 1, smscMessageIds: ['s-1'] },
        { id: 5, smscMessageIds: ['s-5'] },
      ]);
      const replay = await receipts.markSubmitted(runId, 'viettel', [{ id: 1, smscMessageIds: ['s-1'] }]);
      const reclaimed = await sut.markSubmitting(runId, [1]);

      expect(moved).toEqual({ segments: 2, submitted: 1, conflicts: 0 });
      expect(replay).toEqual({ segments: 0, submitted: 0, conflicts: 0 });
      expect(reclaimed).toEqual([]);
      expect(await statesOf(runId, [1, 5])).toEqual({ 1: 'submitted', 5: 'queued' });
      const row = await database.store.db.selectFrom('messages').selectAll().where('run_id', '=', runId).where('id', '=', 1).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ parts_submitted: 1, submitted_at: expect.any(Date) });
    });

    it('keeps a multipart message submitting until every segment has its id', async () => {
      const runId2 = await seedRun(database.store, 'multipart-submit');
      await sut.copyQueued(runId2, [{ msisdn: '84912000001', carrier: 'vnpt', partsTotal: 3 }]);
      await sut.markSubmitting(runId2, [1]);

      const firstTwo = await receipts.markSubmitted(runId2, 'vnpt', [{ id: 1, smscMessageIds: ['m-1', 'm-2'] }]);
      const state = await statesOf(runId2, [1]);
      const last = await receipts.markSubmitted(runId2, 'vnpt', [{ id: 1, smscMessageIds: ['m-3'], firstPart: 3 }]);

      expect(firstTwo).toEqual({ segments: 2, submitted: 0, conflicts: 0 });
      expect(state).toEqual({ 1: 'submitting' });
      expect(last).toEqual({ segments: 1, submitted: 1, conflicts: 0 });
      expect(await statesOf(runId2, [1])).toEqual({ 1: 'submitted' });
    });

    it('fails rows on a permanent error, releases the rest after a crash', async () => {
      await sut.markSubmitting(runId, [10, 11, 12, 13]);

      const failed = await sut.markFailed(runId, [
        { id: 10, submitStatus: 0x0b },
        { id: 1, submitStatus: 0x0b },
      ]);
      const requeued = await sut.releaseSubmitting(runId, 'queued', [11]);
      const ambiguous = await sut.releaseSubmitting(runId, 'ambiguous', [12, 13]);

      expect(failed).toEqual([10]);
      expect(requeued).toBe(1);
      expect(ambiguous).toBe(2);
      expect(await statesOf(runId, [1, 10, 11, 12, 13])).toEqual({ 1: 'submitted', 10: 'failed', 11: 'queued', 12: 'ambiguous', 13: 'ambiguous' });
      // The SMSC's refusal is kept apart from a receipt's error code.
      const row = await database.store.db.selectFrom('messages').select(['submit_status', 'error_code']).where('run_id', '=', runId).where('id', '=', 10).executeTakeFirstOrThrow();
      expect(row).toEqual({ submit_status: 0x0b, error_code: null });
    });

    it('turns messages still waiting for a receipt into unknown when the run expires', async () => {
      const expired = await sut.expireOverdue(runId, 0);

      expect(expired).toBe(1);
      expect(await statesOf(runId, [1])).toEqual({ 1: 'unknown' });
    });

    it('counts every state, and the counts add up to the audience', async () => {
      const counts = await sut.countsByState(runId);

      expect(Object.keys(counts)).toHaveLength(14);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1000);
      expect(counts).toMatchObject({ unknown: 1, failed: 1, ambiguous: 2 });
    });
  });
});
