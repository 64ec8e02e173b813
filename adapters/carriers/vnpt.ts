import type { CarrierProfile } from '../../src/domain/carrier.js';
import { createErrorMeaning, type VendorStatus } from '../../src/domain/smpp-status.js';

/**
 * VNPT's vendor command_status codes (0x400–0x4FF). None are documented in the material we
 * have; add each one from the contract's SMPP annex. Until then an undocumented vendor code is
 * permanent (see createErrorMeaning).
 */
export const VNPT_VENDOR_STATUSES: Readonly<Record<number, VendorStatus>> = {};

/**
 * VNPT (Vinaphone). 087 is iTel, an MVNO on Vinaphone's network, but it is a separate carrier
 * for routing (unroutable here). The numbers below are defaults: the carriers YAML
 * (LOA_CARRIERS) overrides tps, window, binds and message-id formats per contract.
 */
export const vnpt: CarrierProfile = {
  id: 'vnpt',
  name: 'VNPT (Vinaphone)',
  prefixes: ['081', '082', '083', '084', '085', '088', '091', '094'],
  defaults: {
    tps: 100,
    window: 20,
    maxBinds: 2,
    bindMode: 'transceiver',
    messageId: { submit: 'dec', receipt: 'dec' },
  },
  // Contract-specific: this brandname contract does not accept UCS-2, so text is sent unaccented.
  ucs2WithBrandname: false,
  errorMeaning: createErrorMeaning('VNPT', VNPT_VENDOR_STATUSES),
};
