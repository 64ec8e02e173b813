import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical-json.js';
import { parseIsoDuration } from '../../src/domain/iso-duration.js';
import { normalizeRrule, RecurrenceError } from '../../src/domain/recurrence.js';
import { isValidTimeZone, offsetMinutes, parseDateTime, TimeZoneError, wallTimeOf, wallTimeToUtc } from '../../src/domain/time-zone.js';

describe(wallTimeToUtc.name, () => {
  it.each([
    ['Asia/Ho_Chi_Minh', { year: 2021, month: 9, day: 23, hour: 8, minute: 0, second: 0 }, '2021-09-23T01:00:00.000Z'],
    ['Asia/Ho_Chi_Minh', { year: 2022, month: 1, day: 1, hour: 0, minute: 0, second: 0 }, '2021-12-31T17:00:00.000Z'],
    ['UTC', { year: 2021, month: 9, day: 23, hour: 8, minute: 0, second: 0 }, '2021-09-23T08:00:00.000Z'],
    ['America/New_York', { year: 2021, month: 7, day: 1, hour: 12, minute: 0, second: 0 }, '2021-07-01T16:00:00.000Z'],
    ['America/New_York', { year: 2021, month: 1, day: 1, hour: 12, minute: 0, second: 0 }, '2021-01-01T17:00:00.000Z'],
    // In the spring-forward gap 02:30 does not exist: pushed forward to 03:30 EDT.
    ['America/New_York', { year: 2021, month: 3, day: 14, hour: 2, minute: 30, second: 0 }, '2021-03-14T07:30:00.000Z'],
    // In the fall-back overlap 01:30 happens twice: the first one.
    ['America/New_York', { year: 2021, month: 11, day: 7, hour: 1, minute: 30, second: 0 }, '2021-11-07T05:30:00.000Z'],
    ['Asia/Kolkata', { year: 2021, month: 9, day: 23, hour: 8, minute: 0, second: 0 }, '2021-09-23T02:30:00.000Z'],
  ])('%s %j → %s', (zone, wall, expected) => {
    expect(wallTimeToUtc(wall, zone).toISOString()).toBe(expected);
  });

  it('round-trips with wallTimeOf every hour of a year in Vietnam', () => {
    for (let t = Date.UTC(2021, 0, 1); t < Date.UTC(2022, 0, 1); t += 3_600_000) {
      const at = new Date(t);
      expect(wallTimeToUtc(wallTimeOf(at, 'Asia/Ho_Chi_Minh'), 'Asia/Ho_Chi_Minh')).toEqual(at);
      expect(offsetMinutes(at, 'Asia/Ho_Chi_Minh')).toBe(420);
    }
  });

  it('refuses an unknown zone with a typed error', () => {
    expect(() => wallTimeOf(new Date(), 'Mars/Olympus')).toThrow(TimeZoneError);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('Asia/Ho_Chi_Minh')).toBe(true);
  });
});

describe(parseDateTime.name, () => {
  it.each([
    ['2021-09-23T08:00:00+07:00', '2021-09-23T01:00:00.000Z'],
    ['2021-09-23T08:00:00Z', '2021-09-23T08:00:00.000Z'],
    ['2021-09-23T08:00:00-05:30', '2021-09-23T13:30:00.000Z'],
    ['2021-09-23T08:00:00', '2021-09-23T01:00:00.000Z'],
    ['2021-09-23T08:00', '2021-09-23T01:00:00.000Z'],
    ['2021-09-23T08:00:00.5+07:00', '2021-09-23T01:00:00.500Z'],
    ['2024-02-29T00:00:00+07:00', '2024-02-28T17:00:00.000Z'],
  ])('%s → %s', (text, expected) => {
    expect(parseDateTime(text, 'Asia/Ho_Chi_Minh')?.toISOString()).toBe(expected);
  });

  it.each(['2021-02-29T08:00:00', '2021-13-01T08:00:00', '2021-09-23T24:00:00', '2021-09-23T08:60', '2021-09-23 08:00', '23/09/2021', '', '2021-09-23T08:00:00+25:00'])(
    '%j is refused',
    (text) => {
      expect(parseDateTime(text, 'Asia/Ho_Chi_Minh')).toBeNull();
    },
  );
});

describe(parseIsoDuration.name, () => {
  it.each([
    ['PT24H', 86_400],
    ['P1D', 86_400],
    ['P2DT12H', 216_000],
    ['PT30M', 1_800],
    ['PT45S', 45],
    ['P1W', 604_800],
    ['PT1H30M15S', 5_415],
    ['PT0S', 0],
  ])('%s = %i s', (text, seconds) => {
    expect(parseIsoDuration(text)).toBe(seconds);
  });

  it.each(['P', 'PT', 'P1Y', 'P1M', 'PT1.5H', '24h', 'P-1D', '', 'P1DT'])('%j is refused', (text) => {
    expect(parseIsoDuration(text)).toBeNull();
  });
});

describe(canonicalJson.name, () => {
  it('sorts keys at every level and drops undefined', () => {
    const sut = canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined }, é: 'x' });
    expect(sut).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1,"é":"x"}');
  });

  it('is the same for the same data in any key order', () => {
    expect(canonicalJson({ x: 1, y: [1, 2] })).toBe(canonicalJson({ y: [1, 2], x: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('refuses NaN instead of writing null', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
  });
});

describe(normalizeRrule.name, () => {
  it.each([
    ['FREQ=DAILY;COUNT=8', 'FREQ=DAILY;COUNT=8'],
    ['RRULE:freq=weekly;byday=mo,th', 'FREQ=WEEKLY;BYDAY=MO,TH'],
    [' FREQ=MONTHLY;BYMONTHDAY=-1; ', 'FREQ=MONTHLY;BYMONTHDAY=-1'],
    ['FREQ=YEARLY;BYMONTH=9;BYDAY=1MO', 'FREQ=YEARLY;BYMONTH=9;BYDAY=1MO'],
  ])('%s → %s', (text, expected) => {
    expect(normalizeRrule(text)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['FREQ=DAILY;FREQ=WEEKLY', 'twice'],
    ['FREQ=DAILY;COUNT=0', 'COUNT'],
    ['FREQ=DAILY;COUNT=100000', 'COUNT'],
    ['FREQ=DAILY;BYDAY=XX', 'BYDAY'],
    ['FREQ=DAILY;BYMONTHDAY=0', 'BYMONTHDAY'],
    ['FREQ=DAILY;BYMONTH=13', 'BYMONTH'],
    ['FREQ=DAILY;BYMINUTE=60', 'BYMINUTE'],
    ['FREQ=DAILY;UNTIL=tomorrow', 'UNTIL'],
    ['FREQ=DAILY;TZID=Asia/Ho_Chi_Minh', 'timezone'],
    ['FREQ=SECONDLY', 'HOURLY'],
    ['FREQ=DAILY;FOO=1', 'unknown'],
    ['FREQ', 'KEY=VALUE'],
  ])('refuses %j (%s)', (text, mention) => {
    expect(() => normalizeRrule(text)).toThrow(RecurrenceError);
    expect(() => normalizeRrule(text)).toThrow(new RegExp(mention));
  });
});
