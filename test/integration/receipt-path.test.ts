import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarrierConfig } from '../../src/config.js';
import { normalizeMessageId } from '../../src/domain/receipt.js';
import { LateResponses } from '../../src/jobs/late-responses.js';
import { ReceiptMaintenance } from '../../src/jobs/receipt-maintenance.js';
import { ReceiptWriter } from '../../src/jobs/receipt-writer.js';
import { carrierConfigFor } from '../../src/sim/fixtures.js';
import { SmscSimulator } from '../../src/sim/smsc-simulator.js';
import { BindPool, type ReceiptSink } from '../../src/smpp/bind-pool.js';
import { createDb, type Store } from '../../src/store/db.js';
import { MessageRepository } from '../../src/store/message.repository.js';
import { ReceiptRepository } from '../../src/store/receipt.repository.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';
import { eventually, numberIn, submitterFor, testLogger as logger, testParts, useCleanups } from '../helpers/smpp.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const credentials = { systemId: 'loa-receipts', password: 'secret' };
const prefix = `loa-test-receipt-path-${randomUUID()}`;
const HEX = { submit: 'hex', receipt: 'hex' } as const;

/** A receipt as an SMSC writes it, TLVs and text, for a hex id. */
function receiptPdu(hexId: string, stat: 'DELIVRD' | 'UNDELIV' = 'DELIVRD') {
  const text = `id:${hexId} sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:${stat} err:000 text:`;
  return { esmClass: 0x04, receiptedMessageId: hexId, messageState: stat === 'DELIVRD' ? 2 : 5, shortMessage: Buffer.from(text, 'latin1') };
}

describe('receipt path (bind pool → writer → PostgreSQL → deliver_sm_resp)', () => {
  const cleanups = useCleanups();
  let database: TestDatabase;
  let messages: MessageRepository;
  let receipts: ReceiptRepository;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });

  beforeAll(async () => {
    database = await createTestDatabase();
    messages = new MessageRepository(database.store.db, database.store.pool);
    receipts = new ReceiptRepository(database.store.db, database.store.pool);
  });
  afterAll(async () => {
    redis.disconnect();
    await database.drop();
  });

  async function simulator(options: Partial<ConstructorParameters<typeof SmscSimulator>[0]> = {}): Promise<SmscSimulator> {
    const sim = new SmscSimulator({ carrier: 'viettel', ...credentials, messageIds: HEX, ...options });
    await sim.listen();
    cleanups.push(() => sim.close());
    return sim;
  }

  async function pool(carrier: CarrierConfig, sink: ReceiptSink, session: ConstructorParameters<typeof BindPool>[0]['session'] = {}): Promise<BindPool> {
    const sut = new BindPool({ carrier, redis, prefix: `${prefix}:${randomUUID()}`, receiptSink: sink, logger, leaseMs: 3_000, session });
    cleanups.push(() => sut.stop());
    await sut.start();
    await eventually(() => sut.boundCount === 1, 5_000, 'a bind');
    return sut;
  }

  /** A store whose PostgreSQL connection the test can cut for real. */
  async function cuttableStore(): Promise<{ store: Store; proxy: TcpProxy }> {
    const url = new URL(database.url);
    const proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    url.hostname = '127.0.0.1';
    url.port = String(await proxy.listen());
    const store = createDb(url.toString(), { max: 2 });
    await store.db.selectFrom('runs').select('id').execute(); // a pooled connection the outage will cut
    cleanups.push(async () => {
      await store.close();
      await proxy.close();
    });
    return { store, proxy };
  }

  /** `count` single-part viettel messages, submitted with hex SMSC ids `base + i`. */
  async function submittedRun(name: string, count: number, base: number): Promise<{ runId: number; hexIds: string[] }> {
    const runId = await seedRun(database.store, name);
    await messages.copyQueued(runId, Array.from({ length: count }, (_, i) => ({ msisdn: String(84_930_000_000 + i), carrier: 'viettel' as const, partsTotal: 1 })));
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    await messages.markSubmitting(runId, ids);
    const hexIds = ids.map((id) => (base + id).toString(16).toUpperCase());
    await receipts.markSubmitted(runId, 'viettel', ids.map((id, i) => ({ id, smscMessageIds: [normalizeMessageId(hexIds[i]!, 'hex')] })));
    return { runId, hexIds };
  }

  it('answers deliver_sm only once its receipt is durable, and loses none while PostgreSQL is away', async () => {
    const { runId, hexIds } = await submittedRun('durable', 20, 0x10_000);
    const sim = await simulator();
    const { store, proxy } = await cuttableStore();
    const writer = new ReceiptWriter(new ReceiptRepository(store.db, store.pool), logger, { flushEveryMs: 10 });
    cleanups.push(() => writer.close());
    await pool(carrierConfigFor(sim, credentials, { id: 'viettel', messageId: HEX }), writer);

    proxy.down();
    for (const hexId of hexIds) sim.sendDeliverSm(receiptPdu(hexId));
    await eventually(() => writer.pending === 20, 5_000, 'the receipts read');
    await new Promise((resolve) => setTimeout(resolve, 300)); // several flush attempts, all failing
    const answeredDuringOutage = sim.responses.get('deliver_sm_resp') ?? 0;
    proxy.up();
    await eventually(() => sim.responses.get('deliver_sm_resp') === 20, 10_000, 'every deliver_sm_resp');

    expect(answeredDuringOutage).toBe(0);
    expect(writer.pending).toBe(0);
    expect(await messages.countsByState(runId)).toMatchObject({ delivered: 20, submitted: 0 });
  });

  it('stops reading from the SMSC while its unacknowledged receipts are at the bound, and reads the rest after', async () => {
    const { runId, hexIds } = await submittedRun('bounded', 40, 0x20_000);
    const sim = await simulator();
    const { store, proxy } = await cuttableStore();
    const writer = new ReceiptWriter(new ReceiptRepository(store.db, store.pool), logger, { flushEveryMs: 10 });
    cleanups.push(() => writer.close());
    const sut = await pool(carrierConfigFor(sim, credentials, { id: 'viettel', messageId: HEX }), writer, { maxUnackedDeliveries: 5 });

    proxy.down();
    for (const hexId of hexIds) sim.sendDeliverSm(receiptPdu(hexId));
    await eventually(() => writer.pending === 5, 5_000, 'the bound reached');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const heldDuringOutage = writer.pending;
    proxy.up();
    await eventually(() => sim.responses.get('deliver_sm_resp') === 40, 10_000, 'every deliver_sm_resp');

    expect(heldDuringOutage).toBe(5);
    expect(sut.boundCount).toBe(1); // not reading is not a dead link
    expect(await messages.countsByState(runId)).toMatchObject({ delivered: 40 });
  });

  it('keeps an unreadable receipt before acknowledging it', async () => {
    const sim = await simulator();
    const { store, proxy } = await cuttableStore();
    const writer = new ReceiptWriter(new ReceiptRepository(store.db, store.pool), logger, { flushEveryMs: 10 });
    cleanups.push(() => writer.close());
    await pool(carrierConfigFor(sim, credentials, { id: 'viettel', messageId: HEX }), writer);

    proxy.down();
    sim.sendDeliverSm({ esmClass: 0x04, shortMessage: Buffer.from('garbled receipt-path stat:DELIVRD', 'latin1') });
    await eventually(() => writer.pending === 1, 5_000, 'the receipt read');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answeredDuringOutage = sim.responses.get('deliver_sm_resp') ?? 0;
    proxy.up();
    await eventually(() => sim.responses.get('deliver_sm_resp') === 1, 10_000, 'deliver_sm_resp');

    expect(answeredDuringOutage).toBe(0);
    const kept = await database.store.db.selectFrom('unreadable_receipts').select('raw').where('raw', 'like', '%receipt-path%').execute();
    expect(kept).toHaveLength(1);
  });

  it('turns a message ambiguous after a submit time-out into submitted on the late response, and its receipt then applies', async () => {
    // Every submit_sm_resp comes after the 150 ms time-out; the receipt after the late response or,
    // for half of them, before it (then it is parked and the sweep matches it).
    const sim = await simulator({ latencyMs: 500, receipts: { delayMs: { min: 100, max: 1_200 }, outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 } } });
    const writer = new ReceiptWriter(receipts, logger, { flushEveryMs: 10 });
    const late = new LateResponses(receipts, logger, { flushEveryMs: 20 });
    const maintenance = new ReceiptMaintenance(receipts, logger, { retentionDays: null, sweepEveryMs: 50 });
    cleanups.push(async () => {
      await writer.close();
      await late.close();
      await maintenance.stop();
    });
    const sut = await pool(carrierConfigFor(sim, credentials, { id: 'viettel', messageId: HEX, window: 20 }), writer, { timeouts: { submitResponseMs: 150 } });
    late.attach(sut);
    maintenance.start();

    const count = 6;
    const runId = await seedRun(database.store, 'late');
    await messages.copyQueued(runId, Array.from({ length: count }, (_, i) => ({ msisdn: numberIn('8493', i), carrier: 'viettel' as const, partsTotal: 1 })));
    const submitter = submitterFor('viettel', sut, 1_000, { messageIdFormat: 'hex' });
    const parts = testParts(count, { registeredDelivery: 1, destination: (i) => numberIn('8493', i), shortMessage: (i) => Buffer.from(`late ${i}`, 'latin1') }).map((part) => ({
      ...part,
      ref: part.ref + 1,
    }));
    const summary = await submitter.run([parts], {
      beforeSend: async (batch) => {
        const claimed = new Set(await messages.markSubmitting(runId, batch.map((part) => part.ref)));
        return batch.filter((part) => claimed.has(part.ref));
      },
      onResult: async (part, outcome) => {
        if (outcome.outcome !== 'ambiguous' || !outcome.late) return;
        await messages.releaseSubmitting(runId, 'ambiguous', [part.ref]);
        late.expect('viettel', outcome.late, { runId, messageId: part.ref, part: 1 });
      },
    });
    submitter.dispose();
    expect(summary.ambiguous).toBe(count);
    const ambiguous = (await messages.countsByState(runId)).ambiguous;

    await eventually(() => sim.stats.receiptsAcked === count, 10_000, 'every receipt acknowledged');
    let counts = await messages.countsByState(runId);
    for (let i = 0; i < 100 && counts.delivered < count; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      counts = await messages.countsByState(runId);
    }

    expect(ambiguous).toBe(count);
    expect(late.totals.recorded).toBe(count);
    expect(counts).toMatchObject({ delivered: count, ambiguous: 0, submitted: 0 });
  });
});
