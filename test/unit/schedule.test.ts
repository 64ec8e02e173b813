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

describe(`${expandOccurrences.name} with quiet hours collapsing a frequent schedule`, () => {
  const night = { from: '21:00', to: '07:00' };
  const lunch = { from: '12:00', to: '13:30' };
  /** [launch, nominal of the one kept, nominals skipped], as Vietnam wall times 'D HH:MM' in Sept 2021. */
  type Row = [launch: string, kept: string, skipped: string[]];
  const at = (dayHhmm: string): Date => {
    const [day, hhmm] = dayHhmm.split(' ') as [string, string];
    return vn(2021, 9, Number(day), Number(hhmm.slice(0, 2)), Number(hhmm.slice(3)));
  };
  const hours = (day: number, from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `${day} ${String(from + i).padStart(2, '0')}:00`);

  it.each<[string, Partial<CampaignSchedule>, Row[]]>([
    [
      'hourly ×16 from 18:00, quiet 21–07: one 07:00 run, the regular 07:00 kept, 21:00–06:00 skipped',
      { start: '2021-09-23T18:00:00+07:00', rrule: 'FREQ=HOURLY;COUNT=16', quietHours: night },
      [
        ['23 18:00', '23 18:00', []],
        ['23 19:00', '23 19:00', []],
        ['23 20:00', '23 20:00', []],
        ['24 07:00', '24 07:00', [...hours(23, 21, 23), ...hours(24, 0, 6)]],
        ['24 08:00', '24 08:00', []],
        ['24 09:00', '24 09:00', []],
      ],
    ],
    [
      'hourly ending inside the quiet window: the earliest deferred one is kept',
      { start: '2021-09-23T20:00:00+07:00', rrule: 'FREQ=HOURLY;COUNT=4', quietHours: night },
      [
        ['23 20:00', '23 20:00', []],
        ['24 07:00', '23 21:00', ['23 22:00', '23 23:00']],
      ],
    ],
    [
      'hourly across a lunch window 12:00–13:30: 12:00 and 13:00 both defer to 13:30',
      { start: '2021-09-23T11:00:00+07:00', rrule: 'FREQ=HOURLY;COUNT=4', quietHours: lunch },
      [
        ['23 11:00', '23 11:00', []],
        ['23 13:30', '23 12:00', ['23 13:00']],
        ['23 14:00', '23 14:00', []],
      ],
    ],
    [
      'a deferred one landing on the next regular one: the regular one is kept',
      { start: '2021-09-23T11:30:00+07:00', rrule: 'FREQ=HOURLY;BYMINUTE=0,30;COUNT=5', quietHours: { from: '12:00', to: '13:00' } },
      [
        ['23 11:30', '23 11:30', []],
        ['23 13:00', '23 13:00', ['23 12:00', '23 12:30']],
        ['23 13:30', '23 13:30', []],
      ],
    ],
    [
      'daily inside quiet hours: each deferred alone, nothing collapsed',
      { start: '2021-09-23T22:30:00+07:00', rrule: 'FREQ=DAILY;COUNT=2', quietHours: night },
      [
        ['24 07:00', '23 22:30', []],
        ['25 07:00', '24 22:30', []],
      ],
    ],
  ])('%s', (_, schedule, rows) => {
    const sut = expandOccurrences(scheduled(schedule), ALL);
    expect(sut.map((o) => [o.launchAt, o.nominal, o.skipped.map((k) => k.nominal)])).toEqual(rows.map(([launch, kept, skipped]) => [at(launch), at(kept), skipped.map(at)]));
    expect(sut.every((o) => o.deferred === (o.launchAt.getTime() !== o.nominal.getTime()))).toBe(true);
    expect(sut.flatMap((o) => o.skipped).every((k) => k.reason === 'collapsed-by-quiet-hours' && k.id === occurrenceId('cantho-test', k.nominal))).toBe(true);
  });

  it.each([
    ['the whole night and morning', vn(2021, 9, 23, 0), vn(2021, 9, 25, 0)],
    ['starting inside the quiet window', vn(2021, 9, 24, 3), vn(2021, 9, 24, 12)],
    ['exactly around the launch', vn(2021, 9, 24, 7), vn(2021, 9, 24, 7, 1)],
    ['with a limit of one', vn(2021, 9, 24, 6), vn(2021, 9, 30, 0)],
  ])('keeps the same id and skipped list for any window holding the 07:00 launch: %s', (_, from, to) => {
    const campaign = scheduled({ start: '2021-09-23T18:00:00+07:00', rrule: 'FREQ=HOURLY;COUNT=16', quietHours: night });
    const sut = expandOccurrences(campaign, { from, to, limit: 1 }).concat(expandOccurrences(campaign, { from, to })).find((o) => o.launchAt.getTime() === vn(2021, 9, 24, 7).getTime());
    expect(sut?.id).toBe(occurrenceId(campaign.id, vn(2021, 9, 24, 7)));
    expect(sut?.skipped).toHaveLength(10);
  });

  it('lets urgent campaigns keep every hour (nothing deferred, nothing collapsed)', () => {
    const sut = expandOccurrences(scheduled({ start: '2021-09-23T18:00:00+07:00', rrule: 'FREQ=HOURLY;COUNT=16', quietHours: night }, { priority: 'urgent' }), ALL);
    expect(sut).toHaveLength(16);
    expect(sut.every((o) => o.skipped.length === 0)).toBe(true);
  });
});

describe(nextOccurrences.name, () => {
  it('returns the next ones after a moment', () => {
    const sut = nextOccurrences(scheduled({ rrule: 'FREQ=DAILY;COUNT=8' }), vn(2021, 9, 28, 9), 5);
    expect(sut.map((o) => o.launchAt)).toEqual([vn(2021, 9, 29, 8), vn(2021, 9, 30, 8)]);
  });

  // Three a day-hour with a 24 h look-back once exceeded the nominal-time cap before the window began.
  const busy = scheduled({ start: '2021-09-01T07:00:00+07:00', rrule: 'FREQ=HOURLY;BYMINUTE=0,20,40', quietHours: { from: '22:00', to: '07:00' } });
  it.each([
    ['in the afternoon', vn(2021, 9, 23, 15, 5), [vn(2021, 9, 23, 15, 20), vn(2021, 9, 23, 15, 40), vn(2021, 9, 23, 16)]],
    ['just before quiet hours', vn(2021, 9, 23, 21, 30), [vn(2021, 9, 23, 21, 40), vn(2021, 9, 24, 7), vn(2021, 9, 24, 7, 20)]],
    ['inside quiet hours', vn(2021, 9, 24, 2), [vn(2021, 9, 24, 7), vn(2021, 9, 24, 7, 20), vn(2021, 9, 24, 7, 40)]],
    ['weeks after the start', vn(2021, 12, 31, 23), [vn(2022, 1, 1, 7), vn(2022, 1, 1, 7, 20), vn(2022, 1, 1, 7, 40)]],
  ])('finds the next three of a rule firing three times an hour, %s', (_, after, expected) => {
    const sut = nextOccurrences(busy, after, 3);
    expect(sut.map((o) => o.launchAt)).toEqual(expected);
  });

  it('finds the 07:00 run of a busy rule and everything folded into it', () => {
    const [sut] = nextOccurrences(busy, vn(2021, 9, 24, 0), 1);
    expect(sut?.nominal).toEqual(vn(2021, 9, 24, 7));
    expect(sut?.skipped).toHaveLength(27); // 22:00–06:40, three an hour
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
