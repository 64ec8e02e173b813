import type { CarrierId, CarrierProfile } from '../../src/domain/carrier.js';
import { mobifone } from './mobifone.js';
import { viettel } from './viettel.js';
import { vnpt } from './vnpt.js';

export { mobifone, viettel, vnpt };

/** Every carrier Loa sends through, by id. */
export const CARRIER_PROFILES: Readonly<Record<CarrierId, CarrierProfile>> = Object.freeze({ viettel, vnpt, mobifone });
