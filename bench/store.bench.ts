import { sql } from 'kysely';
import { CARRIER_IDS } from '../src/domain/carrier.js';
import { MessageRepository, type QueuedMessage } from '../src/store/message.repository.js';
import { ReceiptRepository, type ReceiptUpdate } from '../src/store/receipt.repository.js';
import { RunRepository } from '../src/store/run.repository.js';
import { benchStore, rssMb, type Report } from './harness.js';

/** Recipients COPYed; DESIGN.md's compile target is 100,000 recipients/s. */
const COPY_ROWS = 1_000_000;
/** Messages driven through submitting → submitted → delivered; DESIGN.md: ≥ 10,000 receipts/s. */
const FLOW_ROWS = 200_000;
const BATCH = 1000;

function* recipients(count: number): Generator<QueuedMessage> {
  for (let i = 0; i < count; i += 1) {
    yield { msisdn: String(84_900_000_000 + i), carrier: CARRIER_IDS[i % 3]!, province: '92', commune: `c${i % 80}`, partsTotal: 1 };
  }
}

function batchesOf(from: number, to: number): number[][] {
  const batches: number[][] = [];
  for (let first = from; first <= to; first += BATCH) {
    batches.push(Array.from({ length: Math.min(BATCH, to - first + 1) }, (_, i) => first + i));
  }
  return batches;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/**
 * The message store's bulk paths on a throwaway database: COPY of queued recipients, then
 * batches of 1000 through markSubmitting, markSubmitted and applyReceipts, one connection
 * at a time (a single worker's view; several workers run these in parallel).
 */
export async function run(report: Report): Promise<void> {
  const { store, versionId, close } = await benchStore('store');
  try {
    const runs = new RunRepository(store.db);
    const messages = new MessageRepository(store.db, store.pool);
    const receipts = new ReceiptRepository(store.db, store.pool);

    const copyRun = (await runs.createIfAbsent({ campaignVersionId: versionId, occurrenceId: 'copy', scheduledFor: new Date(), launchedBy: 'bench' })).run.id;
    const rssBefore = rssMb();
    const copySeconds = await timed(async () => {
      await messages.copyQueued(copyRun, recipients(COPY_ROWS));
    });
    report({ bench: 'store.copy', value: Math.round(COPY_ROWS / copySeconds), unit: 'rows/s', rows: COPY_ROWS, seconds: +copySeconds.toFixed(2), rssMb: rssMb(), rssBeforeMb: rssBefore });

    // The flow runs on the COPYed run's first FLOW_ROWS messages (a 1M-row partition, as in production).
    const batches = batchesOf(1, FLOW_ROWS);
    const submittingSeconds = await timed(async () => {
      for (const ids of batches) await messages.markSubmitting(copyRun, ids);
    });
    report({ bench: 'store.markSubmitting', value: Math.round(FLOW_ROWS / submittingSeconds), unit: 'rows/s', rows: FLOW_ROWS, batch: BATCH });

    // Carriers are interleaved by id (i % 3); a worker stores one carrier's resps at a time.
    const carrierOf = (id: number) => CARRIER_IDS[(id - 1) % 3]!;
    const submittedSeconds = await timed(async () => {
      for (const ids of batches) {
        for (const carrier of CARRIER_IDS) {
          const own = ids.filter((id) => carrierOf(id) === carrier);
          await receipts.markSubmitted(copyRun, carrier, own.map((id) => ({ id, smscMessageIds: [`${id.toString(16)}a`] })));
        }
      }
    });
    report({ bench: 'store.markSubmitted', value: Math.round(FLOW_ROWS / submittedSeconds), unit: 'rows/s', rows: FLOW_ROWS, batch: BATCH });

    // In production autovacuum analyses message_segments within a minute of the first resps (and
    // then every 10 % of growth); this bench compresses minutes into seconds, so it does it here.
    await sql`ANALYZE message_segments`.execute(store.db);
    const doneAt = new Date();
    const receiptSeconds = await timed(async () => {
      for (const ids of batches) {
        const updates: ReceiptUpdate[] = ids.map((id) => ({ carrier: carrierOf(id), smscMessageId: `${id.toString(16)}a`, state: 'delivered', error: null, doneAt }));
        await receipts.applyReceipts(updates);
      }
    });
    report({ bench: 'store.applyReceipts', value: Math.round(FLOW_ROWS / receiptSeconds), unit: 'rows/s', rows: FLOW_ROWS, batch: BATCH });

    const counts = await messages.countsByState(copyRun);
    if (counts.delivered !== FLOW_ROWS || counts.queued !== COPY_ROWS - FLOW_ROWS) {
      throw new Error(`store bench: unexpected counts ${JSON.stringify(counts)}`);
    }
    const countSeconds = await timed(async () => {
      await messages.countsByCarrierAndState(copyRun);
    });
    report({ bench: 'store.countsByState', value: Math.round(countSeconds * 1000), unit: 'ms', rows: COPY_ROWS });
  } finally {
    await close();
  }
}
