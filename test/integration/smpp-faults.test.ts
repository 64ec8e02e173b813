import { describe, expect, it } from 'vitest';
import { normalizeMessageId } from '../../src/domain/receipt.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { SmscSimulator, type MalformedPduKind, type SmscSimulatorOptions } from '../../src/sim/smsc-simulator.js';
import { SmppSession, type LateResponse, type SessionAlert, type SessionOptions, type SubmitResult } from '../../src/smpp/session.js';
import type { PartOutcome, Submitter } from '../../src/smpp/submitter.js';
import { batchesOf, eventually, numberIn, submitterFor, testLogger as quietLogger, testParts, useCleanups } from '../helpers/smpp.js';

const credentials = { systemId: 'loa-fault', password: 'secret' };

/** A logger whose warnings and errors the test can read. */
function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
  return { logger, lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function destination(i: number): string {
  return numberIn('8497', i);
}

function parts(count: number, offset = 0) {
  return testParts(count, { offset, destination, shortMessage: (i) => Buffer.from(`canh bao ${i}`, 'latin1') });
}

const FAST: Pick<SessionOptions, 'timeouts' | 'reconnect'> = {
  timeouts: { connectMs: 1_000, bindMs: 500, submitResponseMs: 1_000, enquireLinkIntervalMs: 200, enquireLinkResponseMs: 400, unbindMs: 300, drainMs: 500 },
  reconnect: { baseMs: 50, maxMs: 300, bindRefusedBaseMs: 2_000, bindRefusedMaxMs: 4_000 },
};

describe(`${SmppSession.name} under faults`, () => {
  const cleanups = useCleanups();

  async function simulator(options: Partial<SmscSimulatorOptions> = {}): Promise<SmscSimulator> {
    const sim = new SmscSimulator({ carrier: 'mobifone', ...credentials, ...options });
    await sim.listen();
    cleanups.push(() => sim.close());
    return sim;
  }

  function session(sim: SmscSimulator, options: Partial<SessionOptions> = {}, logger: Logger = quietLogger): SmppSession {
    const sut = new SmppSession({ carrier: 'mobifone', endpoint: { host: sim.host, port: sim.port, ...credentials }, window: 20, ...FAST, ...options }, logger);
    cleanups.push(() => sut.close());
    sut.start();
    return sut;
  }

  function submitter(sut: SmppSession, logger: Logger = quietLogger): Submitter {
    return submitterFor('mobifone', sut, 5_000, { retry: { backoff: { baseMs: 5, maxMs: 50 } }, logger });
  }

  /** Runs `count` parts, calling `fault` once when the SMSC has accepted `after` of them. */
  async function runWithFault(sim: SmscSimulator, sut: SmppSession, count: number, after: number, fault: () => void, logger?: Logger) {
    const outcomes = new Map<number, PartOutcome[]>();
    let injected = false;
    sim.on('submit', () => {
      if (!injected && sim.stats.accepted >= after) {
        injected = true;
        fault();
      }
    });
    const runner = submitter(sut, logger);
    const summary = await runner.run(batchesOf(parts(count), 40), {
      beforeSend: async (batch) => batch,
      onResult: (part, outcome) => {
        outcomes.set(part.ref, [...(outcomes.get(part.ref) ?? []), outcome]);
      },
    });
    runner.dispose();
    expect(injected).toBe(true);
    return { summary, outcomes };
  }

  /** Every part has exactly one outcome; nothing was sent twice; submitted parts reached the SMSC with their id. */
  function expectAccountedFor(sim: SmscSimulator, count: number, outcomes: Map<number, PartOutcome[]>): PartOutcome[] {
    expect(outcomes.size).toBe(count);
    const flat = [...outcomes.values()].map((list) => {
      expect(list).toHaveLength(1);
      return list[0]!;
    });
    const byDestination = sim.submitsByDestination();
    for (const [ref, [outcome]] of outcomes) {
      const records = byDestination.get(destination(ref)) ?? [];
      // Never silently resent: at most once at the SMSC, whatever happened.
      expect(records.length).toBeLessThanOrEqual(1);
      if (outcome!.outcome === 'submitted') {
        expect(records).toHaveLength(1);
        expect(normalizeMessageId(records[0]!.messageId, 'hex')).toBe(outcome!.messageId);
      }
    }
    return flat;
  }

  it('reports the PDUs in flight on a killed bind as ambiguous, never resends them, and reconnects', async () => {
    const sim = await simulator({ latencyMs: 60 });
    const sut = session(sim);
    await sut.waitUntilBound(2_000);
    const { summary, outcomes } = await runWithFault(sim, sut, 300, 60, () => sim.dropAllConnections());

    const flat = expectAccountedFor(sim, 300, outcomes);
    const ambiguous = flat.filter((outcome) => outcome.outcome === 'ambiguous');
    expect(ambiguous.length).toBeGreaterThan(0);
    expect(ambiguous.length).toBeLessThanOrEqual(20);
    expect(ambiguous.every((outcome) => outcome.outcome === 'ambiguous' && outcome.reason === 'connection-lost')).toBe(true);
    expect(summary).toMatchObject({ parts: 300, failed: 0, unsent: 0, ambiguous: ambiguous.length, submitted: 300 - ambiguous.length });
    // The in-flight PDUs had reached the SMSC (it answers after 60 ms): recorded once, reported ambiguous, not resent.
    expect(sim.submits).toHaveLength(300);
    expect(sim.stats.bindsAccepted).toBeGreaterThanOrEqual(2);
    expect(sut.isBound).toBe(true);
  });

  it('reports unanswered PDUs ambiguous when the SMSC goes silent, notices the dead link by enquire_link, and rebinds when it answers again', async () => {
    const sim = await simulator();
    const sut = session(sim);
    await sut.waitUntilBound(2_000);
    const unbound: string[] = [];
    sut.on('unbound', (reason) => unbound.push(reason));
    const { summary, outcomes } = await runWithFault(sim, sut, 200, 50, () => {
      sim.stopAnswering();
      setTimeout(() => sim.resumeAnswering(), 1_200);
    });

    const flat = expectAccountedFor(sim, 200, outcomes);
    const ambiguous = flat.filter((outcome) => outcome.outcome === 'ambiguous');
    expect(ambiguous.length).toBeGreaterThan(0);
    expect(ambiguous.length).toBeLessThanOrEqual(20);
    expect(summary.submitted + summary.ambiguous).toBe(200);
    expect(unbound.some((reason) => /enquire_link/.test(reason))).toBe(true);
    expect(sim.stats.bindsAccepted).toBeGreaterThanOrEqual(2);
  });

  it.each<[MalformedPduKind, RegExp]>([
    ['oversized', /PDU length was too large/],
    ['short-header', /./],
    ['tiny-length', /PDU length was too small/],
    ['bad-tlv', /./],
  ])('survives a malformed PDU (%s): logs it, drops the connection, reconnects and keeps sending', async (kind, message) => {
    const { logger, lines } = capturingLogger();
    const sim = await simulator({ latencyMs: 5 });
    const sut = session(sim, {}, logger);
    await sut.waitUntilBound(2_000);
    const { summary, outcomes } = await runWithFault(sim, sut, 300, 100, () => sim.sendMalformedPdu(kind), logger);

    const flat = expectAccountedFor(sim, 300, outcomes);
    expect(flat.filter((outcome) => outcome.outcome === 'ambiguous').length).toBeLessThanOrEqual(20);
    expect(summary.failed + summary.unsent).toBe(0);
    expect(sim.stats.bindsAccepted).toBeGreaterThanOrEqual(2);
    const warning = lines().find((line) => line.msg === 'SMPP connection error; dropping it');
    expect(warning).toBeDefined();
    expect(String((warning!.err as { message?: string }).message)).toMatch(message);

    // Still working afterwards.
    const runner = submitter(sut, logger);
    const after = await runner.run([parts(50, 1_000)], { beforeSend: async (batch) => batch, onResult: () => {} });
    runner.dispose();
    expect(after).toMatchObject({ parts: 50, submitted: 50 });
  });

  it('drops the connection at once on a header declaring fewer than 16 octets: the submit in flight is ambiguous through the malformed-PDU path', async () => {
    const { logger, lines } = capturingLogger();
    const sim = await simulator({ latencyMs: 10_000 });
    // No enquire_link and no submit timeout for far longer than the wait below: only the reader's
    // own error can end this connection.
    const sut = session(sim, { timeouts: { ...FAST.timeouts, submitResponseMs: 30_000, enquireLinkIntervalMs: 60_000, enquireLinkResponseMs: 30_000 } }, logger);
    await sut.waitUntilBound(2_000);
    const unbound = new Promise<string>((resolve) => sut.once('unbound', resolve));
    const pending = sut.submit(parts(1)[0]!.pdu);
    await eventually(() => sim.stats.received === 1, 1_000, 'the SMSC to get the submit');

    expect(sim.sendMalformedPdu('tiny-length')).toBe(1);
    const reason = await Promise.race([unbound, new Promise<string>((resolve) => setTimeout(() => resolve('still bound: the reader froze'), 5_000))]);
    expect(reason).toMatch(/PDU length was too small/);
    expect(await pending).toEqual({ kind: 'ambiguous', reason: 'connection-lost' });
    const warning = lines().find((line) => line.msg === 'SMPP connection error; dropping it');
    expect(String((warning?.err as { message?: string } | undefined)?.message)).toMatch(/PDU length was too small/);
  });

  it('backs off more and more from an SMSC that drops each bind right after accepting it, and starts over after a bind that stayed up', async () => {
    const { logger, lines } = capturingLogger();
    const sim = await simulator();
    const bindTimes: number[] = [];
    const dropped = 5;
    sim.on('bind', () => {
      bindTimes.push(performance.now());
      if (bindTimes.length <= dropped) setTimeout(() => sim.dropAllConnections(), 5);
    });
    // random 1: every delay is its cap (baseMs · 2ⁿ), so the sequence is exact.
    const sut = session(sim, { reconnect: { ...FAST.reconnect, baseMs: 20, maxMs: 5_000, stableAfterMs: 300 }, random: () => 1 }, logger);
    const retries = (): number[] => lines().filter((line) => line.msg === 'bind lost; reconnecting').map((line) => line.retryInMs as number);
    await eventually(() => bindTimes.length === dropped + 1 && sut.isBound, 5_000, 'the bind that is not dropped');

    expect(retries()).toEqual([20, 40, 80, 160, 320]);
    const gaps = bindTimes.slice(1).map((at, i) => at - bindTimes[i]!);
    expect(gaps[3]!).toBeGreaterThan(2 * gaps[0]!);

    // Up for longer than stableAfterMs: its loss is a fresh start.
    await new Promise((resolve) => setTimeout(resolve, 400));
    sim.dropAllConnections();
    await eventually(() => retries().length === dropped + 1, 2_000, 'the next reconnect');
    expect(retries().at(-1)).toBe(20);
    await eventually(() => bindTimes.length === dropped + 2, 2_000, 'a new bind');
  });

  it('reports a submit_sm_resp that comes after its timeout as a late-response for the ambiguous PDU', async () => {
    const sim = await simulator({ latencyMs: 600 });
    const sut = session(sim, { timeouts: { ...FAST.timeouts, submitResponseMs: 200 } });
    await sut.waitUntilBound(2_000);
    const late = new Promise<LateResponse>((resolve) => sut.once('late-response', resolve));

    const result = await sut.submit(parts(1)[0]!.pdu);
    expect(result).toMatchObject({ kind: 'ambiguous', reason: 'response-timeout' });
    const response = await late;
    expect(response).toEqual({
      connection: (result as Extract<SubmitResult, { reason: 'response-timeout' }>).connection,
      sequence: (result as Extract<SubmitResult, { reason: 'response-timeout' }>).sequence,
      messageId: sim.submits[0]!.messageId,
      status: 0,
    });
  });

  it('rebinds after an SMSC restart and completes the run', async () => {
    const sim = await simulator({ latencyMs: 5 });
    const sut = session(sim);
    await sut.waitUntilBound(2_000);
    const { summary, outcomes } = await runWithFault(sim, sut, 300, 100, () => void sim.restart(200));

    expectAccountedFor(sim, 300, outcomes);
    expect(summary.submitted + summary.ambiguous).toBe(300);
    expect(summary.ambiguous).toBeLessThanOrEqual(20);
    expect(sim.stats.bindsAccepted).toBeGreaterThanOrEqual(2);
  });

  it.each<[string, Partial<typeof credentials>, number]>([
    ['a wrong password', { password: 'wrong' }, 0x0e],
    ['a wrong system id', { systemId: 'nobody' }, 0x0f],
  ])('does not hammer an SMSC that refuses the bind for %s: alerts and backs off long', async (_, wrong, status) => {
    const sim = await simulator();
    const alerts: SessionAlert[] = [];
    const sut = new SmppSession({ carrier: 'mobifone', endpoint: { host: sim.host, port: sim.port, ...credentials, ...wrong }, window: 5, ...FAST }, quietLogger);
    cleanups.push(() => sut.close());
    sut.on('alert', (alert) => alerts.push(alert));
    sut.start();
    await eventually(() => alerts.length > 0, 2_000, 'an alert');
    await new Promise((resolve) => setTimeout(resolve, 700));

    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ carrier: 'mobifone', status, attempts: 1 });
    expect(alerts[0]!.retryInMs).toBeGreaterThanOrEqual(1_000);
    expect(sim.stats.bindsRefused).toBe(1);
    expect(sut.isBound).toBe(false);
    const result = await sut.submit(parts(1)[0]!.pdu);
    expect(result).toEqual({ kind: 'unsent', reason: 'not-bound' });
  });

  it('backs off long when the SMSC refuses an extra bind (ESME_RBINDFAIL)', async () => {
    const sim = await simulator({ maxBinds: 1 });
    const first = session(sim);
    await first.waitUntilBound(2_000);
    const alerts: SessionAlert[] = [];
    const second = session(sim);
    second.on('alert', (alert) => alerts.push(alert));
    await eventually(() => alerts.length > 0, 2_000, 'an alert');
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.status).toBe(0x0d);
    expect(sim.stats.bindsRefused).toBe(1);
    expect(sim.stats.maxConcurrentBinds).toBe(1);
  });

  it('lets outstanding submits be answered before unbinding on close()', async () => {
    const sim = await simulator({ latencyMs: 100 });
    const sut = session(sim);
    await sut.waitUntilBound(2_000);
    const pending: Array<Promise<SubmitResult>> = parts(10).map((part) => sut.submit(part.pdu));
    await eventually(() => sim.stats.accepted === 10, 1_000, 'the SMSC to accept');
    await sut.close();

    const results = await Promise.all(pending);
    expect(results.every((result) => result.kind === 'ok')).toBe(true);
    expect(sim.stats.currentBinds).toBe(0);
    expect(sut.state).toBe('closed');
    expect(await sut.submit(parts(1)[0]!.pdu)).toEqual({ kind: 'unsent', reason: 'not-bound' });
  });

  it('answers enquire_link and unbind from the SMSC, then binds again', async () => {
    const sim = await simulator();
    const sut = session(sim);
    await sut.waitUntilBound(2_000);
    expect(sim.sendToAll('enquire_link')).toBe(1);
    await eventually(() => sim.responses.get('enquire_link_resp') === 1, 1_000, 'enquire_link_resp');
    expect(sim.sendToAll('unbind')).toBe(1);
    await eventually(() => sim.responses.get('unbind_resp') === 1, 1_000, 'unbind_resp');
    await eventually(() => sim.stats.bindsAccepted === 2 && sut.isBound, 2_000, 'a new bind');
    const result = await sut.submit(parts(1)[0]!.pdu);
    expect(result.kind).toBe('ok');
  });

  it('stops offering capacity while the socket is backed up (the package ignores backpressure), and resumes on drain', async () => {
    const sim = await simulator();
    const sut = session(sim, { window: 1_000_000, writeHighWaterBytes: 64 * 1024, timeouts: { ...FAST.timeouts, submitResponseMs: 30_000, enquireLinkIntervalMs: 60_000 } });
    await sut.waitUntilBound(2_000);
    sim.pauseReading();
    const pending: Array<Promise<SubmitResult>> = [];
    const big = { ...parts(1)[0]!.pdu, shortMessage: Buffer.alloc(140, 0x41) };
    while (sut.hasCapacity && pending.length < 400_000) {
      pending.push(sut.submit({ ...big, destinationAddr: destination(pending.length) }));
      if (pending.length % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // The kernel buffers filled, then the socket's own queue passed the high-water mark.
    expect(pending.length).toBeLessThan(400_000);
    expect(sut.hasCapacity).toBe(false);
    expect(sut.outstanding).toBe(pending.length);
    expect(sut.outstanding).toBeLessThan(sut.window);

    const capacity = new Promise<void>((resolve) => sut.once('capacity', () => resolve()));
    sim.resumeReading();
    await capacity;
    const results = await Promise.all(pending);
    expect(results.every((result) => result.kind === 'ok')).toBe(true);
    expect(sim.stats.accepted).toBe(pending.length);
    expect(sut.hasCapacity).toBe(true);
  });

  it('answers every deliver_sm with deliver_sm_resp, receipts that overtake their submit_sm_resp included', async () => {
    const sim = await simulator({ receipts: { delayMs: 0, earlyProbability: 0.5 } });
    const sut = session(sim, { window: 100 });
    const delivered: string[] = [];
    sut.on('deliver', (deliver, ack) => {
      delivered.push(deliver.receiptedMessageId ?? '');
      ack();
    });
    await sut.waitUntilBound(2_000);
    const results = await Promise.all(parts(100).map((part) => sut.submit({ ...part.pdu, registeredDelivery: 1 })));
    expect(results.every((result) => result.kind === 'ok')).toBe(true);
    await eventually(() => delivered.length === 100, 2_000, 'receipts');
    // The acks cross a socket: the simulator counts them once it has read them.
    await eventually(() => sim.stats.receiptsAcked === 100, 2_000, 'deliver_sm_resp at the simulator');
    expect(sim.stats.receiptsAcked).toBe(100);
    expect(sim.responses.get('deliver_sm_resp')).toBe(100);
  });
});
