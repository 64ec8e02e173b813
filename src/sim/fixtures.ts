import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import type { CarrierConfig } from '../config.js';
import type { CarrierId } from '../domain/carrier.js';
import type { SmscSimulator } from './smsc-simulator.js';

/**
 * A carrier config that binds to a running simulator (tests, benchmarks, demos): its host, port
 * and credentials, with `count` binds; everything else from `overrides`.
 */
export function carrierConfigFor(
  simulator: SmscSimulator,
  credentials: { systemId: string; password: string },
  overrides: Partial<Omit<CarrierConfig, 'binds'>> & { id: CarrierId; count?: number },
): CarrierConfig {
  const { count = 1, ...rest } = overrides;
  return {
    systemType: '',
    tps: 100,
    window: 50,
    bindMode: 'transceiver',
    messageId: CARRIER_PROFILES[rest.id].defaults.messageId,
    ...rest,
    binds: [{ host: simulator.host, port: simulator.port, systemId: credentials.systemId, password: credentials.password, count }],
  };
}
