import { CARRIER_IDS } from '../src/domain/carrier.js';
import { MessageRepository, type QueuedMessage } from '../src/store/message.repository.js';
import { ReceiptRepository, type ReceiptUpdate } from '../src/store/receipt.repository.js';
import { RunRepository } from '../src/store/run.repository.js';
import { benchStore, type Report } from './harness.js';

/** Segments of earlier runs already in message_segments, never analysed (issue 8: 1–2 M rows). */
const BACKGROUND_SEGMENTS = 1_500_000;
/** Messages of the measured run: submitted, then one receipt each. */
const ROWS = 200_000;
const BATCH = 1000;

/**
 * `engine.receipts`: receipts applied per second (DESIGN.md goal ≥ 10,000) in batches of 1000,
 * one connection, into a message_segments of BACKGROUND_SEGMENTS + ROWS rows that nobody has
 * ANALYZEd (autovacuum is off on these machines; a real server's lags behind a big run). 20 % of
 * the receipts overtake their submit_sm_resp: parked, then matched by the sweep (counted in).
 */
export async function run(report: Report): Promise<void> {
  const { store, versionId, close } = await benchStore('receipts');
  try {
    const runs = new RunRepository(store.db);
    const messages = new MessageRepository(store.db, store.pool);
    const receipts = new ReceiptRepository(store.db, store.pool);

    await store.pool.query(`SELECT create_day_partition('message_segments', loa_today())`);
    await store.pool.query(
      `INSERT INTO message_segments (carrier, smsc_message_id, run_id, message_id, part, state)
       SELECT (ARRAY['viettel', 'vnpt', 'mobifone']::carrier_id[])[1 + g % 3], 'old-' || g, 1000000 + g / 100000, g, 1, 'delivered'
       FROM generate_series(1, $1::int) g`,
      [BACKGROUND_SEGMENTS],
    );

    const runId = (await runs.createIfAbsent({ campaignVersionId: versionId, occurrenceId: 'receipts', scheduledFor: new Date(), launchedBy: 'bench' })).run.id;
    function* recipients(): Generator<QueuedMessage> {
      for (let i = 0; i < ROWS; i += 1) yield { msisdn: String(84_900_000_000 + i), carrier: CARRIER_IDS[i % 3]!, partsTotal: 1 };
    }
    await messages.copyQueued(runId, recipients());
    const carrierOf = (id: number) => CARRIER_IDS[(id - 1) % 3]!;
    const smscId = (id: number) => String(7_000_000_000 + id);
    const batches: number[][] = [];
    for (let first = 1; first <= ROWS; first += BATCH) batches.push(Array.from({ length: Math.min(BATCH, ROWS - first + 1) }, (_, i) => first + i));
    for (const ids of batches) await messages.markSubmitting(runId, ids);

    // 20 % early: their receipts come before the submit_sm_resp is stored.
    const early = (id: number) => id % 5 === 0;
    const doneAt = new Date();
    const receiptsFor = (ids: number[]): ReceiptUpdate[] =>
      // With the handset, as the bind pool reads it from source_addr (parked with the receipt, 0017).
      ids.map((id) => ({ carrier: carrierOf(id), smscMessageId: smscId(id), state: id % 10 === 3 ? 'undeliverable' : 'delivered', error: null, doneAt, msisdn: String(84_900_000_000 + id) }));

    let start = performance.now();
    for (const ids of batches) await receipts.applyReceipts(receiptsFor(ids.filter(early)));
    const earlySeconds = (performance.now() - start) / 1000;

    start = performance.now();
    for (const ids of batches) {
      for (const carrier of CARRIER_IDS) {
        const own = ids.filter((id) => carrierOf(id) === carrier);
        await receipts.markSubmitted(runId, carrier, own.map((id) => ({ id, smscMessageIds: [smscId(id)] })));
      }
    }
    const submittedSeconds = (performance.now() - start) / 1000;
    report({ bench: 'engine.markSubmitted', value: Math.round(ROWS / submittedSeconds), unit: 'rows/s', rows: ROWS, batch: BATCH / 3, backgroundSegments: BACKGROUND_SEGMENTS });

    start = performance.now();
    for (const ids of batches) await receipts.applyReceipts(receiptsFor(ids.filter((id) => !early(id))));
    const directSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    let swept = 0;
    for (;;) {
      const result = await receipts.matchParked(BATCH);
      swept += result.applied;
      if (result.applied === 0) break;
    }
    const sweepSeconds = (performance.now() - start) / 1000;
    const receiptSeconds = earlySeconds + directSeconds + sweepSeconds;

    const counts = await messages.countsByState(runId);
    if (counts.delivered + counts.undeliverable !== ROWS || swept !== ROWS / 5) {
      throw new Error(`engine.receipts: unexpected counts ${JSON.stringify(counts)}, swept ${swept}`);
    }
    const { rows: analysed } = await store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stats WHERE tablename LIKE 'message_segments%'`);
    report({
      bench: 'engine.receipts',
      value: Math.round(ROWS / receiptSeconds),
      unit: 'receipts/s',
      rows: ROWS,
      batch: BATCH,
      early: ROWS / 5,
      segments: BACKGROUND_SEGMENTS + ROWS,
      analysed: Number(analysed[0]!.n) > 0,
      seconds: { parkEarly: +earlySeconds.toFixed(2), applyDirect: +directSeconds.toFixed(2), sweep: +sweepSeconds.toFixed(2) },
      directPerSecond: Math.round((ROWS * 4) / 5 / directSeconds),
    });
  } finally {
    await close();
  }
}
