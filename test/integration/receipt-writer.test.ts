import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiptWriter } from '../../src/jobs/receipt-writer.js';
import { createLogger } from '../../src/logger.js';
import type { CarrierReceipt } from '../../src/smpp/bind-pool.js';
import { MessageRepository } from '../../src/store/message.repository.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';

function receipt(messageId: string, state: CarrierReceipt['state']): CarrierReceipt {
  return { carrier: 'viettel', messageId, state, error: state === 'delivered' ? null : '001', doneAt: new Date(), intermediate: false, raw: `id:${messageId}` };
}

describe(ReceiptWriter.name, () => {
  let database: TestDatabase;
  let messages: MessageRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    messages = new MessageRepository(database.store.db, database.store.pool);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('applies every receipt in batches and parks the ones whose submit is not stored yet', async () => {
    const count = 2500;
    const runId = await seedRun(database.store, 'writer');
    await messages.copyQueued(runId, Array.from({ length: count }, (_, i) => ({ msisdn: String(84_960_000_000 + i), carrier: 'viettel' as const, partsTotal: 1 })));
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    await messages.markSubmitting(runId, ids);
    await messages.markSubmitted(runId, 'viettel', ids.map((id) => ({ id, smscMessageIds: [String(1_000_000 + id)] })));
    const sut = new ReceiptWriter(messages, createLogger('silent'), { maxBatch: 1000, flushEveryMs: 20 });

    for (const id of ids) sut.accept(receipt(String(1_000_000 + id), id % 10 === 0 ? 'undeliverable' : 'delivered'));
    sut.accept(receipt('999', 'delivered')); // no such submit yet: must be parked, not dropped
    await sut.close();

    expect(sut.pending).toBe(0);
    expect(sut.totals).toEqual({ applied: count, duplicates: 0, parked: 1 });
    const counts = await messages.countsByState(runId);
    expect(counts.delivered).toBe(count - count / 10);
    expect(counts.undeliverable).toBe(count / 10);
    const parked = await database.store.db.selectFrom('parked_receipts').select('smsc_message_id').execute();
    expect(parked.map((row) => row.smsc_message_id)).toEqual(['999']);
  });
});
