/**
 * Wall-clock ↔ instant conversion through Intl, so any IANA zone works (Vietnam is UTC+7
 * without DST today, but campaigns name their zone and historical or foreign zones must not
 * silently become +07:00).
 */
import { DomainError } from './errors.js';

export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

export interface WallTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export class TimeZoneError extends DomainError {
  override name = 'TimeZoneError';
  constructor(readonly timeZone: string) {
    super('bad-time-zone', `unknown time zone '${timeZone}'`);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    try {
      // hourCycle h23: with hour12:false some ICU versions print midnight as "24".
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new TimeZoneError(timeZone);
    }
    formatters.set(timeZone, format);
  }
  return format;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in `timeZone` at instant `date`. */
export function wallTimeOf(date: Date, timeZone: string): WallTime {
  const wall: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(date)) {
    if (part.type in wall) wall[part.type as keyof WallTime] = Number(part.value);
  }
  return wall;
}

/** Minutes to add to UTC to get local wall time at `date`, through Intl (~10 µs a call). */
function offsetMinutesIntl(instant: number, timeZone: string): number {
  const wall = wallTimeOf(new Date(instant), timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

const HOUR_MS = 3_600_000;
const MAX_CACHED_HOURS = 50_000;
/** Per zone, per UTC hour: the offset when it is the same at both ends of that hour, else null (a transition inside it). */
const hourOffsets = new Map<string, Map<number, number | null>>();

/**
 * Minutes to add to UTC to get local wall time at `date` (Asia/Ho_Chi_Minh: +420).
 *
 * Receipts carry wall times (YYMMDDhhmm) in the carrier's zone and arrive by the ten thousand a
 * second, mostly within a few hours: Intl cost ~20 µs per receipt (issue 8, Benchmarks). The
 * offset is cached per zone per UTC hour when it is the same at the hour's first and last second
 * (zones change offset at most once an hour, so then it holds for the whole hour); an hour with a
 * transition inside it (DST, or a historical change at an odd minute) is asked of Intl every time.
 */
export function offsetMinutes(date: Date, timeZone: string): number {
  const instant = date.getTime();
  if (Number.isNaN(instant)) return offsetMinutesIntl(instant, timeZone);
  let hours = hourOffsets.get(timeZone);
  if (!hours) {
    formatter(timeZone); // throws TimeZoneError for an unknown zone before anything is cached
    hours = new Map();
    hourOffsets.set(timeZone, hours);
  }
  const hour = Math.floor(instant / HOUR_MS);
  let cached = hours.get(hour);
  if (cached === undefined) {
    const start = hour * HOUR_MS;
    const first = offsetMinutesIntl(start, timeZone);
    cached = offsetMinutesIntl(start + HOUR_MS - 1000, timeZone) === first ? first : null;
    if (hours.size >= MAX_CACHED_HOURS) hours.clear();
    hours.set(hour, cached);
  }
  return cached ?? offsetMinutesIntl(instant, timeZone);
}

/**
 * The instant at which `timeZone` shows `wall`. In a DST gap the later offset wins (the
 * time is pushed forward); in an overlap the earlier instant wins.
 */
export function wallTimeToUtc(wall: WallTime, timeZone: string): Date {
  const guess = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const first = guess - offsetMinutes(new Date(guess), timeZone) * 60_000;
  const second = guess - offsetMinutes(new Date(first), timeZone) * 60_000;
  if (first === second) return new Date(first);
  const shows = (instant: number): boolean => {
    const w = wallTimeOf(new Date(instant), timeZone);
    return w.hour === wall.hour && w.minute === wall.minute && w.day === wall.day;
  };
  const valid = [first, second].filter(shows);
  return new Date(valid.length > 0 ? Math.min(...valid) : Math.max(first, second));
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * An ISO 8601 date-time as campaigns write it: with `Z` or an offset it is that instant;
 * without, it is wall-clock time in `timeZone`. Null when malformed or impossible (31 June, 24:00).
 */
export function parseDateTime(text: string, timeZone: string): Date | null {
  const match = DATE_TIME.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const millis = Number((match[7] ?? '0').padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const zone = match[8];
  if (zone === undefined) {
    const instant = wallTimeToUtc({ year, month, day, hour, minute, second }, timeZone);
    return new Date(instant.getTime() + millis);
  }
  let offset = 0;
  if (zone !== 'Z') {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(4, 6));
    if (hours > 23 || minutes > 59) return null;
    offset = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000);
}
