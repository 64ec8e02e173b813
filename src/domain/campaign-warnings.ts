/**
 * What `loa validate` (and the console) warn about in a valid campaign: it would run, but not as
 * its author expects. Pure: the caller passes the time and the carriers' encoding rules.
 */
import { campaignOperators, type Campaign } from './campaign.js';
import type { CarrierId } from './carrier.js';
import { encodeMessage } from './encoding.js';
import { expandOccurrences, nextOccurrences } from './schedule.js';

/**
 * Messages longer than this many parts (per carrier) get a warning: each part is billed as one SMS.
 * Six parts is about 400 Vietnamese characters with diacritics (UCS-2) or 900 without. An
 * installation may change it with LOA_MAX_PARTS (src/config.ts); the console uses this default.
 */
export const DEFAULT_MAX_PARTS = 6;

export type CampaignWarning =
  /** Every occurrence of the schedule is before `now`: launching it would send nothing. */
  | { kind: 'all-occurrences-past'; last: Date }
  /** Characters this carrier cannot carry (VNPT's unaccented brandname: emoji → `?`). */
  | { kind: 'unsendable-characters'; carrier: CarrierId; characters: string[] }
  /** More parts than `maxParts`: every part is billed as one SMS. */
  | { kind: 'too-many-parts'; carrier: CarrierId; parts: number; maxParts: number };

export interface WarningOptions {
  now: Date;
  maxParts: number;
  /** CarrierProfile.ucs2WithBrandname of each carrier (adapters/carriers). */
  ucs2Allowed: Readonly<Record<CarrierId, boolean>>;
}

/** How far back `all-occurrences-past` looks for the last occurrence. */
const LOOK_BACK_MS = 200 * 366 * 86_400_000;

export function campaignWarnings(campaign: Campaign, options: WarningOptions): CampaignWarning[] {
  const warnings: CampaignWarning[] = [];
  if (campaign.schedule && nextOccurrences(campaign, options.now, 1).length === 0) {
    const past = expandOccurrences(campaign, { from: new Date(options.now.getTime() - LOOK_BACK_MS), to: options.now, limit: 100_000 });
    const last = past.at(-1);
    if (last) warnings.push({ kind: 'all-occurrences-past', last: last.launchAt });
  }
  for (const carrier of campaignOperators(campaign)) {
    const encoded = encodeMessage(campaign.message.text, { policy: campaign.message.encoding, ucs2Allowed: options.ucs2Allowed[carrier], reference: 0 });
    if (encoded.replaced.length > 0) warnings.push({ kind: 'unsendable-characters', carrier, characters: [...new Set(encoded.replaced)] });
    if (encoded.parts.length > options.maxParts) warnings.push({ kind: 'too-many-parts', carrier, parts: encoded.parts.length, maxParts: options.maxParts });
  }
  return warnings;
}
