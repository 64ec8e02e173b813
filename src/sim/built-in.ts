import type { CarrierConfig } from '../config.js';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import { SmscSimulator, type ReceiptBehaviour } from './smsc-simulator.js';

export interface BuiltInSimulatorOptions {
  /** Overrides every carrier's TPS cap (0: uncapped). */
  tps?: number;
  window?: number;
  /** Overrides every endpoint's bind limit (0: unlimited). */
  maxBinds?: number;
  receipts?: Partial<ReceiptBehaviour>;
  latencyMs?: number;
}

export interface BuiltInSimulators {
  readonly simulators: readonly SmscSimulator[];
  close(): Promise<void>;
}

/** A demo mix: most messages are delivered, a few fail the ways real ones do. */
const DEMO_RECEIPTS: Partial<ReceiptBehaviour> = {
  outcomes: { delivered: 0.95, undeliverable: 0.03, expired: 0.01, rejected: 0.01 },
  delayMs: { min: 200, max: 2_000 },
  earlyProbability: 0.01,
};

/**
 * One simulated SMSC per carrier endpoint, on the host, port and credentials of the carrier
 * config, capped at the carrier's TPS, window and bind count: `npm start` then runs end to end
 * with no carrier account.
 */
export async function startBuiltInSimulators(
  carriers: Readonly<Record<CarrierId, CarrierConfig>>,
  logger: Logger,
  options: BuiltInSimulatorOptions = {},
): Promise<BuiltInSimulators> {
  const simulators: SmscSimulator[] = [];
  try {
    for (const id of CARRIER_IDS) {
      const carrier = carriers[id];
      for (const endpoint of carrier.binds) {
        const simulator = new SmscSimulator({
          carrier: id,
          host: endpoint.host,
          port: endpoint.port,
          systemId: endpoint.systemId,
          password: endpoint.password,
          tps: options.tps ?? carrier.tps,
          window: options.window ?? carrier.window,
          maxBinds: options.maxBinds ?? endpoint.count,
          messageIds: carrier.messageId,
          receipts: { ...DEMO_RECEIPTS, ...options.receipts },
          latencyMs: options.latencyMs ?? 0,
          // A long-running demo must not grow without bound.
          recordSubmits: false,
          logger,
        });
        simulators.push(simulator);
        await simulator.listen();
      }
    }
  } catch (error) {
    await Promise.all(simulators.map((simulator) => simulator.close()));
    throw error;
  }
  return {
    simulators,
    close: async () => {
      await Promise.all(simulators.map((simulator) => simulator.close()));
    },
  };
}
