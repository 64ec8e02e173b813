import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_IDS, type CarrierId } from '../../src/domain/carrier.js';
import { SubmitWorker } from '../../src/jobs/submit.worker.js';
import { idBase } from '../../src/store/compile.repository.js';
import { MessageRepository, ReceiptRepository, RunRepository } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';
import { testLogger, useCleanups } from '../helpers/smpp.js';

describe('engine send path', () => {
  let database: TestDatabase;
  const cleanups = useCleanups();

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
  });

  afterAll(async () => {
    await database.drop();
  });

  async function fixture(options: Parameters<typeof startEngineFixture>[1] = {}): Promise<EngineFixture> {
    const started = await startEngineFixture(database.store, options);
    cleanups.push(() => started.stop());
    return started;
  }

  it('sends 30,000 recipients over three carriers exactly once, and every count adds up to the audience', async () => {
    const perCarrier = 10_000;
    const rows = CARRIER_IDS.flatMap((carrier) => Array.from({ length: perCarrier }, (_, i) => ({ msisdn: subscriber(carrier, i), province: '92', commune: String(31_000 + (i % 7)) })));
    await seedList(database.store, 'big', rows);
    const { engine, sims } = await fixture({
      sim: (carrier) => ({
        receipts: {
          outcomes: { delivered: 0.8, undeliverable: 0.1, expired: 0.1, rejected: 0 },
          earlyProbability: carrier === 'mobifone' ? 0 : 0.2,
          // Mobifone's receipts never come within the test: its messages end `unknown` after validity.
          delayMs: carrier === 'mobifone' ? { min: 600_000, max: 600_000 } : { min: 1, max: 30 },
        },
        // VNPT refuses a few destinations outright (ESME_RINVDSTADR).
        ...(carrier === 'vnpt' ? { rejectDestination: (to: string) => (to.endsWith('37') ? 0x0b : 0) } : {}),
      }),
    });
    const runId = await seedRun(database.store, { id: 'big-run', audience: { lists: ['big'] }, validity: 'PT5S' });

    await engine.queues.enqueueCompile(runId);
    const status = await waitForStatus(engine, runId, (s) => s.state === 'completed', 90_000);

    expect(status.audienceSize).toBe(3 * perCarrier);
    const total = Object.values(status.totals).reduce((a, b) => a + b, 0);
    expect(total).toBe(3 * perCarrier);
    for (const carrier of status.carriers) {
      expect(carrier.total).toBe(perCarrier);
      expect(Object.values(carrier.counts).reduce((a, b) => a + b, 0)).toBe(perCarrier);
      expect(carrier.counts.queued + carrier.counts.submitting + carrier.counts.submitted).toBe(0);
    }
    const byCarrier = Object.fromEntries(status.carriers.map((c) => [c.carrier, c.counts])) as Record<CarrierId, Record<string, number>>;
    const viettel = byCarrier.viettel!;
    expect(viettel, JSON.stringify(viettel)).toMatchObject({ failed: 0, ambiguous: 0, unknown: 0 });
    expect(viettel.delivered! + viettel.undeliverable! + viettel.expired!).toBe(perCarrier);
    expect(viettel.delivered).toBeGreaterThan(perCarrier * 0.7);
    expect(byCarrier.vnpt!.failed).toBe(100);
    expect(byCarrier.mobifone!.unknown).toBe(perCarrier);
    // Per commune, the same totals.
    const communeTotal = status.communes.reduce((sum, area) => sum + Object.values(area.counts).reduce((a, b) => a + (b ?? 0), 0), 0);
    expect(communeTotal).toBe(3 * perCarrier);

    // The SMSCs saw every recipient exactly once (VNPT's refused ones are not accepted submits).
    for (const carrier of CARRIER_IDS) {
      const seen = sims[carrier].submitsByDestination();
      expect([...seen.values()].every((parts) => parts.length === 1)).toBe(true);
      expect(seen.size).toBe(carrier === 'vnpt' ? perCarrier - 100 : perCarrier);
    }
    // The counters agree with the rows themselves.
    const counted = await new MessageRepository(database.store.db, database.store.pool).countsByState(runId);
    expect(counted).toEqual(status.totals);
    const refused = await database.store.db.selectFrom('messages').select(['submit_status', 'error_code']).where('run_id', '=', runId).where('state', '=', 'failed').distinct().execute();
    expect(refused).toEqual([{ submit_status: 0x0b, error_code: null }]);
  }, 120_000);

  it('sends long Vietnamese UCS-2 messages whole, and delivers a message only when all its parts are', async () => {
    const text =
      'KHẨN - Sở TTTT Kiên Giang: Từ 0h ngày 19/7/2021 toàn tỉnh giãn cách xã hội theo Chỉ thị 16/CT-TTg. Người dân ở nhà, chỉ ra ngoài khi thật cần thiết. Đường dây nóng Sở Y tế: 1900 3228 😷';
    await seedList(database.store, 'long', Array.from({ length: 300 }, (_, i) => ({ msisdn: subscriber('viettel', 500_000 + i) })));
    const { engine, sims } = await fixture({ sim: () => ({ receipts: { outcomes: { delivered: 0.9, undeliverable: 0.1, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 20 } } }) });
    const runId = await seedRun(database.store, { id: 'long-run', priority: 'urgent', audience: { lists: ['long'] }, message: { text, encoding: 'ucs2', sender: { viettel: 'STTTT-KG', vnpt: 'STTTT-KG', mobifone: 'STTTT-KG' } } });

    await engine.queues.enqueueCompile(runId, { priority: 'urgent' });
    const status = await waitForStatus(engine, runId, (s) => s.state === "completed", 15_000);

    const messages = sims.viettel.reassemble();
    expect(messages).toHaveLength(300);
    expect(messages.every((m) => m.complete && m.duplicates === 0 && m.text === text)).toBe(true);
    const parts = sims.viettel.submits.length / 300;
    expect(parts).toBeGreaterThanOrEqual(3);
    // A message is delivered only when each of its parts was: count from the SMSC's own outcomes.
    const allDelivered = [...sims.viettel.submitsByDestination().values()].filter((records) => records.every((r) => r.outcome === 'delivered')).length;
    expect(status.totals.delivered).toBe(allDelivered);
    expect(status.totals.delivered + status.totals.undeliverable).toBe(300);
  }, 90_000);

  it('sends nothing twice when a batch job is delivered twice', async () => {
    await seedList(database.store, 'twice', Array.from({ length: 2_000 }, (_, i) => ({ msisdn: subscriber('vnpt', 700_000 + i) })));
    const { sims, binds } = await fixture();
    const runId = await seedRun(database.store, { id: 'twice-run', audience: { lists: ['twice'] } });
    const runs = new RunRepository(database.store.db);
    const messages = new MessageRepository(database.store.db, database.store.pool);
    // Compile through the engine's own worker would start sending at once; write the rows directly.
    await messages.copyQueued(
      runId,
      Array.from({ length: 2_000 }, (_, i) => ({ msisdn: subscriber('vnpt', 700_000 + i), carrier: 'vnpt' as const, partsTotal: 1 })),
      { firstId: idBase('vnpt') + 1 },
    );
    await runs.setState(runId, 'compiling');
    await runs.setState(runId, 'running');
    const workers = [1, 2].map(
      () => new SubmitWorker({ runs, messages, receipts: new ReceiptRepository(database.store.db, database.store.pool), pools: binds.pools, late: { expect: () => undefined }, claim: () => 1, logger: testLogger }),
    );
    cleanups.push(async () => workers.forEach((w) => w.dispose()));
    const job = { runId, carrier: 'vnpt' as const, fromId: idBase('vnpt') + 1, toId: idBase('vnpt') + 2_000 };

    // The same job, delivered to two workers at once, then once more after both finished.
    const [a, b] = await Promise.all(workers.map((w) => w.process(job)));
    const again = await workers[0]!.process(job);

    expect(a!.claimed + b!.claimed).toBe(2_000);
    expect(again.claimed).toBe(0);
    const seen = sims.vnpt.submitsByDestination();
    expect(seen.size).toBe(2_000);
    expect([...seen.values()].every((records) => records.length === 1)).toBe(true);
  }, 60_000);

  it('stops gracefully mid-run: what was sent is recorded, the rest is queued again, nothing is left submitting', async () => {
    await seedList(database.store, 'graceful', Array.from({ length: 3_000 }, (_, i) => ({ msisdn: subscriber('viettel', 900_000 + i) })));
    const fixture1 = await fixture({ sim: () => ({ latencyMs: { min: 20, max: 40 } }), window: 10 });
    // Receipts the first SMSC still owed when it closed never come: those messages end `unknown`.
    const runId = await seedRun(database.store, { id: 'graceful-run', audience: { lists: ['graceful'] }, validity: 'PT3S' });

    await fixture1.engine.queues.enqueueCompile(runId);
    await waitForStatus(fixture1.engine, runId, (s) => s.totals.submitted + s.totals.delivered >= 200, 30_000);
    await fixture1.stop();

    const counts = await new MessageRepository(database.store.db, database.store.pool).countsByState(runId);
    expect(counts.submitting).toBe(0);
    expect(counts.ambiguous).toBe(0);
    expect(counts.queued).toBeGreaterThan(0);
    const atSmsc = fixture1.sims.viettel.submits.length;
    expect(counts.submitted + counts.delivered + counts.unknown).toBe(atSmsc);
    expect(counts.queued + counts.submitted + counts.delivered + counts.unknown).toBe(3_000);
    // A worker started afterwards (its Redis empty: the queues are rebuilt from PostgreSQL) sends the rest, once.
    const fixture2 = await fixture();
    await fixture2.engine.queues.resume(runId);
    const status = await waitForStatus(fixture2.engine, runId, (s) => s.state === 'completed', 30_000);
    expect(status.totals.delivered + status.totals.unknown).toBe(3_000);
    expect(status.totals.delivered).toBeGreaterThan(2_800);
    expect(fixture2.sims.viettel.submits.length + atSmsc).toBe(3_000);
  }, 90_000);

  it('pauses the run after N consecutive failed submits', async () => {
    await seedList(database.store, 'refused', Array.from({ length: 500 }, (_, i) => ({ msisdn: subscriber('vnpt', 850_000 + i) })));
    const { engine } = await fixture({ sim: (carrier) => (carrier === 'vnpt' ? { rejectDestination: () => 0x0b } : {}), engine: { submit: { maxConsecutiveFailures: 20 } } });
    const runId = await seedRun(database.store, { id: 'refused-run', audience: { lists: ['refused'] } });

    await engine.queues.enqueueCompile(runId);
    const status = await waitForStatus(engine, runId, (s) => s.state === 'paused', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const settled = (await engine.status.get(runId))!;

    expect(status.error).toMatch(/consecutive failed submits on vnpt, the last ESME_RINVDSTADR/);
    expect(settled.totals.failed).toBeGreaterThanOrEqual(20);
    expect(settled.totals.failed).toBeLessThan(500);
    expect(settled.totals.failed + settled.totals.queued).toBe(500);

    // Resumed (the API moves it back to running, then asks for its batches again): the rest is tried.
    await new RunRepository(database.store.db).setState(runId, 'running', { error: null });
    await engine.queues.resume(runId);
    const again = await waitForStatus(engine, runId, (s) => s.state === 'paused' && s.totals.failed >= 40, 30_000);
    expect(again.totals.failed + again.totals.queued).toBe(500);
  }, 60_000);

  it('pauses the run with the reason when the SMSC answers a stop-run status', async () => {
    await seedList(database.store, 'badsource', Array.from({ length: 500 }, (_, i) => ({ msisdn: subscriber('mobifone', 800_000 + i) })));
    const { engine } = await fixture({ sim: (carrier) => (carrier === 'mobifone' ? { rejectDestination: () => 0x0a } : {}) });
    const runId = await seedRun(database.store, { id: 'badsource-run', audience: { lists: ['badsource'] } });

    await engine.queues.enqueueCompile(runId);
    const status = await waitForStatus(engine, runId, (s) => s.state === 'paused', 30_000);
    // Let the jobs settle their writes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const settled = (await engine.status.get(runId))!;

    expect(status.error).toMatch(/mobifone answered ESME_RINVSRCADR \(0x0000000a\)/);
    expect(settled.totals.failed).toBeGreaterThan(0);
    expect(settled.totals.submitting).toBe(0);
    expect(settled.totals.failed + settled.totals.queued).toBe(500);
  }, 60_000);
});
