/**
 * Campaign documents: YAML or JSON text → a typed, validated Campaign
 * (schema: campaigns/campaign.schema.json; shape: ../shared/reference/formats.md).
 * Every problem is reported at once with its JSON path and, from text, its line and column.
 */
import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import schema from '../../campaigns/campaign.schema.json' with { type: 'json' };
import { SCREEN_KINDS } from '../../adapters/screens/index.js';
import { canonicalJson } from './canonical-json.js';
import { CARRIER_IDS, isCarrierId, type CarrierId } from './carrier.js';
import type { EncodingPolicy } from './encoding.js';
import { DomainError } from './errors.js';
import { parseIsoDuration } from './iso-duration.js';
import { normalizeRrule, Recurrence, RecurrenceError } from './recurrence.js';
import { DEFAULT_TIME_ZONE, isValidTimeZone, parseDateTime } from './time-zone.js';

export type CampaignPriority = 'normal' | 'urgent';
/** A ScreenAdapter's kind (adapters/screens/index.ts SCREEN_KINDS): led, airport-board, … */
export type ScreenKind = string;

export interface QuietHours {
  /** HH:MM local; first quiet minute. */
  from: string;
  /** HH:MM local; first allowed minute. */
  to: string;
}

export interface CampaignSchedule {
  /** ISO 8601; without an offset, wall-clock time in `timezone`. */
  start: string;
  rrule?: string;
  end?: string;
  timezone: string;
  /** null: no quiet hours. */
  quietHours: QuietHours | null;
}

export interface ScreenItem {
  targets: { kinds?: ScreenKind[]; tags?: string[]; ids?: string[]; areas?: { province?: string[]; commune?: string[] } };
  /** Language code → text; `vi` is always present. */
  text: Record<string, string> & { vi: string };
  /** Seconds on screen each time it is shown. */
  duration: number;
}

/** One `loudspeakers:` item (issue 11): exactly one of `text` (read out) and `audio` (an uploaded clip's sha256). */
export interface LoudspeakerItem {
  targets: { ids?: string[]; tags?: string[]; areas?: { province?: string[]; commune?: string[]; hamlet?: string[] } };
  text?: string;
  audio?: string;
  voice: 'vi' | 'vi-vn-x-central' | 'vi-vn-x-south';
  /** Broadcasts per day; urgent: times repeated at once. */
  repetitions: number;
  /** ISO 8601 duration from the run's start; default the campaign's validity. */
  validity?: string;
}

export interface Campaign {
  id: string;
  name: string;
  description?: string;
  priority: CampaignPriority;
  message: {
    text: string;
    encoding: EncodingPolicy;
    sender: Partial<Record<CarrierId, string>>;
  };
  audience: {
    lists: string[];
    areas: { province: string[]; commune: string[] };
    exclude: string[];
    /** Send to opted-out numbers too: only for urgent campaigns (semanticIssues). */
    ignoreOptOuts: boolean;
  };
  operators: CarrierId[];
  schedule?: CampaignSchedule;
  /** Segments/s per carrier, capped by the carrier's grant. */
  throttle: Partial<Record<CarrierId, number>>;
  /** ISO 8601 duration. */
  validity: string;
  /** Resend what a crashed worker may have sent (`ambiguous`); absent means false (issue 9, item 4). */
  resendAmbiguous?: boolean;
  screens: ScreenItem[];
  /** Absent rather than empty by default, so campaigns written before issue 11 keep their content hash. */
  loudspeakers?: LoudspeakerItem[];
}

/**
 * What kind of problem an issue is, for a caller that words it in the reader's language (the CLI's
 * catalogue has `campaign.<key>` with the same parameters); `message` is the English wording.
 */
export const CAMPAIGN_ISSUE_KEYS = [
  'required',
  'unknownField',
  'unknownFieldOf',
  'oneOf',
  'badName',
  'wrongFormat',
  'wrongFormatOf',
  'quietHoursShape',
  'type',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minItems',
  'minProperties',
  'uniqueItems',
  'senderRequired',
  'senderForbidden',
  'senderAscii',
  'senderSpaces',
  'throttleNotOperator',
  'validityZero',
  'timeZone',
  'notDateTime',
  'endBeforeStart',
  'noOccurrence',
  'noOccurrenceBetween',
  'quietHoursEmpty',
  'emptyDocument',
  'notJson',
  'yamlSyntax',
  'rruleEmpty',
  'rruleNotKeyValue',
  'rruleDtstart',
  'rruleTzid',
  'rruleTooFrequent',
  'rruleUnknownPart',
  'rruleTwice',
  'rruleBadValue',
  'rruleNoFreq',
  'rruleCountUntil',
  'loudspeakerTextOrAudio',
] as const;
export type CampaignIssueKey = (typeof CAMPAIGN_ISSUE_KEYS)[number];
export type IssueParams = Readonly<Record<string, string | number>>;

export interface CampaignIssue {
  /** Dotted JSON path (`message.sender.vnpt`, `screens[0].text`); '' for the document itself. */
  path: string;
  /** 1-based, when the campaign came from text. */
  line?: number;
  column?: number;
  message: string;
  /** The kind of problem and its parameters; absent for a message passed on from elsewhere (an rrule error). */
  key?: CampaignIssueKey;
  params?: IssueParams;
}

export class CampaignValidationError extends DomainError {
  override name = 'CampaignValidationError';
  constructor(readonly issues: readonly CampaignIssue[]) {
    super('invalid-campaign', issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('\n'));
  }
}

/** Brandname characters the carriers refuse (../shared/reference/vietnam.md "Sender names"). */
export const FORBIDDEN_SENDER_CHARS = ['#', '&', '[', ']', '{', '}', '\\', '<', '@', '%'] as const;
export const MAX_SENDER_LENGTH = 11;

export const CAMPAIGN_SCHEMA: Readonly<Record<string, unknown>> = schema;

type Segment = string | number;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
const validateSchema = ajv.compile(withScreenKinds(schema, SCREEN_KINDS));

/** The schema with `screens[].targets.kinds` listing the screen adapters there are (issue 10 item 1). */
function withScreenKinds<T>(document: T, kinds: readonly string[]): T {
  const copy = structuredClone(document) as { properties: { screens: { items: { properties: { targets: { properties: { kinds: { items: { enum: string[] } } } } } } } } };
  copy.properties.screens.items.properties.targets.properties.kinds.items.enum = [...kinds];
  return copy as T;
}

/** ['screens', 0, 'text'] → `screens[0].text` */
export function formatPath(segments: readonly Segment[]): string {
  return segments.reduce<string>((path, segment) => (typeof segment === 'number' ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), '');
}

function pointerSegments(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

interface RawIssue {
  segments: Segment[];
  message: string;
  key?: CampaignIssueKey;
  params?: IssueParams;
  /** Point at the key rather than the value (unknown or misspelled keys). */
  atKey?: boolean;
}

function describeSchemaError(error: ErrorObject): RawIssue {
  const segments = pointerSegments(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { segments: [...segments, String(params.missingProperty)], message: 'is required', key: 'required' };
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {}).filter((key) => key !== '$schema');
      return {
        segments: [...segments, String(params.additionalProperty)],
        message: known.length > 0 ? `is not a known field (expected one of: ${known.join(', ')})` : 'is not a known field',
        ...(known.length > 0 ? { key: 'unknownFieldOf' as const, params: { known: known.join(', ') } } : { key: 'unknownField' as const }),
        atKey: true,
      };
    }
    case 'enum':
      return { segments, message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`, key: 'oneOf', params: { values: (params.allowedValues as unknown[]).map(String).join(', ') } };
    case 'propertyNames':
      return { segments: [...segments, String(params.propertyName)], message: 'is not a valid name here', key: 'badName', atKey: true };
    case 'pattern': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return description ? { segments, message: `has the wrong format: ${description}`, key: 'wrongFormatOf', params: { description } } : { segments, message: 'has the wrong format', key: 'wrongFormat' };
    }
    case 'oneOf':
      return { segments, message: 'must be null or an object { from: "HH:MM", to: "HH:MM" }', key: 'quietHoursShape' };
    case 'type':
      return { segments, message: error.message ?? 'is invalid', key: 'type', params: { type: String(params.type) } };
    case 'minLength':
    case 'maxLength':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'minItems':
    case 'minProperties':
      return { segments, message: error.message ?? 'is invalid', key: error.keyword, params: { limit: Number(params.limit) } };
    case 'uniqueItems':
      return { segments, message: error.message ?? 'is invalid', key: 'uniqueItems', params: { i: Number(params.i), j: Number(params.j) } };
    default:
      return { segments, message: error.message ?? 'is invalid' };
  }
}

/**
 * ajv reports every failing branch of a oneOf. For quietHours (null | object) the object
 * branch's errors say what is wrong when the user wrote an object; otherwise the summary does.
 */
function schemaIssues(errors: readonly ErrorObject[]): RawIssue[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const kept = errors.filter((error) => {
    const oneOf = oneOfs.find((o) => error !== o && error.instancePath.startsWith(o.instancePath) && error.schemaPath.startsWith(`${o.schemaPath}/`));
    if (oneOf) return isRecord(oneOf.data) && !error.schemaPath.startsWith(`${oneOf.schemaPath}/0/`);
    if (error.keyword === 'oneOf') return !isRecord(error.data);
    // propertyNames reports twice: the pattern failure and the "property name is invalid" summary.
    return !(error.keyword === 'pattern' && error.propertyName !== undefined);
  });
  const issues = kept.map(describeSchemaError);
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${formatPath(issue.segments)}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Checks the schema cannot express. Robust to data that failed the schema, so every issue is found in one pass. */
function semanticIssues(data: unknown): RawIssue[] {
  const issues: RawIssue[] = [];
  if (!isRecord(data)) return issues;
  const operators = Array.isArray(data.operators) ? data.operators.filter((op): op is CarrierId => typeof op === 'string' && isCarrierId(op)) : [];
  const message = isRecord(data.message) ? data.message : undefined;
  const sender = message && isRecord(message.sender) ? message.sender : undefined;

  if (message && sender) {
    for (const operator of operators) {
      if (sender[operator] === undefined) {
        issues.push({ segments: ['message', 'sender', operator], message: `is required: ${operator} is in operators`, key: 'senderRequired', params: { operator } });
      }
    }
    for (const [carrier, name] of Object.entries(sender)) {
      if (typeof name !== 'string') continue;
      const bad = FORBIDDEN_SENDER_CHARS.filter((char) => name.includes(char));
      if (bad.length > 0) issues.push({ segments: ['message', 'sender', carrier], message: `must not contain ${bad.map((c) => `'${c}'`).join(' ')}`, key: 'senderForbidden', params: { characters: bad.map((c) => `'${c}'`).join(' ') } });
      else if (!/^[\x20-\x7e]*$/.test(name)) issues.push({ segments: ['message', 'sender', carrier], message: 'must be printable ASCII (no diacritics): handsets show brandnames in GSM', key: 'senderAscii' });
      else if (name.trim() !== name) issues.push({ segments: ['message', 'sender', carrier], message: 'must not start or end with a space', key: 'senderSpaces' });
    }
  }

  if (isRecord(data.throttle)) {
    for (const carrier of Object.keys(data.throttle)) {
      if (isCarrierId(carrier) && !operators.includes(carrier)) {
        issues.push({ segments: ['throttle', carrier], message: `${carrier} is not in operators`, key: 'throttleNotOperator', params: { carrier }, atKey: true });
      }
    }
  }

  const audience = isRecord(data.audience) ? data.audience : undefined;
  if (audience?.ignoreOptOuts === true && data.priority !== 'urgent') {
    issues.push({ segments: ['audience', 'ignoreOptOuts'], message: 'is allowed only for priority: urgent (the opt-out register applies to every other campaign)' });
  }

  if (typeof data.validity === 'string') {
    const seconds = parseIsoDuration(data.validity);
    if (seconds !== null && seconds <= 0) issues.push({ segments: ['validity'], message: 'must be longer than zero', key: 'validityZero' });
  }

  if (isRecord(data.schedule)) issues.push(...scheduleIssues(data.schedule));
  if (Array.isArray(data.loudspeakers)) {
    data.loudspeakers.forEach((item, index) => {
      if (isRecord(item) && (item.text === undefined) === (item.audio === undefined)) {
        issues.push({ segments: ['loudspeakers', index], message: 'needs exactly one of text (read out) and audio (an uploaded recording)', key: 'loudspeakerTextOrAudio' });
      }
    });
  }
  return issues;
}

function scheduleIssues(schedule: Record<string, unknown>): RawIssue[] {
  const issues: RawIssue[] = [];
  const timeZone = typeof schedule.timezone === 'string' ? schedule.timezone : DEFAULT_TIME_ZONE;
  const zoneValid = isValidTimeZone(timeZone);
  if (!zoneValid) issues.push({ segments: ['schedule', 'timezone'], message: `'${timeZone}' is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)`, key: 'timeZone', params: { zone: timeZone } });
  const zone = zoneValid ? timeZone : DEFAULT_TIME_ZONE;
  let start: Date | null = null;
  if (typeof schedule.start === 'string') {
    start = parseDateTime(schedule.start, zone);
    if (!start) issues.push({ segments: ['schedule', 'start'], message: 'is not a real date and time', key: 'notDateTime' });
  }
  if (typeof schedule.end === 'string') {
    const end = parseDateTime(schedule.end, zone);
    if (!end) issues.push({ segments: ['schedule', 'end'], message: 'is not a real date and time', key: 'notDateTime' });
    else if (start && end <= start) issues.push({ segments: ['schedule', 'end'], message: 'must be after start', key: 'endBeforeStart' });
  }
  if (typeof schedule.rrule === 'string') {
    try {
      normalizeRrule(schedule.rrule);
      const end = typeof schedule.end === 'string' ? parseDateTime(schedule.end, zone) : null;
      if (start && (!end || end > start) && !hasOccurrence(schedule.rrule, start, end, zone)) {
        issues.push({
          segments: ['schedule', 'rrule'],
          message: `has no occurrence ${end ? 'between start and end' : `in the ${OCCURRENCE_HORIZON_YEARS} years after start`} (e.g. a day the month does not have, or COUNT/UNTIL before start): the campaign would never launch`,
          ...(end ? { key: 'noOccurrenceBetween' as const } : { key: 'noOccurrence' as const, params: { years: OCCURRENCE_HORIZON_YEARS } }),
        });
      }
    } catch (error) {
      if (!(error instanceof RecurrenceError)) throw error;
      issues.push({ segments: ['schedule', 'rrule'], message: error.message, key: error.key, params: error.params });
    }
  }
  const quiet = schedule.quietHours;
  if (isRecord(quiet) && typeof quiet.from === 'string' && quiet.from === quiet.to) {
    issues.push({ segments: ['schedule', 'quietHours'], message: 'from and to are equal: the window would be empty (use null for no quiet hours)', key: 'quietHoursEmpty' });
  }
  return issues;
}

/**
 * How far past start a rule must produce an occurrence. Ten years holds every 29 February; it also
 * bounds the search for an impossible rule (FREQ=HOURLY on 30 February walks every hour of it).
 */
const OCCURRENCE_HORIZON_YEARS = 10;

function hasOccurrence(rrule: string, start: Date, end: Date | null, zone: string): boolean {
  const horizon = new Date(start.getTime() + OCCURRENCE_HORIZON_YEARS * 366 * 86_400_000);
  let found = false;
  new Recurrence(rrule, start, zone).each(start, end && end < horizon ? end : horizon, () => {
    found = true;
    return false;
  });
  return found;
}

interface Located {
  line: number;
  column: number;
}

/** Line and column of the node at `segments`, or of its nearest existing ancestor. */
function locate(doc: Document, lineCounter: LineCounter, issue: RawIssue): Located | undefined {
  const segments = issue.segments;
  for (let depth = segments.length; depth >= 0; depth--) {
    const parentPath = segments.slice(0, Math.max(0, depth - 1));
    const parent = depth === 0 ? doc.contents : parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
    let node: unknown;
    if (depth === 0) node = doc.contents;
    else if (isMap(parent)) {
      const key = segments[depth - 1];
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (pair) node = issue.atKey && depth === segments.length ? pair.key : (pair.value ?? pair.key);
    } else if (isSeq(parent)) {
      node = parent.items[Number(segments[depth - 1])];
    }
    const range = (node as Node | undefined)?.range;
    if (range) {
      const pos = lineCounter.linePos(range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return undefined;
}

function finish(data: unknown, raw: RawIssue[], where?: (issue: RawIssue) => Located | undefined): Campaign {
  if (raw.length > 0) {
    const issues: CampaignIssue[] = raw.map((issue) => ({
      path: formatPath(issue.segments),
      ...where?.(issue),
      message: issue.message,
      ...(issue.key ? { key: issue.key } : {}),
      ...(issue.params ? { params: issue.params } : {}),
    }));
    // In file order, as an editor lists them; issues without a position keep their order at the end.
    issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    throw new CampaignValidationError(issues);
  }
  const campaign = data as Campaign & { $schema?: string };
  // An editor hint, not part of the campaign: it must not change the content hash.
  delete campaign.$schema;
  return campaign;
}

function collectIssues(data: unknown): RawIssue[] {
  const schemaOk = validateSchema(data);
  return [...(schemaOk ? [] : schemaIssues(validateSchema.errors ?? [])), ...semanticIssues(data)];
}

/**
 * Validate an already-parsed document (an HTTP JSON body). Defaults are filled in on a copy.
 * Throws CampaignValidationError listing every issue.
 */
export function validateCampaign(document: unknown): Campaign {
  const data: unknown = structuredClone(document);
  return finish(data, collectIssues(data));
}

/** What a campaign file is when it is not UTF-8 text; null when it is. */
export type NonTextKind = 'gzip' | 'zip' | 'utf-16le' | 'utf-16be' | 'binary' | 'not-utf8';

/**
 * Recognise the files people hand `loa validate` by mistake (a .gz download, an .xlsx/.docx, a
 * UTF-16 export from a Windows editor, any other binary) so the message says what the file is
 * instead of `(document): must be object`.
 */
export function sniffCampaignBytes(bytes: Uint8Array): NonTextKind | null {
  const at = (i: number): number => bytes[i] ?? -1;
  if (at(0) === 0x1f && at(1) === 0x8b) return 'gzip';
  if (at(0) === 0x50 && at(1) === 0x4b && at(2) === 0x03 && at(3) === 0x04) return 'zip';
  if (at(0) === 0xff && at(1) === 0xfe) return 'utf-16le';
  if (at(0) === 0xfe && at(1) === 0xff) return 'utf-16be';
  // UTF-16 without a BOM: ASCII text with a NUL after (LE) or before (BE) every character.
  const sample = bytes.subarray(0, 512);
  let nulEven = 0;
  let nulOdd = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] !== 0) continue;
    if (i % 2 === 0) nulEven++;
    else nulOdd++;
  }
  const pairs = Math.floor(sample.length / 2);
  if (pairs > 0 && nulOdd >= pairs * 0.9 && nulEven === 0) return 'utf-16le';
  if (pairs > 0 && nulEven >= pairs * 0.9 && nulOdd === 0) return 'utf-16be';
  if (nulEven + nulOdd > 0) return 'binary';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not-utf8';
  }
  return null;
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/**
 * JSON is YAML, but YAML is lenient where JSON is not: `{"a": 1,}` is a valid flow mapping. A file
 * that says it is JSON gets JSON's rules, so it also loads wherever strict JSON is read.
 */
function strictJsonIssue(text: string): CampaignIssue | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    const where = position ? lineColumn(text, Number(position[1])) : undefined;
    const detail = message.replace(/ in JSON at position \d+.*$/s, '');
    return { path: '', ...where, message: `not valid JSON: ${detail} (a trailing comma or a comment is not allowed in JSON; use YAML for those)`, key: 'notJson', params: { detail } };
  }
}

export interface ParseOptions {
  /** `json`: the text must be strict JSON (a `.json` file); default `yaml`, which also reads JSON. */
  format?: 'json' | 'yaml';
}

/** Parse YAML or JSON text (JSON is YAML) into a Campaign. Issues carry line and column. */
export function parseCampaign(text: string, options: ParseOptions = {}): Campaign {
  if (options.format === 'json') {
    const issue = strictJsonIssue(text.replace(/^\uFEFF/, ''));
    if (issue) throw new CampaignValidationError([issue]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CampaignValidationError(
      doc.errors.map((error) => {
        const pos = lineCounter.linePos(error.pos[0]);
        const detail = error.message.split('\n')[0] ?? error.message;
        return { path: '', line: pos.line, column: pos.col, message: detail, key: 'yamlSyntax' as const, params: { detail } };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new CampaignValidationError([{ path: '', message: (error as Error).message }]);
  }
  if (data === null || data === undefined) throw new CampaignValidationError([{ path: '', line: 1, column: 1, message: 'the document is empty', key: 'emptyDocument' }]);
  return finish(data, collectIssues(data), (issue) => locate(doc, lineCounter, issue));
}

/** SHA-256 (hex) of the campaign's canonical JSON: the immutable version id. */
export function contentHash(campaign: Campaign): string {
  return createHash('sha256').update(canonicalJson(campaign)).digest('hex');
}

/** Validity in seconds (the schema guarantees it parses). */
export function validitySeconds(campaign: Campaign): number {
  return parseIsoDuration(campaign.validity) ?? 86_400;
}

/** The carriers in `operators`, in the canonical order. */
export function campaignOperators(campaign: Campaign): CarrierId[] {
  return CARRIER_IDS.filter((id) => campaign.operators.includes(id));
}
