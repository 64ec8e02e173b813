/**
 * Campaign recurrence rules (RFC 5545 RRULE) expanded in the campaign's time zone.
 *
 * rrule's own TZID support returns dates whose meaning depends on the host's zone. Instead the
 * rule runs on "floating" dates (UTC fields = wall-clock time in the campaign zone) and each
 * result is converted to an instant with Intl, so a daily 08:00 stays 08:00 local even in zones
 * with daylight saving, and the host's TZ never matters.
 */
import rrulePackage from 'rrule';
import { DomainError } from './errors.js';
import { wallTimeOf, wallTimeToUtc, type WallTime } from './time-zone.js';

// rrule ships a UMD bundle: under Node ESM only the default export (module.exports) exists.
const { RRule } = rrulePackage;

/** What is wrong with an rrule: a campaign issue key (src/domain/campaign.ts) and its parameters. */
export type RecurrenceIssueKey = 'rruleEmpty' | 'rruleNotKeyValue' | 'rruleDtstart' | 'rruleTzid' | 'rruleTooFrequent' | 'rruleUnknownPart' | 'rruleTwice' | 'rruleBadValue' | 'rruleNoFreq' | 'rruleCountUntil';

export class RecurrenceError extends DomainError {
  override name = 'RecurrenceError';
  constructor(
    message: string,
    readonly key: RecurrenceIssueKey,
    readonly params: Readonly<Record<string, string>> = {},
  ) {
    super('bad-rrule', message);
  }
}

const WEEKDAY = '(?:MO|TU|WE|TH|FR|SA|SU)';
const list = (item: string): RegExp => new RegExp(`^${item}(?:,${item})*$`);
const SIGNED = (max: number): ((value: string) => boolean) => (value) =>
  value.split(',').every((part) => /^[+-]?\d{1,3}$/.test(part) && Number(part) !== 0 && Math.abs(Number(part)) <= max);
const RANGE = (min: number, max: number): ((value: string) => boolean) => (value) =>
  value.split(',').every((part) => /^\d{1,2}$/.test(part) && Number(part) >= min && Number(part) <= max);

const PARTS: Readonly<Record<string, { check: (value: string) => boolean; expected: string }>> = {
  FREQ: { check: (v) => /^(YEARLY|MONTHLY|WEEKLY|DAILY|HOURLY)$/.test(v), expected: 'YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY' },
  INTERVAL: { check: (v) => /^\d{1,4}$/.test(v) && Number(v) >= 1, expected: 'a whole number 1–9999' },
  COUNT: { check: (v) => /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 10_000, expected: 'a whole number 1–10000' },
  UNTIL: { check: (v) => /^\d{8}(T\d{6}Z?)?$/.test(v), expected: 'YYYYMMDD or YYYYMMDDTHHMMSS[Z]' },
  BYDAY: { check: (v) => list(`(?:[+-]?\\d{1,2})?${WEEKDAY}`).test(v), expected: 'weekdays such as MO,WE or 1MO,-1FR' },
  BYMONTHDAY: { check: SIGNED(31), expected: 'days of month ±1–31' },
  BYMONTH: { check: RANGE(1, 12), expected: 'months 1–12' },
  BYYEARDAY: { check: SIGNED(366), expected: 'days of year ±1–366' },
  BYWEEKNO: { check: SIGNED(53), expected: 'weeks ±1–53' },
  BYHOUR: { check: RANGE(0, 23), expected: 'hours 0–23' },
  BYMINUTE: { check: RANGE(0, 59), expected: 'minutes 0–59' },
  BYSECOND: { check: RANGE(0, 59), expected: 'seconds 0–59' },
  BYSETPOS: { check: SIGNED(366), expected: 'positions ±1–366' },
  WKST: { check: (v) => new RegExp(`^${WEEKDAY}$`).test(v), expected: 'a weekday (MO…SU)' },
};

/** Upper-cased `KEY=VALUE;…` without an `RRULE:` prefix, or a RecurrenceError explaining what is wrong. */
export function normalizeRrule(text: string): string {
  const body = text.trim().replace(/^RRULE:/i, '');
  if (body === '') throw new RecurrenceError('rrule is empty', 'rruleEmpty');
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const raw of body.split(';')) {
    if (raw.trim() === '') continue;
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new RecurrenceError(`'${raw}' is not KEY=VALUE`, 'rruleNotKeyValue', { part: raw });
    const key = raw.slice(0, eq).trim().toUpperCase();
    const value = raw.slice(eq + 1).trim().toUpperCase();
    if (key === 'DTSTART') throw new RecurrenceError('DTSTART is not allowed in rrule: set schedule.start', 'rruleDtstart');
    if (key === 'TZID') throw new RecurrenceError('TZID is not allowed in rrule: set schedule.timezone', 'rruleTzid');
    if (key === 'FREQ' && (value === 'MINUTELY' || value === 'SECONDLY')) {
      throw new RecurrenceError(`FREQ=${value} would text the same people every ${value === 'MINUTELY' ? 'minute' : 'second'}; the shortest period is HOURLY`, 'rruleTooFrequent', { freq: value });
    }
    const part = PARTS[key];
    if (!part) throw new RecurrenceError(`unknown rrule part '${key}'`, 'rruleUnknownPart', { part: key });
    if (seen.has(key)) throw new RecurrenceError(`${key} is given twice`, 'rruleTwice', { part: key });
    if (!part.check(value)) throw new RecurrenceError(`${key}=${value}: expected ${part.expected}`, 'rruleBadValue', { part: key, value, expected: part.expected });
    seen.add(key);
    parts.push(`${key}=${value}`);
  }
  if (!seen.has('FREQ')) throw new RecurrenceError('FREQ is required (e.g. FREQ=DAILY;COUNT=8)', 'rruleNoFreq');
  // RFC 5545 §3.3.10: COUNT and UNTIL MUST NOT occur together.
  if (seen.has('COUNT') && seen.has('UNTIL')) throw new RecurrenceError('COUNT and UNTIL cannot be used together', 'rruleCountUntil');
  return parts.join(';');
}

const floating = (wall: WallTime): Date => new Date(Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second));
const wallOfFloating = (date: Date): WallTime => ({
  year: date.getUTCFullYear(),
  month: date.getUTCMonth() + 1,
  day: date.getUTCDate(),
  hour: date.getUTCHours(),
  minute: date.getUTCMinutes(),
  second: date.getUTCSeconds(),
});

/** A recurrence anchored at `start` (an instant) and expanded in `timeZone`. */
export class Recurrence {
  private readonly rule: InstanceType<typeof RRule>;

  constructor(
    rrule: string,
    start: Date,
    private readonly timeZone: string,
  ) {
    const normalized = normalizeRrule(rrule);
    const options = RRule.parseString(normalized);
    const until = /UNTIL=(\d{8})(T\d{6}(Z)?)?/.exec(normalized);
    if (until && options.until) {
      if (until[3]) options.until = floating(wallTimeOf(options.until, timeZone)); // a UTC instant
      else if (!until[2]) options.until = new Date(options.until.getTime() + 86_399_000); // a date: through its last second
      // else: local wall time, already floating
    }
    this.rule = new RRule({ ...options, dtstart: floating(wallTimeOf(start, timeZone)), tzid: null });
  }

  /** Instants of the occurrences in [from, to], at most `limit`, in order. */
  between(from: Date, to: Date, limit = 10_000): Date[] {
    const result: Date[] = [];
    this.each(from, to, (instant) => {
      result.push(instant);
      return result.length < limit;
    });
    return result;
  }

  /**
   * Visit the instants in [from, to] in order, one at a time, until `visit` returns false. Nothing
   * is materialised, so a caller can walk a long range and decide for itself when it has enough.
   */
  each(from: Date, to: Date, visit: (instant: Date) => boolean): void {
    // Widen by a day in floating time: the offset between floating and real is at most ±14 h.
    const day = 86_400_000;
    const floatingFrom = new Date(floating(wallTimeOf(from, this.timeZone)).getTime() - day);
    const floatingTo = new Date(floating(wallTimeOf(to, this.timeZone)).getTime() + day);
    this.rule.between(floatingFrom, floatingTo, true, (date) => {
      const instant = wallTimeToUtc(wallOfFloating(date), this.timeZone);
      if (instant < from || instant > to) return true;
      return visit(instant);
    });
  }
}
