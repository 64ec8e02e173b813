import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import type { LateResponseTracker } from '../../src/jobs/engine-contract.js';
import { SubmitResultWriter } from '../../src/jobs/submit-results.js';
import { CarrierError } from '../../src/smpp/carrier-error.js';
import type { PartOutcome } from '../../src/smpp/submitter-types.js';
import { MessageRepository, ReceiptRepository } from '../../src/store/index.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';
import { testLogger } from '../helpers/smpp.js';

const submitted = (messageId: string): PartOutcome => ({ outcome: 'submitted', ok: true, ambiguous: false, messageId, rawMessageId: messageId, attempts: 1, session: 's' });
const meaning = CARRIER_PROFILES.vnpt.errorMeaning(0x0b);
const failed: PartOutcome = { outcome: 'failed', ok: false, ambiguous: false, status: 0x0b, meaning, error: new CarrierError('vnpt', meaning), attempts: 1 };
const unsent: PartOutcome = { outcome: 'unsent', ok: false, ambiguous: false, reason: 'aborted', attempts: 0 };
const late: PartOutcome = { outcome: 'ambiguous', ok: false, ambiguous: true, reason: 'response-timeout', attempts: 1, session: 's', late: { connection: 3, sequence: 77 } };

describe(SubmitResultWriter.name, () => {
  let database: TestDatabase;
  let messages: MessageRepository;
  let receipts: ReceiptRepository;
  let runId: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    messages = new MessageRepository(database.store.db, database.store.pool);
    receipts = new ReceiptRepository(database.store.db, database.store.pool);
    runId = await seedRun(database.store);
    await messages.copyQueued(runId, Array.from({ length: 5 }, (_, i) => ({ msisdn: `8491000000${i}`, carrier: 'vnpt' as const, partsTotal: 2 })));
    expect(await messages.claim(runId, { carrier: 'vnpt', fromId: 1, toId: 5, limit: 5, claim: 42 })).toHaveLength(5);
  });

  afterAll(async () => {
    await database.drop();
  });

  it('decides each multipart message from all its parts, tells the receipt path which PDU may answer late, and writes in sets', async () => {
    const expected: unknown[] = [];
    const tracker: LateResponseTracker = { expect: (carrier, lateRef, ref) => void expected.push({ carrier, lateRef, ref }) };
    const sut = new SubmitResultWriter(runId, 'vnpt', { messages, receipts }, tracker, testLogger, { flushEveryMs: 10_000 });

    sut.add({ messageId: 1, part: 2, parts: 2 }, submitted('b1'));
    sut.add({ messageId: 1, part: 1, parts: 2 }, submitted('a1'));
    sut.add({ messageId: 2, part: 1, parts: 2 }, submitted('a2'));
    sut.add({ messageId: 2, part: 2, parts: 2 }, failed);
    sut.add({ messageId: 3, part: 1, parts: 2 }, submitted('a3'));
    sut.add({ messageId: 3, part: 2, parts: 2 }, unsent);
    sut.add({ messageId: 4, part: 1, parts: 2 }, late);
    sut.add({ messageId: 4, part: 2, parts: 2 }, submitted('b4'));
    sut.add({ messageId: 5, part: 1, parts: 2 }, submitted('a5'));
    expect(sut.unsettled).toBe(1);
    await sut.close();

    const rows = await database.store.db
      .selectFrom('messages')
      .select(['id', 'state', 'parts_submitted', 'submit_status', 'claim'])
      .where('run_id', '=', runId)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: 1, state: 'submitted', parts_submitted: 2, submit_status: null, claim: 42 },
      { id: 2, state: 'failed', parts_submitted: expect.any(Number), submit_status: 0x0b, claim: 42 },
      // Partly sent and requeued: it starts over, its part count reset.
      { id: 3, state: 'queued', parts_submitted: 0, submit_status: null, claim: null },
      { id: 4, state: 'ambiguous', parts_submitted: expect.any(Number), submit_status: null, claim: 42 },
      // Its second part never settled: still submitting under this worker's claim.
      { id: 5, state: 'submitting', parts_submitted: 0, submit_status: null, claim: 42 },
    ]);
    expect(expected).toEqual([{ carrier: 'vnpt', lateRef: { connection: 3, sequence: 77 }, ref: { runId, messageId: 4, part: 1 } }]);
    // Every part that went out kept its segment, so its receipt can still match.
    const segments = await database.store.db.selectFrom('message_segments').select('smsc_message_id').where('run_id', '=', runId).execute();
    expect(segments.map((s) => s.smsc_message_id).sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b4']);
    expect(sut.totals).toEqual({ submitted: 1, failed: 1, ambiguous: 1, requeued: 1 });
  });
});
