import { describe, expect, it } from 'vitest';
import { SmscSimulator, type SmscSimulatorOptions } from '../../src/sim/smsc-simulator.js';
import { Submitter } from '../../src/smpp/submitter.js';
import { batchesOf, boundSessions, numberIn, submitterFor, testParts, useCleanups } from '../helpers/smpp.js';

const credentials = { systemId: 'loa-cap', password: 'secret' };

function parts(count: number) {
  return testParts(count, { destination: (i) => numberIn('8491', i), shortMessage: (i) => Buffer.from(`test ${i}`, 'latin1') });
}

describe(`${Submitter.name} against a capped SMSC`, () => {
  const cleanups = useCleanups();

  /** A simulator and `binds` sessions on it, each bound. */
  async function setUp(simOptions: Partial<SmscSimulatorOptions>, binds: number, window: number) {
    const sim = new SmscSimulator({ carrier: 'vnpt', ...credentials, ...simOptions });
    await sim.listen();
    const { sessions, source, close } = await boundSessions(
      { host: sim.host, port: sim.port, ...credentials },
      { carrier: 'vnpt', count: binds, window, label: (i) => `vnpt/${i}`, bindTimeoutMs: 5_000 },
    );
    cleanups.push(async () => {
      await close();
      await sim.close();
    });
    return { sim, sessions, source };
  }

  it('never exceeds the granted TPS, measured at the SMSC per second', async () => {
    const cap = 300;
    const { sim, source } = await setUp({ tps: cap }, 2, 50);
    const sut = submitterFor('vnpt', source, cap / 2);
    const summary = await sut.run(batchesOf(parts(900), 100), { beforeSend: async (batch) => batch, onResult: () => {} });
    sut.dispose();

    expect(summary).toMatchObject({ parts: 900, submitted: 900, failed: 0, ambiguous: 0, unsent: 0 });
    expect(sim.maxAcceptedPerSecond()).toBeLessThanOrEqual(cap);
    // What the client sent, throttled or not, stays within the cap too (1 % headroom for arrival jitter).
    expect(Math.max(...sim.receivedPerSecond.values())).toBeLessThanOrEqual(cap);
    expect(sim.stats.accepted).toBe(900);
  });

  it('slows down on ESME_RTHROTTLED when the SMSC allows less than granted (AIMD), and still submits everything', async () => {
    const cap = 150;
    const { sim, source } = await setUp({ tps: cap }, 2, 50);
    const grantPerBind = 150; // twice what the SMSC really allows in total
    const sut = submitterFor('vnpt', source, grantPerBind);
    let lowestRate = Number.POSITIVE_INFINITY;
    const sampler = setInterval(() => {
      for (const rate of Object.values(sut.rates())) lowestRate = Math.min(lowestRate, rate);
    }, 50);
    const count = 600;
    const summary = await sut.run(batchesOf(parts(count), 100), { beforeSend: async (batch) => batch, onResult: () => {} });
    clearInterval(sampler);
    sut.dispose();

    expect(summary).toMatchObject({ parts: count, submitted: count, failed: 0, ambiguous: 0, unsent: 0 });
    expect(summary.throttled).toBeGreaterThan(0);
    expect(summary.throttled).toBe(sim.stats.throttled);
    if (process.env.SMPP_DEBUG) console.log(summary, lowestRate, [...sim.receivedPerSecond.values()]);
    expect(lowestRate).toBeLessThan(grantPerBind * 0.8);
    // Without AIMD half of all attempts would be refused, every second.
    expect(summary.throttled).toBeLessThan(count / 2);
    expect(sim.maxAcceptedPerSecond()).toBeLessThanOrEqual(cap);
    expect(sim.submits).toHaveLength(count);
  });

  it('keeps within the SMSC window, and pauses then retries when the SMSC says its queue is full', async () => {
    const { sim, source } = await setUp({ window: 5, latencyMs: 15 }, 1, 10);
    const sut = submitterFor('vnpt', source, 10_000, { retry: { queueFullPauseMs: 30 } });
    const summary = await sut.run(batchesOf(parts(200), 50), { beforeSend: async (batch) => batch, onResult: () => {} });
    sut.dispose();

    expect(summary).toMatchObject({ parts: 200, submitted: 200, failed: 0, ambiguous: 0 });
    expect(sim.stats.queueFull).toBeGreaterThan(0);
    expect(sim.submits).toHaveLength(200);
    expect(new Set(sim.submits.map((record) => record.destination)).size).toBe(200);
  });

  it('stops the run at the first configuration error (invalid source address): the rest is returned unsent', async () => {
    const { sim, source } = await setUp({ rejectDestination: () => 0x0a }, 1, 10);
    const sut = submitterFor('vnpt', source, 10_000);
    const outcomes: string[] = [];
    const summary = await sut.run(batchesOf(parts(500), 50), {
      beforeSend: async (batch) => batch,
      onResult: (_, outcome) => {
        outcomes.push(outcome.outcome === 'unsent' ? `unsent:${outcome.reason}` : outcome.outcome);
      },
    });
    sut.dispose();

    expect(outcomes).toHaveLength(summary.parts);
    expect(summary.failed).toBeGreaterThanOrEqual(1);
    expect(summary.failed).toBeLessThanOrEqual(10);
    expect(summary.submitted).toBe(0);
    expect(summary.unsent).toBe(summary.parts - summary.failed);
    expect(summary.parts).toBeLessThanOrEqual(100);
    expect(new Set(outcomes)).toEqual(new Set(['failed', 'unsent:stop-run']));
    expect(sim.stats.rejected).toBe(summary.failed);
  });

  it('never has more outstanding than its window, so a matching SMSC window never fills', async () => {
    // Measured at the SMSC, which holds each response for latencyMs and counts what is unanswered
    // per connection as each submit arrives: the ESME's real peak, not a sample after a response.
    const { sim, source } = await setUp({ window: 5, latencyMs: 15 }, 1, 5);
    const sut = submitterFor('vnpt', source, 10_000);
    const summary = await sut.run(batchesOf(parts(200), 50), { beforeSend: async (batch) => batch, onResult: () => {} });
    sut.dispose();

    expect(summary).toMatchObject({ parts: 200, submitted: 200 });
    expect(sim.stats.queueFull).toBe(0);
    // The window was used to the full (so the measurement sees the peak), and never more.
    expect(sim.stats.maxOutstanding).toBe(5);
  });
});
