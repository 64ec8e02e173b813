import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { encodeMessage, type EncodingPolicy } from '../../src/domain/encoding.js';
import type { MessageState } from '../../src/domain/message-state.js';
import { normalizeMessageId } from '../../src/domain/receipt.js';
import { carrierConfigFor } from '../../src/sim/fixtures.js';
import { SmscSimulator, type ReceiptOutcome } from '../../src/sim/smsc-simulator.js';
import { BindPool } from '../../src/smpp/bind-pool.js';
import { Submitter, submitSmFor, type PartOutcome, type SubmitPart } from '../../src/smpp/submitter.js';
import { batchesOf, CollectingSink, eventually, numberIn, testAddressing, testLogger as logger, useCleanups } from '../helpers/smpp.js';

const credentials = { systemId: 'loa-test', password: 'secret' };
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 2 });
const prefix = `loa-test-smpp-submit-${randomUUID()}`;

const STATE_OF: Record<ReceiptOutcome, MessageState> = { delivered: 'delivered', undeliverable: 'undeliverable', expired: 'expired', rejected: 'rejected' };

interface Ref {
  message: number;
  part: number;
  destination: string;
}

function destination(i: number): string {
  return numberIn('8498', i);
}

function addressing(to: string) {
  return testAddressing(to, 1);
}

describe(Submitter.name, () => {
  const cleanups = useCleanups();

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  beforeAll(async () => {
    await redis.ping();
  });

  async function setUp(simOptions: Partial<ConstructorParameters<typeof SmscSimulator>[0]>, carrier: { tps: number; window: number; binds: number }) {
    const sim = new SmscSimulator({ carrier: 'viettel', ...credentials, seed: 42, ...simOptions });
    await sim.listen();
    const sink = new CollectingSink();
    const pool = new BindPool({
      carrier: carrierConfigFor(sim, credentials, { id: 'viettel', tps: carrier.tps, window: carrier.window, count: carrier.binds, messageId: { submit: 'hex', receipt: 'dec' } }),
      redis,
      prefix: `${prefix}:${randomUUID()}`,
      receiptSink: sink,
      logger,
      leaseMs: 3_000,
    });
    await pool.start();
    await eventually(() => pool.boundCount === carrier.binds, 5_000, 'binds');
    const sut = new Submitter({
      carrier: 'viettel',
      sessions: pool,
      tpsPerBind: pool.tpsPerBind,
      errorMeaning: CARRIER_PROFILES.viettel.errorMeaning,
      messageIdFormat: pool.messageIdFormats.submit,
      retry: { backoff: { baseMs: 5, maxMs: 50 }, queueFullPauseMs: 20 },
      logger,
    });
    cleanups.push(async () => {
      sut.dispose();
      await pool.stop();
      await sim.close();
    });
    return { sim, sink, pool, sut };
  }

  it('accounts for 10,000 messages with mixed outcomes: one result per part, one receipt per accepted submit', async () => {
    const { sim, sink, pool, sut } = await setUp(
      {
        messageIds: { submit: 'hex', receipt: 'dec' },
        transientErrors: [
          { status: 0x08, ratio: 0.01 },
          { status: 0x64, ratio: 0.005 },
          { status: 0x58, ratio: 0.003 },
          { status: 0x14, ratio: 0.002 },
        ],
        rejectDestination: (to) => (to.endsWith('13') ? 0x0b : 0),
        receipts: { outcomes: { delivered: 0.7, undeliverable: 0.1, expired: 0.1, rejected: 0.1 }, delayMs: { min: 0, max: 30 }, earlyProbability: 0.2 },
      },
      { tps: 40_000, window: 50, binds: 2 },
    );
    const parts: SubmitPart<Ref>[] = Array.from({ length: 10_000 }, (_, i) => {
      const to = destination(i);
      const [part] = encodeMessage(`Thong bao ${i}: tiem chung mui 3 tai tram y te phuong`, { policy: 'auto', ucs2Allowed: true, reference: i % 256 }).parts;
      return { ref: { message: i, part: 1, destination: to }, pdu: submitSmFor(part!, addressing(to)) };
    });
    const outcomes = new Map<number, PartOutcome[]>();
    const marked: number[] = [];
    let sentBeforeMarked = 0;

    const summary = await sut.run(batchesOf(parts, 500), {
      beforeSend: async (batch) => {
        // The contract: nothing of a batch has reached the SMSC before beforeSend resolves.
        const known = new Set(sim.submits.map((record) => record.destination));
        sentBeforeMarked += batch.filter((part) => known.has(part.ref.destination)).length;
        await new Promise((resolve) => setTimeout(resolve, 1));
        marked.push(...batch.map((part) => part.ref.message));
        return batch;
      },
      onResult: (part, outcome) => {
        const list = outcomes.get(part.ref.message) ?? [];
        list.push(outcome);
        outcomes.set(part.ref.message, list);
      },
    });

    expect(sentBeforeMarked).toBe(0);
    expect(marked).toHaveLength(10_000);
    expect(outcomes.size).toBe(10_000);
    expect([...outcomes.values()].every((list) => list.length === 1)).toBe(true);
    const all = [...outcomes.entries()].map(([message, [outcome]]) => ({ message, outcome: outcome! }));
    const failed = all.filter(({ outcome }) => outcome.outcome === 'failed');
    const submitted = all.filter(({ outcome }) => outcome.outcome === 'submitted');
    const rejectedDestinations = parts.filter((part) => part.ref.destination.endsWith('13')).length;
    expect(failed).toHaveLength(rejectedDestinations);
    for (const { message, outcome } of failed) {
      expect(destination(message).endsWith('13')).toBe(true);
      expect(outcome).toMatchObject({ status: 0x0b, meaning: { action: 'rejected' } });
    }
    expect(submitted).toHaveLength(10_000 - rejectedDestinations);
    expect(summary).toMatchObject({ parts: 10_000, submitted: submitted.length, failed: failed.length, ambiguous: 0, unsent: 0 });
    expect(summary.retries).toBeGreaterThan(0);

    // At the SMSC: every submitted part exactly once, nothing else.
    expect(sim.submits).toHaveLength(submitted.length);
    const byDestination = sim.submitsByDestination();
    expect(byDestination.size).toBe(submitted.length);
    const simIds = new Map(sim.submits.map((record) => [normalizeMessageId(record.messageId, 'hex'), record]));
    for (const { message, outcome } of submitted) {
      if (outcome.outcome !== 'submitted') throw new Error('unreachable');
      const record = simIds.get(outcome.messageId);
      expect(record?.destination).toBe(destination(message));
    }

    // Receipts: one per accepted submit, in decimal while responses were hex, matched after normalising.
    await eventually(() => sink.receipts.length >= sim.stats.accepted, 10_000, 'receipts');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.receipts).toHaveLength(sim.stats.accepted);
    const receiptIds = new Set(sink.receipts.map((receipt) => receipt.messageId));
    expect(receiptIds.size).toBe(sink.receipts.length);
    for (const receipt of sink.receipts) {
      const record = simIds.get(receipt.messageId);
      expect(record, `receipt ${receipt.messageId} matches a submit`).toBeDefined();
      expect(receipt.state).toBe(STATE_OF[record!.outcome!]);
      expect(receipt.carrier).toBe('viettel');
    }
    const states = new Set(sink.receipts.map((receipt) => receipt.state));
    expect(states).toEqual(new Set(['delivered', 'undeliverable', 'expired', 'rejected']));
    expect(sim.stats.receiptsAcked).toBe(sim.stats.receiptsSent);
    expect(sim.stats.maxConcurrentBinds).toBeLessThanOrEqual(2);
    expect(pool.boundCount).toBe(2);
  });

  it('delivers long Vietnamese UCS-2 and long GSM texts reassemblable at the handset', async () => {
    const { sim, sut } = await setUp({ receipts: { delayMs: 0 } }, { tps: 10_000, window: 20, binds: 2 });
    const vietnamese = [
      'Sở Thông tin và Truyền thông thông báo: từ 0 giờ ngày 15/9/2021, người dân trên địa bàn thành phố tiếp tục thực hiện giãn cách xã hội theo Chỉ thị 16, ai ở đâu ở yên đó, chỉ ra đường khi thực sự cần thiết.',
      'Đề nghị người dân khai báo y tế điện tử, thực hiện nghiêm thông điệp 5K: Khẩu trang - Khử khuẩn - Khoảng cách - Không tập trung - Khai báo y tế. Mọi thắc mắc xin liên hệ đường dây nóng 1022 hoặc trạm y tế phường, xã nơi cư trú. Trân trọng cảm ơn!'.repeat(2),
      // A surrogate pair right at the 67-unit part boundary must not be split.
      `${'à'.repeat(66)}😀 Chúc mừng năm mới ${'ờ'.repeat(70)} 🎉 hết.`,
      'Ngắn thôi: lịch tiêm chủng tuần này.',
    ];
    const gsm = [
      `Lich tiem chung {dot 3} [phuong 1-12] ~ chi phi 0€ | ${'x'.repeat(140)}^ het \\ cuoi`,
      `${'a'.repeat(152)}€${'b'.repeat(200)}`,
    ];
    const texts: Array<{ text: string; policy: EncodingPolicy }> = [
      ...vietnamese.map((text) => ({ text, policy: 'auto' as const })),
      ...gsm.map((text) => ({ text, policy: 'gsm7' as const })),
      { text: vietnamese[1]!, policy: 'unaccented' as const },
    ];
    const parts: SubmitPart<Ref>[] = [];
    const expected = new Map<string, { text: string; encoding: string; partCount: number }>();
    texts.forEach(({ text, policy }, message) => {
      const to = destination(50_000 + message);
      const encoded = encodeMessage(text, { policy, ucs2Allowed: true, reference: (message * 37) % 256 });
      expected.set(to, { text: encoded.text, encoding: encoded.encoding, partCount: encoded.parts.length });
      for (const part of encoded.parts) parts.push({ ref: { message, part: part.partNumber, destination: to }, pdu: submitSmFor(part, addressing(to)) });
    });
    expect(parts.length).toBeGreaterThan(texts.length * 2);

    const summary = await sut.run(batchesOf(parts, 7), { beforeSend: async (batch) => batch, onResult: () => {} });
    expect(summary).toMatchObject({ parts: parts.length, submitted: parts.length });

    const messages = sim.reassemble();
    expect(messages).toHaveLength(texts.length);
    for (const message of messages) {
      const wanted = expected.get(message.destination)!;
      expect(message.complete).toBe(true);
      expect(message.duplicates).toBe(0);
      expect(message.text).toBe(wanted.text);
    }
    // UCS-2 went out as data_coding 8, GSM as 0, never Latin-1 (3) picked by the package.
    const codings = new Map(sim.submits.map((record) => [record.destination, record.dataCoding]));
    for (const [to, wanted] of expected) expect(codings.get(to)).toBe(wanted.encoding === 'ucs2' ? 8 : 0);
    expect(expected.get(destination(50_000))!.encoding).toBe('ucs2');
    expect(expected.get(destination(50_006))!.text).toContain('Khau trang');
  });
});
