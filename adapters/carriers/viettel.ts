import type { CarrierProfile } from '../../src/domain/carrier.js';
import { createErrorMeaning, type VendorStatus } from '../../src/domain/smpp-status.js';

/**
 * Viettel's vendor command_status codes (0x400–0x4FF). None are documented in the material we
 * have; add each one from the contract's SMPP annex. Until then an undocumented vendor code is
 * permanent (see createErrorMeaning).
 */
export const VIETTEL_VENDOR_STATUSES: Readonly<Record<number, VendorStatus>> = {};

/**
 * Viettel. The numbers below are defaults: the carriers YAML (LOA_CARRIERS) overrides tps,
 * window, binds and message-id formats per contract.
 */
export const viettel: CarrierProfile = {
  id: 'viettel',
  name: 'Viettel',
  prefixes: ['086', '096', '097', '098', '032', '033', '034', '035', '036', '037', '038', '039'],
  defaults: {
    tps: 200,
    window: 50,
    maxBinds: 2,
    bindMode: 'transceiver',
    // Viettel's SMSC answers submit_sm_resp with a hex id but writes the receipt id in decimal.
    messageId: { submit: 'hex', receipt: 'dec' },
  },
  // Contract-specific: this brandname contract accepts UCS-2 (Vietnamese with diacritics).
  ucs2WithBrandname: true,
  errorMeaning: createErrorMeaning('Viettel', VIETTEL_VENDOR_STATUSES),
};
