import { describe, expect, it } from 'vitest';
import { airtimeOn, GAP_MS, localMidnight, scheduleDay, windowIssues, type AirtimeDevice, type SchedulableItem } from '../../src/loudspeakers/airtime.js';
import { wallTimeOf } from '../../src/domain/time-zone.js';

const ZONE = 'Asia/Ho_Chi_Minh';
/** 26 November 2026, 00:00 in Vietnam. */
const DAY = Date.parse('2026-11-25T17:00:00Z');
const DAY_END = DAY + 24 * 3600_000;
const device: AirtimeDevice = {
  airtime: [
    { from: '05:30', to: '06:30' },
    { from: '11:00', to: '12:00' },
    { from: '17:00', to: '18:30' },
  ],
  // School hours (online lessons) cut the noon window; night stays silent.
  blackout: [
    { from: '11:30', to: '13:30' },
    { from: '21:00', to: '05:00' },
  ],
  timeZone: ZONE,
};

const local = (ms: number) => {
  const wall = wallTimeOf(new Date(ms), ZONE);
  return wall.hour * 60 + wall.minute + wall.second / 60;
};
const minute = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3));
const item = (overrides: Partial<SchedulableItem> = {}): SchedulableItem => ({ id: 1, ms: 40_000, repetitions: 3, priority: 'normal', validFrom: DAY, validTo: DAY_END, ...overrides });
const inWindows = (start: number, end: number, windows: ReadonlyArray<{ from: string; to: string }>) =>
  windows.some((window) => {
    const from = minute(window.from);
    const to = minute(window.to);
    const [a, b] = [local(start), local(end - 1)];
    return from < to ? a >= from && b < to : a >= from || b < to;
  });
/** No two slots on the air at once. */
const noOverlap = (slots: ReadonlyArray<{ start: number; ms: number }>) => {
  const sorted = [...slots].sort((a, b) => a.start - b.start);
  return sorted.every((slot, index) => index === 0 || slot.start >= sorted[index - 1]!.start + sorted[index - 1]!.ms);
};

describe('airtime', () => {
  it('is the airtime windows minus blackout, in local time', () => {
    const intervals = airtimeOn(DAY, device).map((interval) => [local(interval.start), local(interval.end)]);
    expect(intervals).toEqual([
      [minute('05:30'), minute('06:30')],
      [minute('11:00'), minute('11:30')],
      [minute('17:00'), minute('18:30')],
    ]);
  });

  it('handles an airtime window across midnight, cut by a blackout window', () => {
    const night: AirtimeDevice = { airtime: [{ from: '22:00', to: '02:00' }], blackout: [{ from: '23:00', to: '01:00' }], timeZone: ZONE };
    const intervals = airtimeOn(DAY, night).map((interval) => [interval.start - DAY, interval.end - DAY]);
    expect(intervals).toEqual([
      [1 * 3600_000, 2 * 3600_000],
      [22 * 3600_000, 23 * 3600_000],
    ]);
  });

  it('names a malformed window by its field', () => {
    expect(windowIssues('airtime', [{ from: '5:30', to: '06:30' }, { from: '07:00', to: '07:00' }]).map((issue) => issue.path)).toEqual(['airtime[0].from', 'airtime[1]']);
  });

  it('local midnight is 17:00 UTC the day before', () => {
    expect(localMidnight(Date.parse('2026-11-26T10:00:00Z'), ZONE)).toBe(DAY);
  });
});

describe(scheduleDay.name, () => {
  it('places every daily broadcast in airtime, never in blackout, one per window first', () => {
    const sut = scheduleDay(DAY, device, [item()]);
    expect(sut.unplaced.size).toBe(0);
    expect(sut.slots).toHaveLength(3);
    for (const slot of sut.slots) {
      expect(inWindows(slot.start, slot.start + slot.ms, device.airtime)).toBe(true);
      expect(inWindows(slot.start, slot.start + slot.ms, device.blackout)).toBe(false);
    }
    // Spread: three broadcasts, three windows.
    expect(new Set(sut.slots.map((slot) => Math.floor(local(slot.start) / 60))).size).toBe(3);
  });

  it('never overfills a window: what does not fit is reported, and slots never overlap', () => {
    const small: AirtimeDevice = { airtime: [{ from: '05:30', to: '05:35' }], blackout: [], timeZone: ZONE };
    const items = [item({ id: 1, ms: 60_000, repetitions: 3 }), item({ id: 2, ms: 90_000, repetitions: 2 })];
    const sut = scheduleDay(DAY, small, items);
    const used = sut.slots.reduce((sum, slot) => sum + slot.ms + GAP_MS, 0);
    expect(used).toBeLessThanOrEqual(5 * 60_000);
    const unplaced = [...sut.unplaced.values()].reduce((a, b) => a + b, 0);
    expect(sut.slots.length + unplaced).toBe(5);
    expect(unplaced).toBeGreaterThan(0);
    const sorted = [...sut.slots].sort((a, b) => a.start - b.start);
    for (let index = 1; index < sorted.length; index += 1) expect(sorted[index]!.start).toBeGreaterThanOrEqual(sorted[index - 1]!.start + sorted[index - 1]!.ms);
    for (const slot of sut.slots) expect(slot.start + slot.ms).toBeLessThanOrEqual(DAY + minute('05:35') * 60_000);
  });

  it('keeps a broadcast inside its item’s validity', () => {
    const validFrom = DAY + minute('12:00') * 60_000;
    const sut = scheduleDay(DAY, device, [item({ validFrom })]);
    expect(sut.slots.length).toBeGreaterThan(0);
    for (const slot of sut.slots) expect(slot.start).toBeGreaterThanOrEqual(validFrom);
    // Only the evening window is left: one of three fits there first, the rest share it or wait.
    for (const slot of sut.slots) expect(local(slot.start)).toBeGreaterThanOrEqual(minute('17:00'));
  });

  it('plays an urgent item at once, the rest of its repetitions spread over the day’s airtime, preempting normal slots', () => {
    const at = DAY + minute('17:00') * 60_000 + 10_000;
    const urgent = item({ id: 9, ms: 20_000, repetitions: 3, priority: 'urgent', validFrom: at });
    const normal = item({ id: 1, ms: 40_000, repetitions: 1, validFrom: DAY + minute('16:00') * 60_000 });
    const sut = scheduleDay(DAY, device, [normal, urgent]);
    const urgentSlots = sut.slots.filter((slot) => slot.item === 9);
    expect(urgentSlots).toHaveLength(3);
    expect(urgentSlots[0]!.start).toBe(at);
    // Only 17:00–18:30 is left today: the other two lie there after the first play, apart, not in a block.
    for (const slot of urgentSlots.slice(1)) {
      expect(slot.start).toBeGreaterThanOrEqual(at + 20_000 + GAP_MS);
      expect(inWindows(slot.start, slot.start + slot.ms, [{ from: '17:00', to: '18:30' }])).toBe(true);
    }
    expect(urgentSlots[2]!.start - urgentSlots[1]!.start).toBeGreaterThan(10 * 60_000);
    expect(urgentSlots.every((slot) => slot.priority === 'urgent')).toBe(true);
    const first = { start: at, end: at + 20_000 + GAP_MS };
    for (const slot of sut.slots.filter((candidate) => candidate.item === 1)) expect(slot.start + slot.ms <= first.start || slot.start >= first.end).toBe(true);
    expect(noOverlap(sut.slots)).toBe(true);

    // At night no airtime is left: the alert is repeated at once rather than aired fewer times.
    const night = DAY + minute('23:00') * 60_000;
    const atNight = scheduleDay(DAY, device, [item({ id: 9, ms: 20_000, repetitions: 2, priority: 'urgent', validFrom: night })]);
    expect(atNight.slots.map((slot) => slot.start)).toEqual([night, night + 20_000 + GAP_MS]);
  });

  it('repeats an urgent item on every later day of its validity, spread over airtime, never in blackout', () => {
    const launchedAt = DAY - 2 * 3600_000; // 22:00 the day before
    const urgent = item({ id: 9, ms: 20_000, repetitions: 3, priority: 'urgent', validFrom: launchedAt, validTo: DAY + 3 * 86_400_000 });
    for (const day of [DAY, DAY + 86_400_000, DAY + 2 * 86_400_000]) {
      const sut = scheduleDay(day, device, [urgent]);
      expect(sut.slots).toHaveLength(3);
      expect(sut.unplaced.size).toBe(0);
      for (const slot of sut.slots) {
        expect(slot.priority).toBe('urgent');
        expect(slot.start).toBeGreaterThanOrEqual(day);
        expect(inWindows(slot.start, slot.start + slot.ms, device.airtime)).toBe(true);
        expect(inWindows(slot.start, slot.start + slot.ms, device.blackout)).toBe(false);
      }
      // One play per window: morning, noon (before the lessons) and evening.
      expect(new Set(sut.slots.map((slot) => Math.floor(local(slot.start) / 60))).size).toBe(3);
    }
    // Past its validity: nothing.
    expect(scheduleDay(DAY + 3 * 86_400_000, device, [urgent]).slots).toEqual([]);
  });

  it('gives a later day’s urgent plays the airtime first: normal plays that no longer fit are reported unplaced', () => {
    const tight: AirtimeDevice = { airtime: [{ from: '17:00', to: '17:02' }], blackout: [], timeZone: ZONE };
    const normal = item({ id: 1, ms: 50_000, repetitions: 2 });
    expect(scheduleDay(DAY, tight, [normal]).unplaced.size).toBe(0);
    const urgent = item({ id: 9, ms: 50_000, repetitions: 1, priority: 'urgent', validFrom: DAY - 3600_000, validTo: DAY_END });
    const sut = scheduleDay(DAY, tight, [normal, urgent]);
    expect(sut.slots.filter((slot) => slot.item === 9)).toHaveLength(1);
    expect(sut.slots.filter((slot) => slot.item === 1)).toHaveLength(1);
    expect(sut.unplaced.get(1)).toBe(1);
    expect(noOverlap(sut.slots)).toBe(true);
  });
});
