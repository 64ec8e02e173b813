import { describe, expect, it } from 'vitest';
import { SmscSimulator, type SmscSimulatorOptions } from '../../src/sim/smsc-simulator.js';
import { SmppSession, type SubmitResult } from '../../src/smpp/session.js';
import { eventually, numberIn, submitterFor, testLogger, testParts, useCleanups } from '../helpers/smpp.js';

const credentials = { systemId: 'loa-clock', password: 'secret' };

/** A clock the test moves by hand (monotonic milliseconds, as performance.now). */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let offset = 0;
  return { now: () => performance.now() + offset, advance: (ms) => (offset += ms) };
}

function parts(count: number, offset = 0) {
  return testParts(count, { offset, destination: (i) => numberIn('8486', i), shortMessage: (i) => Buffer.from(`bao dong ${i}`, 'latin1') });
}

/**
 * The production timeouts (10 s response, 3 s probe, 30 s enquire_link period, 5 min without a
 * bind) driven by an injected clock: what a 50 s silence does, without waiting 50 s.
 */
describe('transport timers on an injected clock (issue 9 items 7 and 8)', () => {
  const cleanups = useCleanups();

  async function simulator(options: Partial<SmscSimulatorOptions> = {}): Promise<SmscSimulator> {
    const sim = new SmscSimulator({ carrier: 'viettel', ...credentials, ...options });
    await sim.listen();
    cleanups.push(() => sim.close());
    return sim;
  }

  function session(sim: SmscSimulator, clock: () => number, window = 20): SmppSession {
    const sut = new SmppSession(
      {
        carrier: 'viettel',
        endpoint: { host: sim.host, port: sim.port, ...credentials },
        window,
        clock,
        // Only the reconnect delays are short: every deadline is the default, on the test's clock.
        reconnect: { baseMs: 50, maxMs: 100 },
      },
      testLogger,
    );
    sut.start();
    cleanups.push(() => sut.destroy('test over'));
    return sut;
  }

  it('a silent SMSC: the first response timeout stops the connection, its probe goes unanswered, and the bind is dropped and made again', async () => {
    const clock = manualClock();
    const sim = await simulator();
    const sut = session(sim, clock.now);
    await sut.waitUntilBound(2_000);
    const unbound: string[] = [];
    sut.on('unbound', (reason) => unbound.push(reason));
    expect((await Promise.all(parts(5).map((part) => sut.submit(part.pdu)))).every((result: SubmitResult) => result.kind === 'ok')).toBe(true);

    sim.stopAnswering();
    const inFlight = parts(20, 100).map((part) => sut.submit(part.pdu));
    expect(sut.hasCapacity).toBe(false); // window full
    clock.advance(10_001);
    const results = await Promise.all(inFlight);
    expect(results.every((result: SubmitResult) => result.kind === 'ambiguous' && result.reason === 'response-timeout')).toBe(true);
    // The window is empty again, yet the connection takes nothing until it answers the probe.
    expect(sut.isBound).toBe(true);
    expect(sut.hasCapacity).toBe(false);
    expect(await sut.submit(parts(1, 500)[0]!.pdu)).toEqual({ kind: 'unsent', reason: 'not-bound' });
    expect(sim.stats.ignoredWhileSilent).toBe(20);

    clock.advance(3_001);
    await eventually(() => unbound.length === 1, 3_000, 'the probe to drop the bind');
    expect(unbound[0]).toMatch(/enquire_link probe not answered within 3000 ms/);
    // Nothing more went into the silence: one window, not one per response timeout.
    expect(sim.stats.ignoredWhileSilent).toBe(20);

    sim.resumeAnswering();
    await sut.waitUntilBound(3_000);
    expect(await sut.submit(parts(1, 600)[0]!.pdu)).toMatchObject({ kind: 'ok' });
  });

  it('an SMSC slow to answer submits but alive: the probe is answered and the same connection sends again', async () => {
    const clock = manualClock();
    // Submit responses take a minute of real time (never within the test); enquire_link is answered at once.
    const sim = await simulator({ latencyMs: 60_000 });
    const sut = session(sim, clock.now);
    await sut.waitUntilBound(2_000);
    const unbound: string[] = [];
    sut.on('unbound', (reason) => unbound.push(reason));

    const pending = parts(3).map((part) => sut.submit(part.pdu));
    clock.advance(10_001);
    expect((await Promise.all(pending)).every((result: SubmitResult) => result.kind === 'ambiguous')).toBe(true);
    await eventually(() => sut.hasCapacity, 3_000, 'the probe to be answered');
    expect(sut.isBound).toBe(true);
    expect(unbound).toEqual([]);

    // On probation: one submit at a time until one is answered, so a stuck core costs one PDU per timeout.
    const received = sim.stats.received;
    const first = sut.submit(parts(1, 10)[0]!.pdu);
    expect(sut.hasCapacity).toBe(false);
    expect(await sut.submit(parts(1, 11)[0]!.pdu)).toEqual({ kind: 'unsent', reason: 'window-full' });
    clock.advance(10_001);
    expect(await first).toMatchObject({ kind: 'ambiguous', reason: 'response-timeout' });
    await eventually(() => sut.hasCapacity, 3_000, 'the second probe to be answered');
    expect(sim.stats.received - received).toBe(1);

    // Answering again: the first answer ends probation and the whole window is used.
    sim.setLatency(0);
    expect(await sut.submit(parts(1, 12)[0]!.pdu)).toMatchObject({ kind: 'ok' });
    const burst = await Promise.all(parts(20, 20).map((part) => sut.submit(part.pdu)));
    expect(burst.every((result) => result.kind === 'ok')).toBe(true);
    expect(unbound).toEqual([]);
  });

  it('no bind for five minutes (the default) returns the waiting parts unsent with the reason', async () => {
    const clock = manualClock();
    const sim = await simulator();
    const sut = session(sim, clock.now);
    await sut.waitUntilBound(2_000);
    await sim.close();
    await eventually(() => !sut.isBound, 3_000, 'the bind to drop');
    const runner = submitterFor('viettel', sut, 100, { clock: clock.now, noBindTimeoutMs: 300_000 });
    cleanups.push(async () => runner.dispose());
    const outcomes: unknown[] = [];
    const done = runner.run([parts(10)], { beforeSend: async (batch) => batch, onResult: (_part, outcome) => void outcomes.push(outcome) });

    // Past the watchdog's real period (1 s): it has noticed no bind, but on the injected clock no time has passed.
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(outcomes).toEqual([]);
    clock.advance(300_001);
    const summary = await done;
    expect(summary).toMatchObject({ parts: 10, unsent: 10, submitted: 0 });
    expect((outcomes as Array<{ outcome: string; reason: string; detail?: string }>).every((outcome) => outcome.outcome === 'unsent' && outcome.reason === 'no-bind' && /no bind to viettel for \d+ ms \(limit 300000 ms\)/.test(outcome.detail ?? ''))).toBe(true);
  });
});
