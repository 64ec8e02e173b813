import type { CarrierProfile } from '../../src/domain/carrier.js';
import { createErrorMeaning, type VendorStatus } from '../../src/domain/smpp-status.js';

/**
 * Mobifone's vendor command_status codes (0x400–0x4FF). None are documented in the material
 * we have; add each one from the contract's SMPP annex. Until then an undocumented vendor code
 * is permanent (see createErrorMeaning).
 */
export const MOBIFONE_VENDOR_STATUSES: Readonly<Record<number, VendorStatus>> = {};

/**
 * Mobifone. The numbers below are defaults: the carriers YAML (LOA_CARRIERS) overrides tps,
 * window, binds and message-id formats per contract.
 */
export const mobifone: CarrierProfile = {
  id: 'mobifone',
  name: 'Mobifone',
  prefixes: ['089', '090', '093', '070', '076', '077', '078', '079'],
  defaults: {
    tps: 100,
    window: 30,
    maxBinds: 2,
    bindMode: 'transceiver',
    messageId: { submit: 'hex', receipt: 'hex' },
  },
  // Contract-specific: this brandname contract accepts UCS-2 (Vietnamese with diacritics).
  ucs2WithBrandname: true,
  errorMeaning: createErrorMeaning('Mobifone', MOBIFONE_VENDOR_STATUSES),
};
