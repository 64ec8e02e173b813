import { describe, expect, it } from 'vitest';
import { deferForQuietHours, expandOccurrences, inQuietHours, nextOccurrences, occurrenceId } from '../../src/domain/schedule.js';
import type { Campaign, CampaignSchedule } from '../../src/domain/campaign.js';
import { buildCampaign } from '../factories.js';

const VN = 'Asia/Ho_Chi_Minh';
/** Vietnam wall time → instant, computed independently (UTC+7, no DST). */
const vn = (y: number, mo: number, d: number, h: number, mi = 0): Date => new Date(Date.UTC(y, mo - 1, d, h - 7, mi));
const iso = (dates: Date[]): string[] => dates.map((d) => d.toISOString());

function scheduled(schedule: Partial<CampaignSchedule>, overrides: Partial<Campaign> = {}): Campaign {
  return buildCampaign({ ...overrides, schedule: { timezone: VN, quietHours: { from: '22:00', to: '07:00' }, start: '2021-09-23T08:00:00+07:00', ...schedule } });
}

const ALL = { from: new Date(Date.UTC(2000, 0, 1)), to: new Date(Date.UTC(2100, 0, 1)) };

describe(expandOccurrences.name, () => {
  it('expands a daily 08:00 in Asia/Ho_Chi_Minh to 01:00Z for eight days (Cần Thơ, Sept 2021)', () => {
    const sut = expandOccurrences(scheduled({ rrule: 'FREQ=DAILY;COUNT=8' }), ALL);
    expect(iso(sut.map((o) => o.launchAt))).toEqual(Array.from({ length: 8 }, (_, i) => vn(2021, 9, 23 + i, 8).toISOString()));
    expect(sut.every((o) => o.launchAt.toISOString().endsWith('T01:00:00.000Z'))).toBe(true);
    expect(sut.every((o) => !o.deferred)).toBe(true);
  });

  it('has one occurrence at start when there is no rrule', () => {
    const sut = expandOccurrences(scheduled({ start: '2020-02-08T08:00:00+07:00' }), ALL);
    expect(sut).toHaveLength(1);
    expect(sut[0]?.nominal).toEqual(vn(2020, 2, 8, 8));
  });

  it('has no occurrences without a schedule (launched by hand)', () => {
    expect(expandOccurrences(buildCampaign(), ALL)).toEqual([]);
  });

  it.each([
    ['an offset', '2021-09-23T08:00:00+07:00'],
    ['UTC', '2021-09-23T01:00:00Z'],
    ['local wall time', '2021-09-23T08:00:00'],
    ['local wall time without seconds', '2021-09-23T08:00'],
  ])('reads start with %s as the same instant', (_, start) => {
    expect(expandOccurrences(scheduled({ start }), ALL)[0]?.nominal).toEqual(vn(2021, 9, 23, 8));
  });

  it('gives stable ids from the nominal time, the same for overlapping windows', () => {
    const campaign = scheduled({ rrule: 'FREQ=DAILY;COUNT=8' });
    const early = expandOccurrences(campaign, { from: vn(2021, 9, 20, 0), to: vn(2021, 9, 27, 0) });
    const late = expandOccurrences(campaign, { from: vn(2021, 9, 25, 0), to: vn(2021, 10, 1, 0) });
    const overlap = early.filter((o) => late.some((l) => l.id === o.id));
    expect(overlap.map((o) => o.id)).toEqual([occurrenceId(campaign.id, vn(2021, 9, 25, 8)), occurrenceId(campaign.id, vn(2021, 9, 26, 8))]);
    expect(new Set([...early, ...late].map((o) => o.id)).size).toBe(8);
    expect(early[0]?.id).toBe(`${campaign.id}@2021-09-23T01:00:00.000Z`);
  });

  it('selects by launch time in [from, to)', () => {
    const campaign = scheduled({ rrule: 'FREQ=DAILY;COUNT=8' });
    const sut = expandOccurrences(campaign, { from: vn(2021, 9, 24, 8), to: vn(2021, 9, 26, 8) });
    expect(iso(sut.map((o) => o.launchAt))).toEqual([vn(2021, 9, 24, 8), vn(2021, 9, 25, 8)].map((d) => d.toISOString()));
  });

  it('defers an occurrence inside quiet hours to the end of the window, keeping its id', () => {
    const sut = expandOccurrences(scheduled({ start: '2021-09-23T22:30:00+07:00', rrule: 'FREQ=DAILY;COUNT=2', quietHours: { from: '21:00', to: '07:00' } }), ALL);
    expect(sut.map((o) => [o.nominal.toISOString(), o.launchAt.toISOString(), o.deferred])).toEqual([
      [vn(2021, 9, 23, 22, 30).toISOString(), vn(2021, 9, 24, 7).toISOString(), true],
      [vn(2021, 9, 24, 22, 30).toISOString(), vn(2021, 9, 25, 7).toISOString(), true],
    ]);
    expect(sut[0]?.id).toBe(occurrenceId('cantho-test', vn(2021, 9, 23, 22, 30)));
  });

  it('finds an occurrence from before the window that defers into it', () => {
    const campaign = scheduled({ start: '2021-09-23T23:00:00+07:00', quietHours: { from: '21:00', to: '07:00' } });
    const sut = expandOccurrences(campaign, { from: vn(2021, 9, 24, 0), to: vn(2021, 9, 24, 12) });
    expect(sut.map((o) => o.launchAt)).toEqual([vn(2021, 9, 24, 7)]);
  });

  it('lets urgent campaigns ignore quiet hours', () => {
    const sut = expandOccurrences(scheduled({ start: '2021-07-18T23:30:00+07:00' }, { priority: 'urgent' }), ALL);
    expect(sut[0]).toMatchObject({ launchAt: vn(2021, 7, 18, 23, 30), deferred: false });
  });

  it('sends at any hour with quietHours: null', () => {
    const sut = expandOccurrences(scheduled({ start: '2021-07-18T03:00:00+07:00', quietHours: null }), ALL);
    expect(sut[0]?.deferred).toBe(false);
  });

  it('stops at end', () => {
    const sut = expandOccurrences(scheduled({ rrule: 'FREQ=DAILY', end: '2021-09-25T12:00:00+07:00' }), ALL);
    expect(sut).toHaveLength(3);
  });

  it.each([
    ['UNTIL as a UTC instant', 'FREQ=DAILY;UNTIL=20210925T010000Z', 3],
    ['UNTIL as a date, inclusive', 'FREQ=DAILY;UNTIL=20210925', 3],
    ['UNTIL as local time', 'FREQ=DAILY;UNTIL=20210925T075959', 2],
    ['weekly on Mondays and Thursdays', 'FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4', 4],
    ['every other day', 'FREQ=DAILY;INTERVAL=2;COUNT=3', 3],
    ['hourly', 'FREQ=HOURLY;COUNT=5', 5],
    ['lower-case with RRULE: prefix', 'rrule:freq=daily;count=2', 2],
  ])('honours %s', (_, rrule, count) => {
    expect(expandOccurrences(scheduled({ rrule, quietHours: null }), ALL)).toHaveLength(count);
  });

  it('keeps the wall-clock time across a daylight-saving change (zone-general)', () => {
    const sut = expandOccurrences(scheduled({ start: '2021-03-12T09:00:00', timezone: 'America/New_York', rrule: 'FREQ=DAILY;COUNT=3', quietHours: null }), ALL);
    expect(iso(sut.map((o) => o.launchAt))).toEqual(['2021-03-12T14:00:00.000Z', '2021-03-13T14:00:00.000Z', '2021-03-14T13:00:00.000Z']);
  });

  it('does not depend on the host time zone', () => {
    // The process TZ is whatever the CI sets; the result above is absolute, and so is this one.
    const sut = expandOccurrences(scheduled({ start: '2021-09-23T08:00:00', timezone: 'Asia/Tokyo', quietHours: null }), ALL);
    expect(sut[0]?.launchAt.toISOString()).toBe('2021-09-22T23:00:00.000Z');
  });

  it('bounds an endless rule by the limit', () => {
    expect(expandOccurrences(scheduled({ rrule: 'FREQ=HOURLY', quietHours: null }), { ...ALL, limit: 50 })).toHaveLength(50);
  });

  it('sets validUntil from validity', () => {
    const sut = expandOccurrences(scheduled({}, { validity: 'PT12H' }), ALL);
    expect(sut[0]?.validUntil).toEqual(vn(2021, 9, 23, 20));
  });
});

describe(nextOccurrences.name, () => {
  it('returns the next ones after a moment', () => {
    const sut = nextOccurrences(scheduled({ rrule: 'FREQ=DAILY;COUNT=8' }), vn(2021, 9, 28, 9), 5);
    expect(sut.map((o) => o.launchAt)).toEqual([vn(2021, 9, 29, 8), vn(2021, 9, 30, 8)]);
  });
});

describe(inQuietHours.name, () => {
  const wrap = { from: '21:00', to: '07:00' };
  const day = { from: '12:00', to: '13:30' };
  it.each([
    [wrap, '20:59', false],
    [wrap, '21:00', true],
    [wrap, '23:59', true],
    [wrap, '00:00', true],
    [wrap, '06:59', true],
    [wrap, '07:00', false],
    [day, '11:59', false],
    [day, '12:00', true],
    [day, '13:29', true],
    [day, '13:30', false],
  ])('%j at %s → %s', (quiet, hhmm, expected) => {
    const minute = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
    expect(inQuietHours(minute, quiet)).toBe(expected);
  });
});

describe(deferForQuietHours.name, () => {
  const wrap = { from: '21:00', to: '07:00' };
  it.each([
    ['before the window', vn(2021, 9, 23, 20, 59), vn(2021, 9, 23, 20, 59)],
    ['at its start', vn(2021, 9, 23, 21), vn(2021, 9, 24, 7)],
    ['before midnight', vn(2021, 9, 23, 23, 45), vn(2021, 9, 24, 7)],
    ['after midnight', vn(2021, 9, 24, 2), vn(2021, 9, 24, 7)],
    ['at the first allowed minute', vn(2021, 9, 24, 7), vn(2021, 9, 24, 7)],
    ['across a month end', vn(2021, 9, 30, 22), vn(2021, 10, 1, 7)],
    ['across a year end', vn(2021, 12, 31, 23), vn(2022, 1, 1, 7)],
  ])('%s', (_, at, expected) => {
    expect(deferForQuietHours(at, wrap, VN)).toEqual(expected);
  });

  it('defers inside a same-day window to its end', () => {
    expect(deferForQuietHours(vn(2021, 9, 23, 12, 10), { from: '12:00', to: '13:30' }, VN)).toEqual(vn(2021, 9, 23, 13, 30));
  });

  it('leaves the time alone without quiet hours', () => {
    expect(deferForQuietHours(vn(2021, 9, 23, 3), null, VN)).toEqual(vn(2021, 9, 23, 3));
  });
});
