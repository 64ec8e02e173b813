import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { campaignWarnings, DEFAULT_MAX_PARTS } from '../../src/domain/campaign-warnings.js';
import { CampaignValidationError, parseCampaign, sniffCampaignBytes } from '../../src/domain/campaign.js';
import { formatLocalTime } from '../../src/domain/schedule.js';
import { buildCampaign, campaignDocument, campaignYaml } from '../factories.js';

const ucs2Allowed = { viettel: CARRIER_PROFILES.viettel.ucs2WithBrandname, vnpt: CARRIER_PROFILES.vnpt.ucs2WithBrandname, mobifone: CARRIER_PROFILES.mobifone.ucs2WithBrandname };
const now = new Date('2026-01-01T00:00:00Z');

function issuesOf(act: () => unknown): CampaignValidationError['issues'] {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(CampaignValidationError);
    return (error as CampaignValidationError).issues;
  }
  throw new Error('expected a CampaignValidationError');
}

describe('a schedule with no occurrence (issue 7, item 2)', () => {
  it('is invalid, at schedule.rrule', () => {
    const issues = issuesOf(() => parseCampaign(campaignYaml({ schedule: { start: '2026-02-01T08:00:00+07:00', rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' } })));
    expect(issues).toEqual([expect.objectContaining({ path: 'schedule.rrule', message: expect.stringMatching(/no occurrence/) as unknown })]);
  });

  it('is invalid when COUNT and end leave nothing', () => {
    const issues = issuesOf(() =>
      parseCampaign(campaignYaml({ schedule: { start: '2026-02-01T08:00:00+07:00', end: '2026-02-03T08:00:00+07:00', rrule: 'FREQ=WEEKLY;BYDAY=FR' } })),
    );
    expect(issues[0]?.path).toBe('schedule.rrule');
  });

  it('accepts a leap-day rule, which has occurrences', () => {
    expect(() => parseCampaign(campaignYaml({ schedule: { start: '2026-02-01T08:00:00+07:00', rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29' } }))).not.toThrow();
  });
});

describe('a JSON campaign (issue 7, item 7)', () => {
  it('refuses a trailing comma, naming line and column', () => {
    const text = `${JSON.stringify(campaignDocument(), null, 2).replace(/\n}$/, ',\n}')}`;
    expect(() => parseCampaign(text)).not.toThrow(); // as YAML, a flow mapping takes it
    const issues = issuesOf(() => parseCampaign(text, { format: 'json' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: '', line: expect.any(Number) as unknown, message: expect.stringMatching(/JSON/) as unknown });
  });

  it('accepts strict JSON', () => {
    expect(parseCampaign(JSON.stringify(campaignDocument()), { format: 'json' }).id).toBe('cantho-test');
  });
});

describe(sniffCampaignBytes.name, () => {
  it.each([
    ['gzip', gzipSync('id: x\n')],
    ['zip', Buffer.from('PK\x03\x04rest-of-zip', 'latin1')],
    ['utf-16le', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id: x\n', 'utf16le')])],
    ['utf-16be', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('id: x\n', 'utf16le').swap16()])],
    ['utf-16le', Buffer.from('id: x\n', 'utf16le')],
    ['binary', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x00])],
    ['not-utf8', Buffer.from('id: caf\xe9\n', 'latin1')],
  ])('recognises %s', (kind, bytes) => {
    expect(sniffCampaignBytes(bytes)).toBe(kind);
  });

  it('passes UTF-8 text, with or without a BOM', () => {
    expect(sniffCampaignBytes(Buffer.from('id: Cần Thơ\n'))).toBeNull();
    expect(sniffCampaignBytes(Buffer.from('\uFEFFid: x\n'))).toBeNull();
  });
});

describe(campaignWarnings.name, () => {
  it('warns that VNPT’s unaccented brandname turns emoji into ?', () => {
    const sut = campaignWarnings(buildCampaign({ message: { text: 'Đeo khẩu trang 😷😷😷' } }), { now, maxParts: DEFAULT_MAX_PARTS, ucs2Allowed });
    expect(sut).toEqual([{ kind: 'unsendable-characters', carrier: 'vnpt', characters: ['😷'] }]);
  });

  it('warns about a message of more parts than the limit, per carrier', () => {
    const sut = campaignWarnings(buildCampaign({ message: { text: 'Ư'.repeat(5000) } }), { now, maxParts: DEFAULT_MAX_PARTS, ucs2Allowed });
    expect(sut).toContainEqual({ kind: 'too-many-parts', carrier: 'viettel', parts: 75, maxParts: 6 });
    expect(campaignWarnings(buildCampaign({ message: { text: 'x'.repeat(900) } }), { now, maxParts: 6, ucs2Allowed })).toEqual([]);
    expect(campaignWarnings(buildCampaign({ message: { text: 'x'.repeat(900) } }), { now, maxParts: 5, ucs2Allowed })).toHaveLength(3);
  });

  it('warns when every occurrence is in the past, not when one is still to come', () => {
    const schedule = { start: '2020-02-08T08:00:00+07:00', timezone: 'Asia/Ho_Chi_Minh', quietHours: null };
    expect(campaignWarnings(buildCampaign({ schedule }), { now, maxParts: 6, ucs2Allowed })).toEqual([{ kind: 'all-occurrences-past', last: new Date('2020-02-08T01:00:00Z') }]);
    expect(campaignWarnings(buildCampaign({ schedule: { ...schedule, rrule: 'FREQ=YEARLY' } }), { now, maxParts: 6, ucs2Allowed })).toEqual([]);
    expect(campaignWarnings(buildCampaign(), { now, maxParts: 6, ucs2Allowed })).toEqual([]);
  });
});

describe(formatLocalTime.name, () => {
  it.each([
    [new Date('2020-02-08T01:00:00Z'), 'Asia/Ho_Chi_Minh', '2020-02-08 08:00+07:00'],
    [new Date('2021-03-28T01:30:00Z'), 'Europe/Paris', '2021-03-28 03:30+02:00'],
    [new Date('2021-03-28T00:30:00Z'), 'Europe/Paris', '2021-03-28 01:30+01:00'],
    [new Date('2021-01-01T05:45:00Z'), 'Asia/Kathmandu', '2021-01-01 11:30+05:45'],
  ])('%s in %s is %s', (date, zone, expected) => {
    expect(formatLocalTime(date, zone)).toBe(expected);
  });
});
