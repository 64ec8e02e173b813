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

  it('plays an urgent item at once, repeated, even in blackout, and preempts normal slots it overlaps', () => {
    const at = DAY + minute('17:00') * 60_000 + 10_000;
    const urgent = item({ id: 9, ms: 20_000, repetitions: 3, priority: 'urgent', validFrom: at });
    const normal = item({ id: 1, ms: 40_000, repetitions: 1, validFrom: DAY + minute('16:00') * 60_000 });
    const sut = scheduleDay(DAY, device, [normal, urgent]);
    const urgentSlots = sut.slots.filter((slot) => slot.item === 9);
    expect(urgentSlots.map((slot) => slot.start)).toEqual([at, at + 20_000 + GAP_MS, at + 2 * (20_000 + GAP_MS)]);
    const block = { start: at, end: at + 3 * (20_000 + GAP_MS) };
    for (const slot of sut.slots.filter((candidate) => candidate.item === 1)) expect(slot.start + slot.ms <= block.start || slot.start >= block.end).toBe(true);

    const night = DAY + minute('23:00') * 60_000;
    const atNight = scheduleDay(DAY, device, [item({ id: 9, ms: 20_000, repetitions: 2, priority: 'urgent', validFrom: night })]);
    expect(atNight.slots.map((slot) => slot.start)).toEqual([night, night + 20_000 + GAP_MS]);
  });
});
