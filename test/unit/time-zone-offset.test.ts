import { describe, expect, it } from 'vitest';
import { parseReceiptDate } from '../../src/domain/receipt.js';
import { offsetMinutes, wallTimeOf, wallTimeToUtc, type WallTime } from '../../src/domain/time-zone.js';

// The uncached conversion as it was before the per-hour offset cache: the reference.
function referenceOffset(date: Date, timeZone: string): number {
  const wall = wallTimeOf(date, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
}
function referenceToUtc(wall: WallTime, timeZone: string): Date {
  const guess = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const first = guess - referenceOffset(new Date(guess), timeZone) * 60_000;
  const second = guess - referenceOffset(new Date(first), timeZone) * 60_000;
  if (first === second) return new Date(first);
  const shows = (instant: number): boolean => {
    const w = wallTimeOf(new Date(instant), timeZone);
    return w.hour === wall.hour && w.minute === wall.minute && w.day === wall.day;
  };
  const valid = [first, second].filter(shows);
  return new Date(valid.length > 0 ? Math.min(...valid) : Math.max(first, second));
}

const ZONES = ['Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC'];

/** A small deterministic generator (tests must not depend on Math.random). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('offsetMinutes (cached per hour)', () => {
  it.each(ZONES)('agrees with Intl at 3,000 instants in %s, DST transitions and 1900–2050 included', (zone) => {
    const random = lcg(zone.length * 7919);
    const instants: number[] = [];
    for (let i = 0; i < 2_000; i++) instants.push(Date.UTC(1900, 0, 1) + Math.floor(random() * (Date.UTC(2050, 0, 1) - Date.UTC(1900, 0, 1))));
    // Dense around this decade's transitions: every 7 minutes 13 seconds through 2025's spring and autumn weeks.
    for (const start of [Date.UTC(2025, 2, 8), Date.UTC(2025, 2, 29), Date.UTC(2025, 9, 4), Date.UTC(2025, 9, 25), Date.UTC(2025, 10, 1)]) {
      for (let t = start; t < start + 2 * 86_400_000 && instants.length < 3_000; t += 433_000) instants.push(t);
    }
    for (const t of instants) {
      expect(offsetMinutes(new Date(t), zone), `${zone} ${new Date(t).toISOString()}`).toBe(referenceOffset(new Date(t), zone));
    }
  });

  it.each(ZONES)('turns wall times into the same instants as before in %s, gaps and overlaps included', (zone) => {
    const random = lcg(zone.length * 104_729);
    for (let i = 0; i < 2_000; i++) {
      const month = 1 + Math.floor(random() * 12);
      const wall = { year: 2000 + Math.floor(random() * 40), month, day: 1 + Math.floor(random() * 28), hour: Math.floor(random() * 24), minute: Math.floor(random() * 60), second: 0 };
      expect(wallTimeToUtc(wall, zone).getTime(), `${zone} ${JSON.stringify(wall)}`).toBe(referenceToUtc(wall, zone).getTime());
    }
    // Every half hour through the days of this decade's DST changes in Europe, the US and Australia.
    for (const [year, month, day] of [[2024, 3, 10], [2024, 3, 31], [2024, 4, 7], [2024, 10, 6], [2024, 10, 27], [2024, 11, 3]] as const) {
      for (let minutes = 0; minutes < 24 * 60; minutes += 30) {
        const wall = { year, month, day, hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0 };
        expect(wallTimeToUtc(wall, zone).getTime(), `${zone} ${JSON.stringify(wall)}`).toBe(referenceToUtc(wall, zone).getTime());
      }
    }
  });

  it('parses receipt dates (YYMMDDhhmm) in Asia/Ho_Chi_Minh as UTC+7', () => {
    expect(parseReceiptDate('2602261403')?.toISOString()).toBe('2026-02-26T07:03:00.000Z');
    expect(parseReceiptDate('000101000000')?.toISOString()).toBe('1999-12-31T17:00:00.000Z');
    expect(parseReceiptDate('2602301403')).toBeNull();
  });

  it('rejects an unknown zone', () => {
    expect(() => offsetMinutes(new Date(), 'Mars/Olympus_Mons')).toThrow(/unknown time zone/);
  });
});
