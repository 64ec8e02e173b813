/**
 * Offline preview of a campaign against an audience file: who would receive it through which
 * carrier, what each carrier's text looks like after encoding, how many segments that costs and
 * how long it takes at the throttle. Rows are fed one at a time and nothing per row is kept
 * except the dedupe set, so memory stays bounded for millions of rows.
 */
import type { Campaign } from './campaign.js';
import { CARRIER_IDS, type CarrierId, type CarrierProfile } from './carrier.js';
import { encodeMessage } from './encoding.js';
import { MsisdnSet } from './msisdn-set.js';
import { normalizeMsisdn, type MsisdnInvalidReason } from './msisdn.js';
import type { Router } from './routing.js';
import { translator, type MessageKey, type PluralKey } from '../i18n/index.js';

/** English, for the report's `message` fields (JSON, logs); a person's language comes from the CLI. */
const english = translator('en');

/** What a note says, keyed `preview.note.<code>` in the catalogues. */
export const PREVIEW_NOTE_CODES = ['excludeOffline', 'notInOperators', 'stripped', 'strippedNoUcs2', 'replaced'] as const;
export type PreviewNoteCode = (typeof PREVIEW_NOTE_CODES)[number];

/** A note about the preview: a code and its parameters for translation, and the English text. */
export interface PreviewNote {
  code: PreviewNoteCode;
  params: Record<string, string | number>;
  message: string;
}

export const previewNoteKey = (code: PreviewNoteCode): MessageKey | PluralKey => `preview.note.${code}` as MessageKey | PluralKey;

function note(code: PreviewNoteCode, params: Record<string, string | number>): PreviewNote {
  return { code, params, message: english(previewNoteKey(code), params) };
}

/** A row with another number of fields than the header: skipped and counted. */
export interface RowError {
  line: number;
  expected: number;
  got: number;
  /** English. */
  message: string;
}

/** How many example line numbers each problem keeps. */
export const EXAMPLE_LINES = 5;

export interface LineSample {
  count: number;
  /** The first few line numbers (1-based, the header is line 1). */
  lines: number[];
}

export interface CarrierPreview {
  carrier: CarrierId;
  /** In operators: it is sent. Not in operators: counted, not sent. */
  sends: boolean;
  recipients: number;
  ported: number;
  sender: string | null;
  encoding: 'gsm7' | 'ucs2';
  /** The text this carrier's subscribers read (diacritics stripped when the carrier refuses UCS-2 on a brandname). */
  text: string;
  stripped: boolean;
  replaced: string[];
  partsPerMessage: number;
  segments: number;
  /** Segments/s: the campaign throttle, capped by the carrier's granted TPS. */
  tps: number;
  etaSeconds: number;
}

export interface PreviewReport {
  campaignId: string;
  rows: number;
  recipients: number;
  segments: number;
  /** Carriers send in parallel: the slowest one. */
  etaSeconds: number;
  duplicates: number;
  outsideArea: number;
  invalid: Partial<Record<MsisdnInvalidReason, LineSample>>;
  invalidTotal: number;
  /** Malformed CSV rows (bad quoting, wrong number of fields), skipped. */
  rowErrors: RowError[];
  rowErrorTotal: number;
  unroutable: Record<string, number>;
  unroutableTotal: number;
  carriers: CarrierPreview[];
  notes: PreviewNote[];
}

export interface AudiencePreviewOptions {
  campaign: Campaign;
  profiles: Readonly<Record<CarrierId, CarrierProfile>>;
  router: Router;
  /** Granted TPS per carrier (from the carriers config); defaults to each profile's default. */
  grantedTps?: Partial<Record<CarrierId, number>>;
}

interface CarrierCount {
  recipients: number;
  ported: number;
}

export class AudiencePreview {
  private rows = 0;
  private duplicates = 0;
  private outsideArea = 0;
  private invalidTotal = 0;
  private readonly invalid = new Map<MsisdnInvalidReason, LineSample>();
  private readonly rowErrors: RowError[] = [];
  private rowErrorTotal = 0;
  private readonly unroutable = new Map<string, number>();
  private readonly counts: Record<CarrierId, CarrierCount> = {
    viettel: { recipients: 0, ported: 0 },
    vnpt: { recipients: 0, ported: 0 },
    mobifone: { recipients: 0, ported: 0 },
  };
  private readonly seen = new MsisdnSet();
  private readonly provinces: ReadonlySet<string> | null;
  private readonly communes: ReadonlySet<string> | null;

  constructor(private readonly options: AudiencePreviewOptions) {
    const areas = options.campaign.audience.areas;
    this.provinces = areas.province.length > 0 ? new Set(areas.province) : null;
    this.communes = areas.commune.length > 0 ? new Set(areas.commune) : null;
  }

  /** Whether the campaign filters by area (then the audience must carry province/commune). */
  get filtersByArea(): boolean {
    return this.provinces !== null || this.communes !== null;
  }

  /** One subscriber row. */
  add(line: number, msisdn: string, province = '', commune = ''): void {
    this.rows++;
    const result = normalizeMsisdn(msisdn);
    if (!result.ok) {
      this.invalidTotal++;
      let sample = this.invalid.get(result.reason);
      if (!sample) this.invalid.set(result.reason, (sample = { count: 0, lines: [] }));
      sample.count++;
      if (sample.lines.length < EXAMPLE_LINES) sample.lines.push(line);
      return;
    }
    if ((this.provinces && !this.provinces.has(province.trim())) || (this.communes && !this.communes.has(commune.trim()))) {
      this.outsideArea++;
      return;
    }
    if (!this.seen.add(result.msisdn)) {
      this.duplicates++;
      return;
    }
    const route = this.options.router.route(result.msisdn);
    if (route.unroutable) {
      this.unroutable.set(route.carrierName, (this.unroutable.get(route.carrierName) ?? 0) + 1);
      return;
    }
    const count = this.counts[route.carrier];
    count.recipients++;
    if (route.ported) count.ported++;
  }

  /** A row with `got` fields where the header has `expected`; it is skipped and counted. */
  rowError(line: number, expected: number, got: number): void {
    this.rows++;
    this.rowErrorTotal++;
    if (this.rowErrors.length < EXAMPLE_LINES) this.rowErrors.push({ line, expected, got, message: english('preview.rowFields', { expected, count: got }) });
  }

  report(): PreviewReport {
    const { campaign, profiles } = this.options;
    const carriers = CARRIER_IDS.map((carrier): CarrierPreview => {
      const profile = profiles[carrier];
      const sends = campaign.operators.includes(carrier);
      const encoded = encodeMessage(campaign.message.text, { policy: campaign.message.encoding, ucs2Allowed: profile.ucs2WithBrandname, reference: 0 });
      const granted = this.options.grantedTps?.[carrier] ?? profile.defaults.tps;
      const tps = Math.min(campaign.throttle[carrier] ?? granted, granted);
      const { recipients, ported } = this.counts[carrier];
      const segments = sends ? recipients * encoded.parts.length : 0;
      return {
        carrier,
        sends,
        recipients,
        ported,
        sender: campaign.message.sender[carrier] ?? null,
        encoding: encoded.encoding,
        text: encoded.text,
        stripped: encoded.stripped,
        replaced: encoded.replaced,
        partsPerMessage: encoded.parts.length,
        segments,
        tps,
        etaSeconds: segments / tps,
      };
    });
    const sending = carriers.filter((c) => c.sends);
    const notes: PreviewNote[] = [];
    if (campaign.audience.exclude.length > 0) notes.push(note('excludeOffline', { lists: campaign.audience.exclude.join(', ') }));
    for (const c of carriers) {
      if (!c.sends && c.recipients > 0) notes.push(note('notInOperators', { count: c.recipients, carrier: c.carrier }));
      if (c.sends && c.stripped) notes.push(note(profiles[c.carrier].ucs2WithBrandname ? 'stripped' : 'strippedNoUcs2', { carrier: c.carrier }));
      if (c.sends && c.replaced.length > 0) notes.push(note('replaced', { carrier: c.carrier, characters: c.replaced.join(' ') }));
    }
    return {
      campaignId: campaign.id,
      rows: this.rows,
      recipients: sending.reduce((n, c) => n + c.recipients, 0),
      segments: sending.reduce((n, c) => n + c.segments, 0),
      etaSeconds: Math.max(0, ...sending.map((c) => c.etaSeconds)),
      duplicates: this.duplicates,
      outsideArea: this.outsideArea,
      invalid: Object.fromEntries(this.invalid),
      invalidTotal: this.invalidTotal,
      rowErrors: [...this.rowErrors],
      rowErrorTotal: this.rowErrorTotal,
      unroutable: Object.fromEntries(this.unroutable),
      unroutableTotal: [...this.unroutable.values()].reduce((a, b) => a + b, 0),
      carriers,
      notes,
    };
  }
}
