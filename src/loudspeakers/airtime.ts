/**
 * When a commune loudspeaker may speak (issue 11 item 4): its daily airtime windows ("05:30–06:30,
 * 17:00–18:30", the hours that reach most people) minus its blackout windows (school hours, so
 * pupils' online lessons are not disturbed, and night), and the timed slots of a day's items.
 * Pure: no I/O, the clock is an argument.
 */
import { createHash } from 'node:crypto';
import { wallTimeOf, wallTimeToUtc } from '../domain/time-zone.js';

/** A local daily window, `HH:MM` to `HH:MM`; `to` before `from` crosses midnight (22:00–05:00). */
export interface DailyWindow {
  from: string;
  to: string;
}

export interface Interval {
  start: number;
  end: number;
}

export interface AirtimeDevice {
  airtime: readonly DailyWindow[];
  blackout: readonly DailyWindow[];
  timeZone: string;
}

export interface SchedulableItem {
  id: number;
  /** Length of the clip. */
  ms: number;
  /** Plays per day, urgent items too (their first day's first play at once). */
  repetitions: number;
  priority: 'normal' | 'urgent';
  validFrom: number;
  validTo: number;
}

export interface Slot {
  item: number;
  start: number;
  ms: number;
  priority: 'normal' | 'urgent';
}

export interface DaySchedule {
  slots: Slot[];
  /** Plays that found no room (a window already full): item id → how many. */
  unplaced: Map<number, number>;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** Silence between two clips, so one announcement does not run into the next. */
export const GAP_MS = 3_000;

export function minuteOf(text: string): number | null {
  const match = HHMM.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** Problems with a device's windows, each naming its field (`airtime[1].to`). */
export function windowIssues(field: string, windows: readonly DailyWindow[]): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  windows.forEach((window, index) => {
    for (const end of ['from', 'to'] as const) {
      if (minuteOf(window[end]) === null) issues.push({ path: `${field}[${index}].${end}`, message: 'must be a local time HH:MM (00:00–23:59)' });
    }
    if (window.from === window.to) issues.push({ path: `${field}[${index}]`, message: 'from and to are equal: the window would be empty' });
  });
  return issues;
}

/** Local midnight (as an instant) of the day holding `at`, and of `days` days later. */
export function localMidnight(at: number, timeZone: string, days = 0): number {
  const wall = wallTimeOf(new Date(at), timeZone);
  const noon = Date.UTC(wall.year, wall.month - 1, wall.day + days, 12);
  const day = new Date(noon);
  return wallTimeToUtc({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: 0, minute: 0, second: 0 }, timeZone).getTime();
}

function at(dayStart: number, minute: number, timeZone: string): number {
  const wall = wallTimeOf(new Date(dayStart + 12 * 3600_000), timeZone);
  return wallTimeToUtc({ year: wall.year, month: wall.month, day: wall.day, hour: Math.floor(minute / 60), minute: minute % 60, second: 0 }, timeZone).getTime();
}

/** The windows' intervals on the local day starting at `dayStart` (and the tail of the day before's overnight ones). */
function intervalsOn(dayStart: number, windows: readonly DailyWindow[], timeZone: string): Interval[] {
  const out: Interval[] = [];
  const previous = localMidnight(dayStart - 12 * 3600_000, timeZone);
  for (const window of windows) {
    const from = minuteOf(window.from);
    const to = minuteOf(window.to);
    if (from === null || to === null || from === to) continue;
    if (from < to) out.push({ start: at(dayStart, from, timeZone), end: at(dayStart, to, timeZone) });
    else {
      out.push({ start: at(previous, from, timeZone), end: at(dayStart, to, timeZone) });
      out.push({ start: at(dayStart, from, timeZone), end: at(localMidnight(dayStart, timeZone, 1), to, timeZone) });
    }
  }
  return out;
}

function subtract(intervals: readonly Interval[], cuts: readonly Interval[]): Interval[] {
  let result = [...intervals];
  for (const cut of cuts) {
    result = result.flatMap((interval) => {
      if (cut.end <= interval.start || cut.start >= interval.end) return [interval];
      const pieces: Interval[] = [];
      if (cut.start > interval.start) pieces.push({ start: interval.start, end: cut.start });
      if (cut.end < interval.end) pieces.push({ start: cut.end, end: interval.end });
      return pieces;
    });
  }
  return result;
}

/**
 * The airtime of the local day starting at `dayStart`: airtime windows minus blackout windows,
 * clipped to the day, merged and in order. Blackout wins where the two overlap.
 */
export function airtimeOn(dayStart: number, device: AirtimeDevice): Interval[] {
  const dayEnd = localMidnight(dayStart, device.timeZone, 1);
  const open = intervalsOn(dayStart, device.airtime, device.timeZone)
    .map((interval) => ({ start: Math.max(interval.start, dayStart), end: Math.min(interval.end, dayEnd) }))
    .filter((interval) => interval.end > interval.start)
    .sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const interval of open) {
    const last = merged.at(-1);
    if (last && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else merged.push({ ...interval });
  }
  const blackout = [...intervalsOn(dayStart, device.blackout, device.timeZone), ...intervalsOn(dayEnd, device.blackout, device.timeZone)];
  return subtract(merged, blackout).filter((interval) => interval.end > interval.start);
}

/** The longest stretch of airtime the device has on the day around `around` (launch refuses a clip longer than this). */
export function longestAirtimeMs(device: AirtimeDevice, around: number): number {
  const dayStart = localMidnight(around, device.timeZone);
  return Math.max(0, ...airtimeOn(dayStart, device).map((interval) => interval.end - interval.start));
}

interface Placement {
  item: SchedulableItem;
  /** The play starts no earlier than this (its validity, or after an urgent item's first play). */
  from: number;
}

interface Room extends Interval {
  used: number;
  placed: Placement[];
}

/**
 * `plays` plays of `item` into the windows with the most room left where they fit (from `from`,
 * inside the item's validity), preferring windows that do not have it yet, so plays spread over
 * the day and no window is overfilled. Returns how many found no room.
 */
function placeInRooms(rooms: Room[], item: SchedulableItem, from: number, plays: number): number {
  let left = 0;
  const need = item.ms + GAP_MS;
  for (let play = 0; play < plays; play += 1) {
    const candidates = rooms.filter((room) => room.end - room.start - room.used >= need && Math.min(room.end, item.validTo) - Math.max(room.start, from) >= need);
    if (candidates.length === 0) {
      left += 1;
      continue;
    }
    const has = (room: Room) => room.placed.filter((placed) => placed.item.id === item.id).length;
    candidates.sort((a, b) => has(a) - has(b) || b.end - b.start - b.used - (a.end - a.start - a.used) || a.start - b.start);
    const room = candidates[0]!;
    room.used += need;
    room.placed.push({ item, from });
  }
  return left;
}

/**
 * The slots of one local day. Normal items go only into airtime (never blackout): each of an
 * item's daily plays to a window as placeInRooms says; inside a window the slots are spaced
 * evenly. An urgent item gets its `repetitions` on every day of its validity, before normal items
 * take the room: on its first day the first play at once (from its start, whatever the windows)
 * and the rest spread over that day's airtime — or, with no airtime left that day (an alert at
 * night), right after the first, so it is never aired fewer times than asked; on later days all
 * spread over the airtime. Normal slots overlapping an urgent first play are dropped (preempted).
 */
export function scheduleDay(dayStart: number, device: AirtimeDevice, items: readonly SchedulableItem[]): DaySchedule {
  const dayEnd = localMidnight(dayStart, device.timeZone, 1);
  const unplaced = new Map<number, number>();
  const missed = (id: number, count: number) => {
    if (count > 0) unplaced.set(id, (unplaced.get(id) ?? 0) + count);
  };
  const rooms: Room[] = airtimeOn(dayStart, device).map((interval) => ({ ...interval, used: 0, placed: [] }));
  const byStart = (a: SchedulableItem, b: SchedulableItem) => a.validFrom - b.validFrom || a.id - b.id;
  const slots: Slot[] = [];
  const urgentBlocks: Interval[] = [];
  for (const item of items.filter((candidate) => candidate.priority === 'urgent').sort(byStart)) {
    if (item.validTo <= dayStart || item.validFrom >= dayEnd) continue;
    if (item.validFrom < dayStart) {
      missed(item.id, placeInRooms(rooms, item, dayStart, item.repetitions));
      continue;
    }
    let start = Math.max(item.validFrom, urgentBlocks.at(-1)?.end ?? 0);
    const blockStart = start;
    slots.push({ item: item.id, start, ms: item.ms, priority: 'urgent' });
    start += item.ms + GAP_MS;
    const left = placeInRooms(rooms, item, start, item.repetitions - 1);
    for (let play = 0; play < left && start < item.validTo; play += 1) {
      slots.push({ item: item.id, start, ms: item.ms, priority: 'urgent' });
      start += item.ms + GAP_MS;
    }
    urgentBlocks.push({ start: blockStart, end: start });
  }
  for (const item of items.filter((candidate) => candidate.priority === 'normal').sort(byStart)) {
    missed(item.id, placeInRooms(rooms, item, item.validFrom, item.repetitions));
  }
  for (const room of rooms) {
    // In the order they may start (stable: an urgent play placed first stays first among equals),
    // each gap an even share of the room still spare after it, so a play that may start only
    // mid-window (its validity, or after an urgent first play) does not push the rest out.
    const queue = [...room.placed].sort((a, b) => a.from - b.from);
    let restNeed = queue.reduce((sum, placed) => sum + placed.item.ms + GAP_MS, 0);
    let cursor = room.start;
    queue.forEach(({ item, from }, index) => {
      restNeed -= item.ms + GAP_MS;
      const start = Math.max(Math.round(cursor), from);
      // A late start can push a play past its item's end or its window's: it is then not aired, and said so.
      if (start + item.ms > Math.min(item.validTo, room.end)) return missed(item.id, 1);
      slots.push({ item: item.id, start, ms: item.ms, priority: item.priority });
      const after = start + item.ms + GAP_MS;
      const left = queue.length - index - 1;
      // The share is of the room before the earliest end among the plays still to come (an item valid only briefly).
      const horizon = Math.min(room.end, ...queue.slice(index + 1).map((next) => next.item.validTo));
      cursor = after + (left > 0 ? Math.max(0, horizon - after - restNeed) / (left + 1) : 0);
    });
  }
  const kept = slots.filter((slot) => slot.priority === 'urgent' || !urgentBlocks.some((block) => slot.start < block.end && slot.start + slot.ms > block.start));
  kept.sort((a, b) => a.start - b.start || a.item - b.item);
  return { slots: kept, unplaced };
}

/** A stable tag of a list of slots (the playlist version changes exactly when they do). */
export function slotsHash(slots: readonly Slot[]): string {
  return createHash('sha256')
    .update(slots.map((slot) => `${slot.item}@${slot.start}+${slot.ms}`).join(','))
    .digest('base64url')
    .slice(0, 10);
}
