/**
 * When a campaign's occurrences launch: the rrule expanded in the campaign's time zone, each
 * occurrence deferred out of quiet hours unless the campaign is urgent. An occurrence's id comes
 * from its nominal time, so asking again (after a restart, or with an overlapping window) yields
 * the same ids and the launcher can refuse to start one twice.
 */
import { validitySeconds, type Campaign, type QuietHours } from './campaign.js';
import { Recurrence } from './recurrence.js';
import { DEFAULT_TIME_ZONE, offsetMinutes, parseDateTime, wallTimeOf, wallTimeToUtc } from './time-zone.js';

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
  /**
   * Occurrences folded into this one because quiet hours deferred them to the same launch (or
   * past the next regular one); they never launch. Empty in the usual case.
   */
  skipped: SkippedOccurrence[];
}

export type SkipReason = 'collapsed-by-quiet-hours';

/** A nominal time of the schedule that does not launch of its own; see Occurrence.skipped. */
export interface SkippedOccurrence {
  /** The id it would have had: callers that stored it can recognise it. */
  id: string;
  nominal: Date;
  reason: SkipReason;
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

// A hard bound on nominal times examined per expansion, so no rule and window can spin for long:
// a rule firing every minute of the day still yields 1000 occurrences in about 1000 steps, and
// 200,000 is 139 days of such a rule. Beyond it the expansion stops with what it has.
const MAX_NOMINAL_STEPS = 200_000;

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

/**
 * Walk the nominal times in [from, to] in order until `visit` returns false. Lazy: a busy rule
 * (several times an hour) over a long window costs only as many steps as the caller takes.
 */
function eachNominal(campaign: Campaign, from: Date, to: Date, visit: (nominal: Date) => boolean): void {
  const schedule = campaign.schedule;
  if (!schedule) return;
  const timeZone = schedule.timezone ?? DEFAULT_TIME_ZONE;
  const start = parseDateTime(schedule.start, timeZone);
  if (!start) return;
  const end = schedule.end ? parseDateTime(schedule.end, timeZone) : null;
  const last = end && end < to ? end : to;
  if (last < from) return;
  if (!schedule.rrule) {
    if (start >= from && start <= last) visit(start);
    return;
  }
  new Recurrence(schedule.rrule, start, timeZone).each(from < start ? start : from, last, visit);
}

/**
 * Expand the schedule, then collapse what quiet hours pile up: every occurrence whose launch
 * would fall at (or, in a daylight-saving fold, before) the launch of an earlier one joins that
 * one's group, and each group launches once. Without this, FREQ=HOURLY from 18:00 with quiet
 * hours 21:00–07:00 sends the same audience eleven runs at 07:00.
 *
 * The one kept is the group's non-deferred occurrence when there is one (it runs at its own time,
 * so nothing about it changed), else the earliest nominal: its id then depends only on where the
 * quiet window starts cutting the rule, not on where the schedule ends, so editing `end` or
 * COUNT later cannot give an already-launched group a new id. The others are listed in
 * `skipped` with reason `collapsed-by-quiet-hours`.
 *
 * Occurrences launching in [window.from, window.to), in launch order, at most `window.limit`.
 */
export function expandOccurrences(campaign: Campaign, window: OccurrenceWindow): Occurrence[] {
  const limit = window.limit ?? 1000;
  const schedule = campaign.schedule;
  if (!schedule || limit <= 0) return [];
  const timeZone = schedule.timezone ?? DEFAULT_TIME_ZONE;
  const quiet = campaign.priority === 'urgent' ? null : schedule.quietHours;
  const validityMs = validitySeconds(campaign) * 1000;
  // Every member of a group launching at or after window.from has its nominal time after
  // launchAt − MAX_DEFERRAL_MS, so starting this far back sees whole groups: the kept id and the
  // skipped list are the same for any window containing the launch.
  const lookBack = new Date(window.from.getTime() - (quiet ? MAX_DEFERRAL_MS : 0));
  const occurrences: Occurrence[] = [];
  let group: Array<{ nominal: Date; launchAt: Date }> = [];

  /** Emit the pending group if it launches inside the window; false once the limit is reached. */
  const flush = (): boolean => {
    const members = group;
    group = [];
    const kept = members.find((m) => m.launchAt.getTime() === m.nominal.getTime()) ?? members[0];
    if (!kept || kept.launchAt < window.from || kept.launchAt >= window.to) return true;
    occurrences.push({
      id: occurrenceId(campaign.id, kept.nominal),
      campaignId: campaign.id,
      nominal: kept.nominal,
      launchAt: kept.launchAt,
      deferred: kept.launchAt.getTime() !== kept.nominal.getTime(),
      validUntil: new Date(kept.launchAt.getTime() + validityMs),
      skipped: members
        .filter((m) => m !== kept)
        .map((m) => ({ id: occurrenceId(campaign.id, m.nominal), nominal: m.nominal, reason: 'collapsed-by-quiet-hours' as const })),
    });
    return occurrences.length < limit;
  };

  let steps = 0;
  let more = true;
  // A nominal time at or after window.to launches at or after it too, so it can neither be
  // emitted nor join a group launching inside the window: window.to bounds the walk. It is still
  // visited once (the bound is inclusive) and closes the last group.
  eachNominal(campaign, lookBack, window.to, (nominal) => {
    if (++steps > MAX_NOMINAL_STEPS) return false;
    const launchAt = deferForQuietHours(nominal, quiet, timeZone);
    const groupLaunch = group[0]?.launchAt;
    if (groupLaunch && launchAt.getTime() <= groupLaunch.getTime()) {
      group.push({ nominal, launchAt });
      return true;
    }
    more = flush();
    group = [{ nominal, launchAt }];
    return more;
  });
  if (more) flush();
  return occurrences;
}
/** The next `count` occurrences launching at or after `after` (for previews and `loa validate`). */
export function nextOccurrences(campaign: Campaign, after: Date, count: number): Occurrence[] {
  const century = 100 * 366 * 86_400_000;
  return expandOccurrences(campaign, { from: after, to: new Date(after.getTime() + century), limit: count });
}

/**
 * An instant as a person in `timeZone` reads it, with the offset so it is never ambiguous:
 * `2020-02-08 08:00+07:00` (seconds only when there are some). Everything a person reads shows
 * times this way, in the campaign's zone (issue 7, item 4).
 */
export function formatLocalTime(date: Date, timeZone: string): string {
  const wall = wallTimeOf(date, timeZone);
  const offset = offsetMinutes(date, timeZone);
  const two = (n: number): string => String(n).padStart(2, '0');
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const seconds = wall.second ? `:${two(wall.second)}` : '';
  return `${wall.year}-${two(wall.month)}-${two(wall.day)} ${two(wall.hour)}:${two(wall.minute)}${seconds}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}
