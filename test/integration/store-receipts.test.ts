import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarrierId } from '../../src/domain/carrier.js';
import type { MessageState } from '../../src/domain/message-state.js';
import { MessageRepository } from '../../src/store/message.repository.js';
import { ReceiptRepository, type ReceiptUpdate } from '../../src/store/receipt.repository.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';

const doneAt = new Date('2021-09-23T01:05:00Z');

function receipt(carrier: CarrierId, smscMessageId: string, state: MessageState, error: string | null = null): ReceiptUpdate {
  return { carrier, smscMessageId, state, error, doneAt };
}

describe(ReceiptRepository.name, () => {
  let database: TestDatabase;
  let sut: ReceiptRepository;
  let messageStore: MessageRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    sut = new ReceiptRepository(database.store.db, database.store.pool);
    messageStore = new MessageRepository(database.store.db, database.store.pool);
  });

  afterAll(async () => {
    await database.drop();
  });

  /** A run whose messages are all submitting, ready for markSubmitted. */
  async function submittingRun(name: string, messages: Array<{ carrier: CarrierId; parts?: number }>): Promise<number> {
    const runId = await seedRun(database.store, name);
    await messageStore.copyQueued(
      runId,
      messages.map((m, i) => ({ msisdn: String(84_910_000_000 + i), carrier: m.carrier, partsTotal: m.parts ?? 1 })),
    );
    await messageStore.markSubmitting(runId, messages.map((_, i) => i + 1));
    return runId;
  }

  async function message(runId: number, id: number) {
    return database.store.db.selectFrom('messages').selectAll().where('run_id', '=', runId).where('id', '=', id).executeTakeFirstOrThrow();
  }

  async function parkedCount(): Promise<number> {
    const row = await database.store.db.selectFrom('parked_receipts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return row.n;
  }

  it('applies a receipt to the message its (carrier, SMSC id) belongs to', async () => {
    // The same SMSC id from two carriers belongs to two different messages.
    const runId = await submittingRun('match', [{ carrier: 'viettel' }, { carrier: 'vnpt' }]);
    await sut.markSubmitted(runId, 'viettel', [{ id: 1, smscMessageIds: ['1000'] }]);
    await sut.markSubmitted(runId, 'vnpt', [{ id: 2, smscMessageIds: ['1000'] }]);

    const result = await sut.applyReceipts([receipt('vnpt', '1000', 'undeliverable', '001')]);

    expect(result).toEqual({ applied: 1, duplicates: 0, parked: 0 });
    expect(await message(runId, 1)).toMatchObject({ state: 'submitted', error_code: null, done_at: null });
    expect(await message(runId, 2)).toMatchObject({ state: 'undeliverable', error_code: '001', done_at: doneAt });
  });

  it('moves through intermediate states, ignores repeated and late intermediate receipts', async () => {
    const runId = await submittingRun('interim', [{ carrier: 'mobifone' }]);
    await sut.markSubmitted(runId, 'mobifone', [{ id: 1, smscMessageIds: ['a1'] }]);

    await sut.applyReceipts([receipt('mobifone', 'a1', 'enroute')]);
    const enroute = (await message(runId, 1)).state;
    const delivered = await sut.applyReceipts([receipt('mobifone', 'a1', 'delivered')]);
    const repeated = await sut.applyReceipts([receipt('mobifone', 'a1', 'delivered'), receipt('mobifone', 'a1', 'enroute')]);

    expect(enroute).toBe('enroute');
    expect(delivered).toEqual({ applied: 1, duplicates: 0, parked: 0 });
    expect(repeated).toEqual({ applied: 0, duplicates: 1, parked: 0 });
    expect(await message(runId, 1)).toMatchObject({ state: 'delivered', parts_delivered: 1, done_at: doneAt });
  });

  it('delivers a multipart message when every segment is delivered, fails it on the first failed segment', async () => {
    const runId = await submittingRun('multipart', [
      { carrier: 'viettel', parts: 3 },
      { carrier: 'viettel', parts: 2 },
    ]);
    await sut.markSubmitted(runId, 'viettel', [
      { id: 1, smscMessageIds: ['p1', 'p2', 'p3'] },
      { id: 2, smscMessageIds: ['q1', 'q2'] },
    ]);

    await sut.applyReceipts([receipt('viettel', 'p1', 'delivered'), receipt('viettel', 'p2', 'delivered'), receipt('viettel', 'q1', 'delivered')]);
    const partial = await message(runId, 1);
    await sut.applyReceipts([receipt('viettel', 'p3', 'delivered'), receipt('viettel', 'q2', 'expired', '254')]);

    expect(partial).toMatchObject({ state: 'submitted', parts_delivered: 2 });
    expect(await message(runId, 1)).toMatchObject({ state: 'delivered', parts_delivered: 3 });
    expect(await message(runId, 2)).toMatchObject({ state: 'expired', parts_delivered: 1, error_code: '254' });
  });

  it('parks a receipt that arrives before its submit_sm_resp and applies it in the sweep after the resp is stored', async () => {
    const runId = await submittingRun('early', [{ carrier: 'vnpt' }]);

    const early = await sut.applyReceipts([{ ...receipt('vnpt', 'e1', 'delivered'), raw: 'id:e1 stat:DELIVRD err:000' }]);
    const whileParked = await message(runId, 1);
    await sut.markSubmitted(runId, 'vnpt', [{ id: 1, smscMessageIds: ['e1'] }]);
    const swept = await sut.matchParked();

    expect(early).toEqual({ applied: 0, duplicates: 0, parked: 1 });
    expect(swept).toEqual({ applied: 1, duplicates: 0, parked: 0 });
    expect(whileParked.state).toBe('submitting');
    expect(await message(runId, 1)).toMatchObject({ state: 'delivered', parts_delivered: 1 });
    expect(await parkedCount()).toBe(0);
  });

  it('matches parked receipts in a sweep when the segment appeared another way', async () => {
    const runId = await submittingRun('sweep', [{ carrier: 'viettel' }]);
    await sut.applyReceipts([receipt('viettel', 'w1', 'enroute'), receipt('viettel', 'w2', 'rejected')]);
    // As if markSubmitted had committed between the receipt statement's snapshot and its park.
    await database.store.db.insertInto('message_segments').values({ carrier: 'viettel', smsc_message_id: 'w1', run_id: runId, message_id: 1, part: 1 }).execute();
    await database.store.db.updateTable('messages').set({ state: 'submitted', parts_submitted: 1 }).where('run_id', '=', runId).execute();

    const swept = await sut.matchParked();

    expect(swept).toEqual({ applied: 1, duplicates: 0, parked: 0 });
    expect(await message(runId, 1)).toMatchObject({ state: 'enroute' });
    // w2 has no segment yet: it stays parked, not dropped.
    const left = await database.store.db.selectFrom('parked_receipts').select(['smsc_message_id', 'state']).execute();
    expect(left).toEqual([{ smsc_message_id: 'w2', state: 'rejected' }]);
    await database.store.db.deleteFrom('parked_receipts').execute();
  });

  it('applies one batch across several runs', async () => {
    const runA = await submittingRun('batch-a', [{ carrier: 'vnpt' }]);
    const runB = await submittingRun('batch-b', [{ carrier: 'vnpt' }]);
    await sut.markSubmitted(runA, 'vnpt', [{ id: 1, smscMessageIds: ['ba'] }]);
    await sut.markSubmitted(runB, 'vnpt', [{ id: 1, smscMessageIds: ['bb'] }]);

    const result = await sut.applyReceipts([receipt('vnpt', 'ba', 'delivered'), receipt('vnpt', 'bb', 'deleted')]);

    expect(result.applied).toBe(2);
    expect((await message(runA, 1)).state).toBe('delivered');
    expect((await message(runB, 1)).state).toBe('deleted');
  });

  it('gives a reused SMSC id to the newest message and leaves the older one as it was', async () => {
    const runId = await submittingRun('reuse', [{ carrier: 'mobifone' }, { carrier: 'mobifone' }]);
    await sut.markSubmitted(runId, 'mobifone', [{ id: 1, smscMessageIds: ['r1'] }]);
    await sut.applyReceipts([receipt('mobifone', 'r1', 'delivered')]);

    await sut.markSubmitted(runId, 'mobifone', [{ id: 2, smscMessageIds: ['r1'] }]);
    await sut.applyReceipts([receipt('mobifone', 'r1', 'undeliverable')]);

    expect((await message(runId, 1)).state).toBe('delivered');
    expect((await message(runId, 2)).state).toBe('undeliverable');
    // Both uses of the id are kept (support can still say which message had it when).
    const segments = await database.store.db.selectFrom('message_segments').select(['message_id', 'state']).where('smsc_message_id', '=', 'r1').orderBy('message_id').execute();
    expect(segments).toEqual([{ message_id: 1, state: 'delivered' }, { message_id: 2, state: 'undeliverable' }]);
  });

  it('refuses a receipt state no receipt can have', async () => {
    await expect(sut.applyReceipts([receipt('viettel', 'x', 'queued')])).rejects.toThrow(/cannot report state queued/);
  });

  it('loses no receipt when receipts and submit_sm_resps race', async () => {
    const count = 3000;
    const runId = await submittingRun(
      'race',
      Array.from({ length: count }, () => ({ carrier: 'viettel' as const })),
    );
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const batches = (size: number) => Array.from({ length: Math.ceil(count / size) }, (_, b) => ids.slice(b * size, (b + 1) * size));

    // Receipts for a batch are sent before, while and after its resps are stored.
    const receiptBatches = batches(70).map((batch) => () => sut.applyReceipts(batch.map((id) => receipt('viettel', `race-${id}`, 'delivered'))));
    const submitBatches = batches(100).map((batch) => () => sut.markSubmitted(runId, 'viettel', batch.map((id) => ({ id, smscMessageIds: [`race-${id}`] }))));
    const results = await Promise.all(
      receiptBatches.flatMap((applyBatch, i) => [applyBatch(), ...(submitBatches[i] ? [submitBatches[i]()] : [])]),
    );
    const receiptResults = results.filter((result) => 'parked' in result);
    const parked = receiptResults.reduce((sum, result) => sum + result.parked, 0);
    expect(parked).toBeGreaterThan(0);
    expect(receiptResults.reduce((sum, result) => sum + result.applied + result.parked, 0)).toBe(count);
    await sut.matchParked();

    expect((await messageStore.countsByState(runId)).delivered).toBe(count);
    expect(await parkedCount()).toBe(0);
  });
  it('lets a receipt update an ambiguous or unknown message: the handset knows best', async () => {
    const runId = await submittingRun('truth', [{ carrier: 'vnpt' }, { carrier: 'vnpt' }, { carrier: 'vnpt' }]);
    await sut.markSubmitted(runId, 'vnpt', [{ id: 1, smscMessageIds: ['t1'] }, { id: 3, smscMessageIds: ['t3'] }]);
    await messageStore.releaseSubmitting(runId, 'ambiguous', [2]);
    await messageStore.expireOverdue(runId, 0); // 1 and 3 → unknown
    // 2 was ambiguous; its id is known later (a late submit_sm_resp).
    await sut.markLateSubmitted('vnpt', [{ runId, messageId: 2, part: 1, smscMessageId: 't2' }]);
    await messageStore.releaseSubmitting(runId, 'ambiguous', [2]); // the send path's late write changes nothing now

    const result = await sut.applyReceipts([receipt('vnpt', 't1', 'delivered'), receipt('vnpt', 't2', 'delivered'), receipt('vnpt', 't3', 'undeliverable', '069')]);

    expect(result).toEqual({ applied: 3, duplicates: 0, parked: 0 });
    expect(await message(runId, 1)).toMatchObject({ state: 'delivered', parts_delivered: 1, done_at: doneAt });
    expect(await message(runId, 2)).toMatchObject({ state: 'delivered', parts_submitted: 1 });
    expect(await message(runId, 3)).toMatchObject({ state: 'undeliverable', error_code: '069' });
  });

  it('applies a receipt parked while its message was ambiguous once the late response arrives', async () => {
    const runId = await submittingRun('late-parked', [{ carrier: 'viettel' }]);
    await messageStore.releaseSubmitting(runId, 'ambiguous', [1]);
    const early = await sut.applyReceipts([receipt('viettel', 'lp1', 'delivered')]);

    const late = await sut.markLateSubmitted('viettel', [{ runId, messageId: 1, part: 1, smscMessageId: 'lp1' }]);
    const swept = await sut.matchParked();

    expect(early.parked).toBe(1);
    expect(late).toEqual({ segments: 1, submitted: 1, conflicts: 0 });
    expect(swept.applied).toBe(1);
    expect(await message(runId, 1)).toMatchObject({ state: 'delivered' });
  });

  it('isolates an empty id and an id given to two messages of one batch instead of merging them', async () => {
    const runId = await submittingRun('conflicts', [{ carrier: 'mobifone' }, { carrier: 'mobifone' }, { carrier: 'mobifone' }, { carrier: 'mobifone' }]);

    const result = await sut.markSubmitted(runId, 'mobifone', [
      { id: 1, smscMessageIds: [''] },
      { id: 2, smscMessageIds: ['dup'] },
      { id: 3, smscMessageIds: ['dup'] },
      { id: 4, smscMessageIds: ['ok4'] },
    ]);
    const replay = await sut.markSubmitted(runId, 'mobifone', [{ id: 2, smscMessageIds: ['dup'] }, { id: 3, smscMessageIds: ['dup'] }]);
    const receiptForDup = await sut.applyReceipts([receipt('mobifone', 'dup', 'delivered')]);

    expect(result).toEqual({ segments: 1, submitted: 4, conflicts: 3 });
    expect(replay.conflicts).toBe(0);
    const conflicts = await database.store.db.selectFrom('segment_conflicts').select(['message_id', 'smsc_message_id', 'reason']).where('run_id', '=', runId).orderBy('message_id').execute();
    expect(conflicts).toEqual([
      { message_id: 1, smsc_message_id: '', reason: 'empty-id' },
      { message_id: 2, smsc_message_id: 'dup', reason: 'duplicate-in-batch' },
      { message_id: 3, smsc_message_id: 'dup', reason: 'duplicate-in-batch' },
    ]);
    // Neither message takes the receipt of an id that could be either's: it waits, parked.
    expect(receiptForDup.parked).toBe(1);
    expect((await message(runId, 2)).state).toBe('submitted');
    expect((await message(runId, 3)).state).toBe('submitted');
    await database.store.db.deleteFrom('parked_receipts').execute();
  });

  it('never gives a receipt to an older message whose id was reused, even before the new resp is stored', async () => {
    const runId = await submittingRun('reuse-early', [{ carrier: 'viettel' }, { carrier: 'viettel' }]);
    await sut.markSubmitted(runId, 'viettel', [{ id: 1, smscMessageIds: ['ru'] }]);
    await sut.applyReceipts([receipt('viettel', 'ru', 'delivered')]);
    const redelivered = await sut.applyReceipts([receipt('viettel', 'ru', 'delivered')]);

    // The SMSC gives 'ru' to message 2; its receipt overtakes the submit_sm_resp.
    const early = await sut.applyReceipts([receipt('viettel', 'ru', 'expired', '254')]);
    await sut.markSubmitted(runId, 'viettel', [{ id: 2, smscMessageIds: ['ru'] }]);
    await sut.matchParked();

    expect(redelivered).toEqual({ applied: 0, duplicates: 1, parked: 0 });
    expect(early).toEqual({ applied: 0, duplicates: 0, parked: 1 });
    expect(await message(runId, 1)).toMatchObject({ state: 'delivered', error_code: null });
    expect(await message(runId, 2)).toMatchObject({ state: 'expired', error_code: '254' });
  });

  it('does not reach segments submitted before the receipt window', async () => {
    const runId = await submittingRun('window', [{ carrier: 'vnpt' }]);
    await sut.markSubmitted(runId, 'vnpt', [{ id: 1, smscMessageIds: ['old1'] }]);
    await database.store.pool.query(`UPDATE message_segments SET submitted_at = now() - interval '8 days' WHERE smsc_message_id = 'old1'`);

    const result = await sut.applyReceipts([receipt('vnpt', 'old1', 'delivered')]);

    expect(result.parked).toBe(1);
    expect((await message(runId, 1)).state).toBe('submitted');
    await database.store.db.deleteFrom('parked_receipts').execute();
  });

  it('keeps parked receipts older than the window as unmatched, counted, and drops none', async () => {
    const short = new ReceiptRepository(database.store.db, database.store.pool, { receiptWindowMs: 60_000 });
    await short.applyReceipts([receipt('viettel', 'never-1', 'delivered'), receipt('viettel', 'never-2', 'rejected'), receipt('viettel', 'recent', 'delivered')]);
    await database.store.pool.query(`UPDATE parked_receipts SET received_at = now() - interval '2 minutes' WHERE smsc_message_id LIKE 'never-%'`);
    const before = await short.countUnmatched();

    const expired = await short.expireParked();

    expect(expired).toBe(2);
    expect((await short.countUnmatched()) - before).toBe(2);
    const unmatched = await database.store.db.selectFrom('unmatched_receipts').select(['smsc_message_id', 'state']).where('smsc_message_id', 'like', 'never-%').orderBy('smsc_message_id').execute();
    expect(unmatched).toEqual([{ smsc_message_id: 'never-1', state: 'delivered' }, { smsc_message_id: 'never-2', state: 'rejected' }]);
    const left = await database.store.db.selectFrom('parked_receipts').select('smsc_message_id').execute();
    expect(left).toEqual([{ smsc_message_id: 'recent' }]);
    await database.store.db.deleteFrom('parked_receipts').execute();
  });

  it('fails a multipart message with the code of its failed part, whatever the order of the parts', async () => {
    const runId = await submittingRun('multipart-fail', [{ carrier: 'mobifone', parts: 3 }]);
    await sut.markSubmitted(runId, 'mobifone', [{ id: 1, smscMessageIds: ['mf1', 'mf2', 'mf3'] }]);

    await sut.applyReceipts([receipt('mobifone', 'mf3', 'delivered'), receipt('mobifone', 'mf2', 'undeliverable', '027')]);
    await sut.applyReceipts([receipt('mobifone', 'mf1', 'delivered')]);

    expect(await message(runId, 1)).toMatchObject({ state: 'undeliverable', error_code: '027', parts_delivered: 1 });
  });
});
