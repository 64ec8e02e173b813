/**
 * Number portability entries (number → carrier now serving it, ../shared/reference/vietnam.md
 * "Number portability"). The tables come from the carriers and from our own exports, and name
 * carriers however their authors like: "Vinaphone", "VNP", "VMS", "Viettel Telecom"… Each name
 * is resolved here to a CarrierId, to another operator (the number is unroutable), or refused
 * where the table is imported: an unknown name must not quietly make numbers unroutable.
 */
import type { CarrierId } from './carrier.js';
import { normalizeMsisdn, type MsisdnInvalidReason } from './msisdn.js';

/** What a carrier name in a portability table means. */
export type PortabilityTarget = { carrier: CarrierId } | { carrier: null; carrierName: string };

const VIETTEL: PortabilityTarget = { carrier: 'viettel' };
const VNPT: PortabilityTarget = { carrier: 'vnpt' };
const MOBIFONE: PortabilityTarget = { carrier: 'mobifone' };
// Names as numbering-plan.ts spells them, so the preview groups ported and allocated numbers together.
const other = (carrierName: string): PortabilityTarget => ({ carrier: null, carrierName });

/** Key: the name lower-cased with everything but letters and digits removed ("VNPT (Vinaphone)" → vnptvinaphone). */
const ALIASES: ReadonlyMap<string, PortabilityTarget> = new Map<string, PortabilityTarget>([
  ...['viettel', 'vietteltelecom', 'viettelmobile', 'vtl', 'vtt'].map((k): [string, PortabilityTarget] => [k, VIETTEL]),
  // GPC (Vietnam GPC) is Vinaphone's company name; VNP its short code.
  ...['vnpt', 'vinaphone', 'vnp', 'vnptvinaphone', 'vinaphonevnpt', 'gpc'].map((k): [string, PortabilityTarget] => [k, VNPT]),
  // VMS is MobiFone's company name.
  ...['mobifone', 'mobi', 'mobiphone', 'vms', 'vmsmobifone', 'mobifonevms'].map((k): [string, PortabilityTarget] => [k, MOBIFONE]),
  // Vietnamobile was HT Mobile until 2009.
  ...['vietnamobile', 'vnmobile', 'vnm', 'htmobile'].map((k): [string, PortabilityTarget] => [k, other('Vietnamobile')]),
  // Gmobile was Beeline Vietnam until 2012; GTel its company.
  ...['gmobile', 'gtel', 'gtelmobile', 'beeline'].map((k): [string, PortabilityTarget] => [k, other('Gmobile')]),
  ...['reddi', 'mobicast'].map((k): [string, PortabilityTarget] => [k, other('Reddi')]),
  ...['itel', 'indochinatelecom'].map((k): [string, PortabilityTarget] => [k, other('iTel')]),
]);

const aliasKey = (name: string): string => name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** The carrier a portability-table name means (case, spaces and punctuation ignored), or null when it is not a name we know. */
export function resolveCarrierName(name: string): PortabilityTarget | null {
  return ALIASES.get(aliasKey(name)) ?? null;
}

/**
 * Why a row was refused: `code` and `value` (the field as given) let a person's language say it;
 * `reason` is the English text (logs, JSON).
 */
export type PortabilityEntryProblem =
  | { ok: false; code: 'msisdn'; value: string; msisdnReason: MsisdnInvalidReason; reason: string }
  | { ok: false; code: 'no-carrier' | 'unknown-carrier'; value: string; reason: string };

export type PortabilityEntryResult = { ok: true; msisdn: string; target: PortabilityTarget } | PortabilityEntryProblem;

/**
 * Check one row of a portability table before it is used: the number must normalise and the
 * carrier name must be one we know. The reason names the field so an importer can print
 * `file:line: reason`.
 */
export function validatePortabilityEntry(msisdn: string, carrier: string): PortabilityEntryResult {
  const number = normalizeMsisdn(msisdn);
  if (!number.ok) return { ok: false, code: 'msisdn', value: msisdn.trim(), msisdnReason: number.reason, reason: `msisdn '${msisdn.trim()}': ${number.message}` };
  const name = carrier.trim();
  if (name === '') return { ok: false, code: 'no-carrier', value: name, reason: 'carrier is empty' };
  const target = resolveCarrierName(name);
  if (!target) {
    return { ok: false, code: 'unknown-carrier', value: name, reason: `carrier '${name}' is not a carrier name we know (e.g. Viettel, VNPT/Vinaphone, Mobifone, Vietnamobile, Gmobile, Reddi, iTel)` };
  }
  return { ok: true, msisdn: number.msisdn, target };
}
