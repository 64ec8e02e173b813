/**
 * Vietnam's mobile numbering plan as Loa needs it (../shared/reference/vietnam.md).
 * The carriers Loa sends through also list their prefixes in their profiles
 * (adapters/carriers); a unit test keeps both in agreement.
 */
import type { CarrierId } from './carrier.js';

export interface PrefixOwner {
  /** A carrier Loa sends through, or null for a carrier it does not (the number is unroutable). */
  carrier: CarrierId | null;
  /** Human name, used in reports ("unroutable: Vietnamobile 1,234"). */
  name: string;
}

const VIETTEL: PrefixOwner = { carrier: 'viettel', name: 'Viettel' };
const VNPT: PrefixOwner = { carrier: 'vnpt', name: 'VNPT (Vinaphone)' };
const MOBIFONE: PrefixOwner = { carrier: 'mobifone', name: 'Mobifone' };
const VIETNAMOBILE: PrefixOwner = { carrier: null, name: 'Vietnamobile' };
const GMOBILE: PrefixOwner = { carrier: null, name: 'Gmobile' };
const REDDI: PrefixOwner = { carrier: null, name: 'Reddi' };
// iTel is an MVNO on Vinaphone's radio network, but it is a separate operator with its own SMSC contract.
const ITEL: PrefixOwner = { carrier: null, name: 'iTel' };

/** National 3-digit prefix (10-digit numbers, 0XXXXXXXXX) → owner by allocation (before portability). */
export const MOBILE_PREFIXES: Readonly<Record<string, PrefixOwner>> = {
  '086': VIETTEL,
  '096': VIETTEL,
  '097': VIETTEL,
  '098': VIETTEL,
  '032': VIETTEL,
  '033': VIETTEL,
  '034': VIETTEL,
  '035': VIETTEL,
  '036': VIETTEL,
  '037': VIETTEL,
  '038': VIETTEL,
  '039': VIETTEL,
  '081': VNPT,
  '082': VNPT,
  '083': VNPT,
  '084': VNPT,
  '085': VNPT,
  '088': VNPT,
  '091': VNPT,
  '094': VNPT,
  '089': MOBIFONE,
  '090': MOBIFONE,
  '093': MOBIFONE,
  '070': MOBIFONE,
  '076': MOBIFONE,
  '077': MOBIFONE,
  '078': MOBIFONE,
  '079': MOBIFONE,
  '092': VIETNAMOBILE,
  // Allocated to Vietnamobile in 2019 (vietnam.md): without it such numbers were `unknown-prefix` instead of unroutable.
  '052': VIETNAMOBILE,
  '056': VIETNAMOBILE,
  '058': VIETNAMOBILE,
  '059': GMOBILE,
  '099': GMOBILE,
  '055': REDDI,
  '087': ITEL,
};

/**
 * The 2018 conversion of 11-digit mobile numbers: old 4-digit national prefix → new 3-digit one,
 * the remaining 7 digits unchanged. Applies only to 11-digit national input.
 */
export const PREFIX_CONVERSION_2018: Readonly<Record<string, string>> = {
  // Mobifone
  '0120': '070',
  '0121': '079',
  '0122': '077',
  '0126': '076',
  '0128': '078',
  // Vinaphone
  '0123': '083',
  '0124': '084',
  '0125': '085',
  '0127': '081',
  '0129': '082',
  // Viettel
  '0162': '032',
  '0163': '033',
  '0164': '034',
  '0165': '035',
  '0166': '036',
  '0167': '037',
  '0168': '038',
  '0169': '039',
  // Vietnamobile
  '0186': '056',
  '0188': '058',
  // Gmobile
  '0199': '059',
};
