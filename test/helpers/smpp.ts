import { afterEach } from 'vitest';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import type { CarrierId } from '../../src/domain/carrier.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { CarrierReceipt, ReceiptSink } from '../../src/smpp/bind-pool.js';
import { SmppSession, type SmppEndpoint } from '../../src/smpp/session.js';
import { Submitter, type Addressing, type SessionSource, type SubmitPart, type SubmitterOptions } from '../../src/smpp/submitter.js';

/** Silent unless TEST_LOG_LEVEL asks for more. */
export const testLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** Handset number `i` under `prefix` (each test file its own prefix, so its parts are told apart at the SMSC). */
export function numberIn(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(7, '0')}`;
}

/** An alphanumeric sender (TON 5) to an international number (TON 1, NPI 1). */
export function testAddressing(destinationAddr: string, registeredDelivery = 0): Addressing {
  return { sourceAddr: 'SOTTTT', sourceAddrTon: 5, sourceAddrNpi: 0, destinationAddr, destAddrTon: 1, destAddrNpi: 1, registeredDelivery };
}

/** `count` single-part GSM messages; part i has ref i (from `offset`). */
export function testParts(
  count: number,
  options: { destination: (i: number) => string; shortMessage: (i: number) => Buffer; registeredDelivery?: number; offset?: number },
): SubmitPart<number>[] {
  const { offset = 0, registeredDelivery = 0 } = options;
  return Array.from({ length: count }, (_, index) => {
    const i = offset + index;
    return { ref: i, pdu: { ...testAddressing(options.destination(i), registeredDelivery), esmClass: 0, dataCoding: 0, shortMessage: options.shortMessage(i) } };
  });
}

export function* batchesOf<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type UnreadableReceipt = Parameters<ReceiptSink['unreadable']>[0];

/** A receipt sink that keeps what it is given. */
export class CollectingSink implements ReceiptSink {
  readonly receipts: CarrierReceipt[] = [];
  readonly unreadables: UnreadableReceipt[] = [];
  accept(receipt: CarrierReceipt): void {
    this.receipts.push(receipt);
  }
  unreadable(receipt: UnreadableReceipt): void {
    this.unreadables.push(receipt);
  }
}

/** Call inside a describe: what a test pushes is undone after it, last first. */
export function useCleanups(): Array<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** `count` sessions bound to one SMSC, and a SessionSource over them that never announces changes. */
export async function boundSessions(
  endpoint: SmppEndpoint,
  options: { carrier: string; count: number; window: number; label: (i: number) => string; bindTimeoutMs: number; logger?: Logger },
): Promise<{ sessions: SmppSession[]; source: SessionSource; close: () => Promise<void> }> {
  const logger = options.logger ?? testLogger;
  const sessions = Array.from(
    { length: options.count },
    (_, i) => new SmppSession({ carrier: options.carrier, label: options.label(i), endpoint, window: options.window }, logger),
  );
  for (const session of sessions) session.start();
  await Promise.all(sessions.map((session) => session.waitUntilBound(options.bindTimeoutMs)));
  return {
    sessions,
    source: { sessions, on: () => undefined, off: () => undefined },
    close: async () => {
      await Promise.all(sessions.map((session) => session.close()));
    },
  };
}

/** A Submitter with the carrier profile's error meanings and hex submit ids; `overrides` win. */
export function submitterFor(carrier: CarrierId, sessions: SubmitterOptions['sessions'], tpsPerBind: number, overrides: Partial<SubmitterOptions> = {}): Submitter {
  return new Submitter({
    carrier,
    sessions,
    tpsPerBind,
    errorMeaning: CARRIER_PROFILES[carrier].errorMeaning,
    messageIdFormat: 'hex',
    logger: testLogger,
    ...overrides,
  });
}
