/**
 * When a campaign's occurrences launch: the rrule expanded in the campaign's time zone, each
 * occurrence deferred out of quiet hours unless the campaign is urgent. An occurrence's id comes
 * from its nominal time, so asking again (after a restart, or with an overlapping window) yields
 * the same ids and the launcher can refuse to start one twice.
 */
import { validitySeconds, type Campaign, type QuietHours } from './campaign.js';
import { Recurrence } from './recurrence.js';
import { DEFAULT_TIME_ZONE, parseDateTime, wallTimeOf, wallTimeToUtc } from './time-zone.js';

export interface Occurrence {
  /** `${campaignId}@${nominal ISO UTC}`: stable across expansions. */
  id: string;
  campaignId: string;
  /** The time the schedule names. */
  nominal: Date;
  /** When it may start: nominal, or the end of the quiet window it fell into. */
  launchAt: Date;
  deferred: boolean;
  /** launchAt + validity: messages of this occurrence without a receipt by then are `unknown`. */
  validUntil: Date;
}

export interface OccurrenceWindow {
  /** Occurrences whose launchAt is in [from, to). */
  from: Date;
  to: Date;
  /** At most this many (default 1000). */
  limit?: number;
}

// Quiet hours defer an occurrence by less than a day; looking back this far finds every
// nominal time whose deferred launch lands in the window.
const MAX_DEFERRAL_MS = 86_400_000;

export function occurrenceId(campaignId: string, nominal: Date): string {
  return `${campaignId}@${nominal.toISOString()}`;
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether local wall-clock minute-of-day `minute` is inside [from, to) (which may wrap midnight). */
export function inQuietHours(minute: number, quiet: QuietHours): boolean {
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return false;
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/**
 * The first allowed instant at or after `at`: `at` itself outside quiet hours, else the end of the
 * quiet window (the `to` minute, local time, on the same or the next day).
 */
export function deferForQuietHours(at: Date, quiet: QuietHours | null, timeZone: string): Date {
  if (!quiet) return at;
  const wall = wallTimeOf(at, timeZone);
  const minute = wall.hour * 60 + wall.minute;
  if (!inQuietHours(minute, quiet)) return at;
  const to = minutesOf(quiet.to);
  // Past midnight in a wrapping window (or a non-wrapping one), the end is today; before midnight it is tomorrow.
  const dayOffset = minute >= to ? 1 : 0;
  const day = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + dayOffset));
  return wallTimeToUtc(
    { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: Math.floor(to / 60), minute: to % 60, second: 0 },
    timeZone,
  );
}

function nominalTimes(campaign: Campaign, from: Date, to: Date, limit: number): Date[] {
  const schedule = campaign.schedule;
  if (!schedule) return [];
  const timeZone = schedule.timezone ?? DEFAULT_TIME_ZONE;
  const start = parseDateTime(schedule.start, timeZone);
  if (!start) return [];
  const end = schedule.end ? parseDateTime(schedule.end, timeZone) : null;
  const last = end && end < to ? end : to;
  if (last < from) return [];
  if (!schedule.rrule) return start >= from && start <= last ? [start] : [];
  return new Recurrence(schedule.rrule, start, timeZone).between(from < start ? start : from, last, limit);
}

/** Occurrences of the campaign that launch in [window.from, window.to), in launch order. */
export function expandOccurrences(campaign: Campaign, window: OccurrenceWindow): Occurrence[] {
  const limit = window.limit ?? 1000;
  const schedule = campaign.schedule;
  if (!schedule) return [];
  const timeZone = schedule.timezone ?? DEFAULT_TIME_ZONE;
  const quiet = campaign.priority === 'urgent' ? null : schedule.quietHours;
  const validityMs = validitySeconds(campaign) * 1000;
  const lookBack = new Date(window.from.getTime() - (quiet ? MAX_DEFERRAL_MS : 0));
  const occurrences: Occurrence[] = [];
  // The extra margin lets occurrences before the window that defer into it be counted within the limit.
  for (const nominal of nominalTimes(campaign, lookBack, window.to, limit + 64)) {
    const launchAt = deferForQuietHours(nominal, quiet, timeZone);
    if (launchAt < window.from || launchAt >= window.to) continue;
    occurrences.push({
      id: occurrenceId(campaign.id, nominal),
      campaignId: campaign.id,
      nominal,
      launchAt,
      deferred: launchAt.getTime() !== nominal.getTime(),
      validUntil: new Date(launchAt.getTime() + validityMs),
    });
    if (occurrences.length === limit) break;
  }
  return occurrences;
}

/** The next `count` occurrences launching at or after `after` (for previews and `loa validate`). */
export function nextOccurrences(campaign: Campaign, after: Date, count: number): Occurrence[] {
  const century = 100 * 366 * 86_400_000;
  return expandOccurrences(campaign, { from: after, to: new Date(after.getTime() + century), limit: count });
}
