/**
 * Campaign documents: YAML or JSON text → a typed, validated Campaign
 * (schema: campaigns/campaign.schema.json; shape: ../shared/reference/formats.md).
 * Every problem is reported at once with its JSON path and, from text, its line and column.
 */
import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import schema from '../../campaigns/campaign.schema.json' with { type: 'json' };
import { canonicalJson } from './canonical-json.js';
import { CARRIER_IDS, isCarrierId, type CarrierId } from './carrier.js';
import type { EncodingPolicy } from './encoding.js';
import { DomainError } from './errors.js';
import { parseIsoDuration } from './iso-duration.js';
import { normalizeRrule, RecurrenceError } from './recurrence.js';
import { DEFAULT_TIME_ZONE, isValidTimeZone, parseDateTime } from './time-zone.js';

export type CampaignPriority = 'normal' | 'urgent';
export type ScreenKind = 'led' | 'airport-board';

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
  targets: { kinds?: ScreenKind[]; tags?: string[]; ids?: string[] };
  /** Language code → text; `vi` is always present. */
  text: Record<string, string> & { vi: string };
  /** Seconds on screen each time it is shown. */
  duration: number;
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
  screens: ScreenItem[];
}

export interface CampaignIssue {
  /** Dotted JSON path (`message.sender.vnpt`, `screens[0].text`); '' for the document itself. */
  path: string;
  /** 1-based, when the campaign came from text. */
  line?: number;
  column?: number;
  message: string;
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
const validateSchema = ajv.compile(schema);

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
  /** Point at the key rather than the value (unknown or misspelled keys). */
  atKey?: boolean;
}

function describeSchemaError(error: ErrorObject): RawIssue {
  const segments = pointerSegments(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { segments: [...segments, String(params.missingProperty)], message: 'is required' };
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {}).filter((key) => key !== '$schema');
      return {
        segments: [...segments, String(params.additionalProperty)],
        message: known.length > 0 ? `is not a known field (expected one of: ${known.join(', ')})` : 'is not a known field',
        atKey: true,
      };
    }
    case 'enum':
      return { segments, message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'propertyNames':
      return { segments: [...segments, String(params.propertyName)], message: 'is not a valid name here', atKey: true };
    case 'pattern': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return { segments, message: description ? `has the wrong format: ${description}` : 'has the wrong format' };
    }
    case 'oneOf':
      return { segments, message: 'must be null or an object { from: "HH:MM", to: "HH:MM" }' };
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
        issues.push({ segments: ['message', 'sender', operator], message: `is required: ${operator} is in operators` });
      }
    }
    for (const [carrier, name] of Object.entries(sender)) {
      if (typeof name !== 'string') continue;
      const bad = FORBIDDEN_SENDER_CHARS.filter((char) => name.includes(char));
      if (bad.length > 0) issues.push({ segments: ['message', 'sender', carrier], message: `must not contain ${bad.map((c) => `'${c}'`).join(' ')}` });
      else if (!/^[\x20-\x7e]*$/.test(name)) issues.push({ segments: ['message', 'sender', carrier], message: 'must be printable ASCII (no diacritics): handsets show brandnames in GSM' });
      else if (name.trim() !== name) issues.push({ segments: ['message', 'sender', carrier], message: 'must not start or end with a space' });
    }
  }

  if (isRecord(data.throttle)) {
    for (const carrier of Object.keys(data.throttle)) {
      if (isCarrierId(carrier) && !operators.includes(carrier)) {
        issues.push({ segments: ['throttle', carrier], message: `${carrier} is not in operators`, atKey: true });
      }
    }
  }

  const audience = isRecord(data.audience) ? data.audience : undefined;
  if (audience?.ignoreOptOuts === true && data.priority !== 'urgent') {
    issues.push({ segments: ['audience', 'ignoreOptOuts'], message: 'is allowed only for priority: urgent (the opt-out register applies to every other campaign)' });
  }

  if (typeof data.validity === 'string') {
    const seconds = parseIsoDuration(data.validity);
    if (seconds !== null && seconds <= 0) issues.push({ segments: ['validity'], message: 'must be longer than zero' });
  }

  if (isRecord(data.schedule)) issues.push(...scheduleIssues(data.schedule));
  return issues;
}

function scheduleIssues(schedule: Record<string, unknown>): RawIssue[] {
  const issues: RawIssue[] = [];
  const timeZone = typeof schedule.timezone === 'string' ? schedule.timezone : DEFAULT_TIME_ZONE;
  const zoneValid = isValidTimeZone(timeZone);
  if (!zoneValid) issues.push({ segments: ['schedule', 'timezone'], message: `'${timeZone}' is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)` });
  const zone = zoneValid ? timeZone : DEFAULT_TIME_ZONE;
  let start: Date | null = null;
  if (typeof schedule.start === 'string') {
    start = parseDateTime(schedule.start, zone);
    if (!start) issues.push({ segments: ['schedule', 'start'], message: 'is not a real date and time' });
  }
  if (typeof schedule.end === 'string') {
    const end = parseDateTime(schedule.end, zone);
    if (!end) issues.push({ segments: ['schedule', 'end'], message: 'is not a real date and time' });
    else if (start && end <= start) issues.push({ segments: ['schedule', 'end'], message: 'must be after start' });
  }
  if (typeof schedule.rrule === 'string') {
    try {
      normalizeRrule(schedule.rrule);
    } catch (error) {
      if (!(error instanceof RecurrenceError)) throw error;
      issues.push({ segments: ['schedule', 'rrule'], message: error.message });
    }
  }
  const quiet = schedule.quietHours;
  if (isRecord(quiet) && typeof quiet.from === 'string' && quiet.from === quiet.to) {
    issues.push({ segments: ['schedule', 'quietHours'], message: 'from and to are equal: the window would be empty (use null for no quiet hours)' });
  }
  return issues;
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
    const issues: CampaignIssue[] = raw.map((issue) => ({ path: formatPath(issue.segments), ...where?.(issue), message: issue.message }));
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

/** Parse YAML or JSON text (JSON is YAML) into a Campaign. Issues carry line and column. */
export function parseCampaign(text: string): Campaign {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CampaignValidationError(
      doc.errors.map((error) => {
        const pos = lineCounter.linePos(error.pos[0]);
        return { path: '', line: pos.line, column: pos.col, message: error.message.split('\n')[0] ?? error.message };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new CampaignValidationError([{ path: '', message: (error as Error).message }]);
  }
  if (data === null || data === undefined) throw new CampaignValidationError([{ path: '', line: 1, column: 1, message: 'the document is empty' }]);
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
