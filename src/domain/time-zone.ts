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

/** Minutes to add to UTC to get local wall time at `date` (Asia/Ho_Chi_Minh: +420). */
export function offsetMinutes(date: Date, timeZone: string): number {
  const wall = wallTimeOf(date, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
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
