import { describe, expect, it } from 'vitest';
import { SmscSimulator } from '../../src/sim/smsc-simulator.js';
import { SmppSession } from '../../src/smpp/session.js';
import { Submitter, type PartOutcome, type SubmitterOptions } from '../../src/smpp/submitter.js';
import { batchesOf, numberIn, submitterFor, testLogger as logger, testParts, useCleanups } from '../helpers/smpp.js';

const credentials = { systemId: 'loa-contract', password: 'secret' };

function destination(i: number): string {
  return numberIn('8493', i);
}

function parts(count: number) {
  return testParts(count, { destination, shortMessage: (i) => Buffer.from(`hop dong ${i}`, 'latin1') });
}

describe(`${Submitter.name} contract with the engine`, () => {
  const cleanups = useCleanups();

  async function setUp(options: Partial<SubmitterOptions> = {}, simOptions: Partial<ConstructorParameters<typeof SmscSimulator>[0]> = {}) {
    const sim = new SmscSimulator({ carrier: 'viettel', ...credentials, ...simOptions });
    await sim.listen();
    const session = new SmppSession({ carrier: 'viettel', endpoint: { host: sim.host, port: sim.port, ...credentials }, window: 10 }, logger);
    session.start();
    await session.waitUntilBound(2_000);
    const sut = submitterFor('viettel', session, 2_000, options);
    cleanups.push(async () => {
      sut.dispose();
      await session.close();
      await sim.close();
    });
    return { sim, session, sut };
  }

  it('on abort, returns the parts not yet sent as unsent and still reports the ones in flight', async () => {
    const { sim, sut } = await setUp({}, { latencyMs: 20 });
    const abort = new AbortController();
    const outcomes = new Map<number, PartOutcome>();
    const summary = await sut.run(
      batchesOf(parts(2_000), 100),
      {
        beforeSend: async (batch) => batch,
        onResult: (part, outcome) => {
          expect(outcomes.has(part.ref)).toBe(false);
          outcomes.set(part.ref, outcome);
          if (outcomes.size === 150) abort.abort();
        },
      },
      abort.signal,
    );

    expect(summary.unsent).toBeGreaterThan(0);
    expect(summary.submitted + summary.unsent).toBe(summary.parts);
    expect(outcomes.size).toBe(summary.parts);
    expect(summary.parts).toBeLessThan(2_000);
    const unsent = [...outcomes].filter(([, outcome]) => outcome.outcome === 'unsent');
    expect(unsent.every(([, outcome]) => outcome.outcome === 'unsent' && outcome.reason === 'aborted')).toBe(true);
    // What was reported unsent really never reached the SMSC.
    const atSmsc = new Set(sim.submits.map((record) => record.destination));
    expect(unsent.some(([ref]) => atSmsc.has(destination(ref)))).toBe(false);
    expect(sim.submits).toHaveLength(summary.submitted);
  });

  it('sends nothing of a batch whose beforeSend fails, and rejects once the parts in flight are settled', async () => {
    const { sim, sut } = await setUp({ prefetchParts: 10 }, { latencyMs: 10 });
    const settled: number[] = [];
    let batches = 0;
    const run = sut.run(batchesOf(parts(300), 50), {
      beforeSend: async (batch) => {
        batches += 1;
        if (batches === 3) throw new Error('database unavailable');
        return batch;
      },
      onResult: (part) => {
        settled.push(part.ref);
      },
    });

    await expect(run).rejects.toThrow('database unavailable');
    // Batches 1 and 2 were marked and settle completely; batch 3 was never marked and never sent.
    expect(settled.sort((a, b) => a - b)).toEqual(Array.from({ length: settled.length }, (_, i) => i));
    expect(settled.length).toBeLessThanOrEqual(100);
    expect(sim.submits.every((record) => Number(record.destination.slice(-7)) < 100)).toBe(true);
    expect(sim.submits.length).toBeLessThanOrEqual(settled.length);
  });

  it('sends only the parts beforeSend says it claimed, and reports only those', async () => {
    const { sim, sut } = await setUp();
    const outcomes: number[] = [];
    // Every odd part's row was claimed by someone else (a job the queue delivered twice).
    const summary = await sut.run(batchesOf(parts(100), 10), {
      beforeSend: async (batch) => batch.filter((part) => part.ref % 2 === 0),
      onResult: (part) => void outcomes.push(part.ref),
    });

    expect(summary).toMatchObject({ parts: 50, submitted: 50 });
    expect(outcomes.every((ref) => ref % 2 === 0)).toBe(true);
    expect(sim.submits.map((record) => Number(record.destination.slice(-7)) % 2)).toEqual(Array.from({ length: 50 }, () => 0));
  });

  it('returns waiting parts unsent when no bind comes up in time', async () => {
    const { sim, session, sut } = await setUp({ noBindTimeoutMs: 300 });
    await session.close();
    const outcomes: PartOutcome[] = [];
    const summary = await sut.run([parts(20)], { beforeSend: async (batch) => batch, onResult: (_, outcome) => void outcomes.push(outcome) });

    expect(summary).toMatchObject({ parts: 20, unsent: 20, submitted: 0 });
    expect(outcomes.every((outcome) => outcome.outcome === 'unsent' && outcome.reason === 'no-bind')).toBe(true);
    expect(sim.submits).toHaveLength(0);
  });

  it('reports every outcome once even when onResult is asynchronous, and awaits it', async () => {
    const { sut } = await setUp();
    const written: number[] = [];
    const summary = await sut.run(batchesOf(parts(200), 25), {
      beforeSend: async (batch) => batch,
      onResult: async (part) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        written.push(part.ref);
      },
    });
    expect(summary.submitted).toBe(200);
    expect(written.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
