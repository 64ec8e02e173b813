import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiptWriter } from '../../src/jobs/receipt-writer.js';
import { createLogger } from '../../src/logger.js';
import type { CarrierReceipt } from '../../src/smpp/bind-pool.js';
import { MessageRepository } from '../../src/store/message.repository.js';
import { ReceiptRepository } from '../../src/store/receipt.repository.js';
import { createDb } from '../../src/store/db.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

function receipt(messageId: string, state: CarrierReceipt['state']): CarrierReceipt {
  return { carrier: 'viettel', messageId, state, error: state === 'delivered' ? null : '001', doneAt: new Date(), intermediate: false, raw: `id:${messageId}` };
}

describe(ReceiptWriter.name, () => {
  let database: TestDatabase;
  let messages: MessageRepository;
  let receipts: ReceiptRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    messages = new MessageRepository(database.store.db, database.store.pool);
    receipts = new ReceiptRepository(database.store.db, database.store.pool);
  });
  afterAll(async () => {
    await database.drop();
  });

  async function submittedRun(name: string, count: number, firstSmscId: number): Promise<number> {
    const runId = await seedRun(database.store, name);
    await messages.copyQueued(runId, Array.from({ length: count }, (_, i) => ({ msisdn: String(84_970_000_000 + i), carrier: 'viettel' as const, partsTotal: 1 })));
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    await messages.markSubmitting(runId, ids);
    await receipts.markSubmitted(runId, 'viettel', ids.map((id) => ({ id, smscMessageIds: [String(firstSmscId + id)] })));
    return runId;
  }

  it('keeps a receipt PostgreSQL refuses as unreadable and still applies the rest of its batch', async () => {
    const runId = await submittedRun('poison', 3, 2_000_000);
    const sut = new ReceiptWriter(receipts, createLogger('silent'), { flushEveryMs: 20 });

    sut.accept(receipt('2000001', 'delivered'));
    sut.accept({ ...receipt('2000002', 'delivered'), error: 'bad\u0000byte' }); // text PostgreSQL cannot store
    sut.accept(receipt('2000003', 'delivered'));
    await sut.close();

    expect(sut.pending).toBe(0);
    expect(sut.totals).toMatchObject({ applied: 2, unreadable: 1 });
    expect((await messages.countsByState(runId)).delivered).toBe(2);
    const kept = await database.store.db.selectFrom('unreadable_receipts').selectAll().execute();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ carrier: 'viettel', raw: 'id:2000002' });
    expect(kept[0]?.reason).toContain('refused by PostgreSQL');
  });

  it('stores receipts no parser could read, with control bytes made visible', async () => {
    const sut = new ReceiptWriter(receipts, createLogger('silent'), { flushEveryMs: 20 });
    sut.unreadable({ carrier: 'mobifone', raw: 'id:77\u0000 stat:??', reason: 'unknown stat', receivedAt: new Date() });
    await sut.close();
    const kept = await database.store.db.selectFrom('unreadable_receipts').selectAll().where('carrier', '=', 'mobifone').execute();
    expect(kept.map((row) => [row.raw, row.reason])).toEqual([['id:77\\x00 stat:??', 'unknown stat']]);
  });

  it('keeps receipts while PostgreSQL is unreachable and writes them once it answers again', async () => {
    const runId = await submittedRun('outage', 2, 3_000_000);
    const url = new URL(database.url);
    const proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    url.hostname = '127.0.0.1';
    url.port = String(await proxy.listen());
    const store = createDb(url.toString(), { max: 2 });
    const sut = new ReceiptWriter(new ReceiptRepository(store.db, store.pool), createLogger('silent'), { flushEveryMs: 10 });
    try {
      await store.db.selectFrom('runs').select('id').execute(); // a pooled connection the outage will cut
      proxy.down();
      sut.accept(receipt('3000001', 'delivered'));
      sut.accept(receipt('3000002', 'undeliverable'));
      await sut.flush();
      const pendingDuringOutage = sut.pending;
      proxy.up();
      await sut.close();

      expect(pendingDuringOutage).toBe(2);
      expect(sut.totals).toMatchObject({ applied: 2, unreadable: 0 });
      expect(await messages.countsByState(runId)).toMatchObject({ delivered: 1, undeliverable: 1 });
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('applies every receipt in batches and parks the ones whose submit is not stored yet', async () => {
    const count = 2500;
    const runId = await seedRun(database.store, 'writer');
    await messages.copyQueued(runId, Array.from({ length: count }, (_, i) => ({ msisdn: String(84_960_000_000 + i), carrier: 'viettel' as const, partsTotal: 1 })));
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    await messages.markSubmitting(runId, ids);
    await receipts.markSubmitted(runId, 'viettel', ids.map((id) => ({ id, smscMessageIds: [String(1_000_000 + id)] })));
    const sut = new ReceiptWriter(receipts, createLogger('silent'), { maxBatch: 1000, flushEveryMs: 20 });

    for (const id of ids) sut.accept(receipt(String(1_000_000 + id), id % 10 === 0 ? 'undeliverable' : 'delivered'));
    sut.accept(receipt('999', 'delivered')); // no such submit yet: must be parked, not dropped
    await sut.close();

    expect(sut.pending).toBe(0);
    expect(sut.totals).toEqual({ applied: count, duplicates: 0, parked: 1, unreadable: 0 });
    const counts = await messages.countsByState(runId);
    expect(counts.delivered).toBe(count - count / 10);
    expect(counts.undeliverable).toBe(count / 10);
    const parked = await database.store.db.selectFrom('parked_receipts').select('smsc_message_id').execute();
    expect(parked.map((row) => row.smsc_message_id)).toEqual(['999']);
  });
});
