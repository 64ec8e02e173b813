import { describe, expect, it } from 'vitest';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { AudiencePreview, EXAMPLE_LINES, type PreviewReport } from '../../src/domain/audience-preview.js';
import type { Campaign } from '../../src/domain/campaign.js';
import { MsisdnSet } from '../../src/domain/msisdn-set.js';
import { Router, type PortabilityLookup } from '../../src/domain/routing.js';
import { buildCampaign } from '../factories.js';

type Row = [msisdn: string, province?: string, commune?: string];

function previewOf(campaign: Campaign, rows: Row[], portability?: PortabilityLookup): PreviewReport {
  const sut = new AudiencePreview({ campaign, profiles: CARRIER_PROFILES, router: new Router(CARRIER_PROFILES, portability) });
  rows.forEach(([msisdn, province, commune], i) => sut.add(i + 2, msisdn, province ?? '92', commune ?? '31117'));
  return sut.report();
}

const carrier = (report: PreviewReport, id: string) => report.carriers.find((c) => c.carrier === id)!;

/** Every row lands in exactly one bucket. */
function expectAddsUp(report: PreviewReport): void {
  const routed = report.carriers.reduce((n, c) => n + c.recipients, 0);
  expect(report.invalidTotal + report.rowErrorTotal + report.outsideArea + report.duplicates + report.unroutableTotal + routed).toBe(report.rows);
}

const VIETNAMESE = 'Sở TTTT Cần Thơ: Xét nghiệm là then chốt, vắc-xin là căn cơ. Đường dây nóng 1900 9095';

describe(AudiencePreview.name, () => {
  it('counts recipients per carrier, unroutable by carrier name, invalid by reason and duplicates', () => {
    const report = previewOf(buildCampaign(), [
      ['0912345678'],
      ['+84 91 234 5678'], // duplicate of the first
      ['84912345678'], // duplicate again
      ['0971234567'],
      ['01691234567'], // converts to 0391234567: Viettel
      ['0391234567'], // duplicate of the converted one
      ['0901234567'],
      ['0921234567'],
      ['0591234567'],
      ['0871234567'],
      ['abc'],
      ['0912'],
      ['02923812345'],
    ]);
    expect(carrier(report, 'viettel').recipients).toBe(2);
    expect(carrier(report, 'vnpt').recipients).toBe(1);
    expect(carrier(report, 'mobifone').recipients).toBe(1);
    expect(report.unroutable).toEqual({ Vietnamobile: 1, Gmobile: 1, iTel: 1 });
    expect(report.duplicates).toBe(3);
    expect(report.invalid).toEqual({ letters: { count: 1, lines: [12] }, 'too-short': { count: 1, lines: [13] }, landline: { count: 1, lines: [14] } });
    expect(report.recipients).toBe(4);
    expectAddsUp(report);
  });

  it.each([
    ['no filter', { province: [], commune: [] }, 3],
    ['a province', { province: ['92'], commune: [] }, 2],
    ['a commune', { province: [], commune: ['31117'] }, 2],
    ['province and commune (both must match)', { province: ['92'], commune: ['31117'] }, 1],
    ['two provinces', { province: ['92', '79'], commune: [] }, 3],
  ])('applies the area filter: %s', (_, areas, kept) => {
    const rows: Row[] = [
      ['0912345678', '92', '31117'],
      ['0912345679', '92', '31120'],
      ['0912345670', '79', '31117'],
    ];
    const report = previewOf(buildCampaign({ audience: { areas } }), rows);
    expect(report.recipients).toBe(kept);
    expect(report.outsideArea).toBe(3 - kept);
    expectAddsUp(report);
  });

  it('counts but does not send recipients of a carrier outside operators', () => {
    const report = previewOf(buildCampaign({ operators: ['viettel'] }), [['0912345678'], ['0971234567']]);
    expect(carrier(report, 'vnpt')).toMatchObject({ sends: false, recipients: 1, segments: 0 });
    expect(report.recipients).toBe(1);
    expect(report.notes.map((n) => n.message).join('\n')).toContain('vnpt');
    expectAddsUp(report);
  });

  it('applies portability before the prefix', () => {
    const report = previewOf(buildCampaign(), [['0912345678'], ['0921234567']], new Map([['84912345678', 'mobifone'], ['84921234567', 'viettel']]));
    expect(carrier(report, 'mobifone')).toMatchObject({ recipients: 1, ported: 1 });
    expect(carrier(report, 'viettel')).toMatchObject({ recipients: 1, ported: 1 });
    expect(report.unroutableTotal).toBe(0);
  });

  it.each(Object.values(CARRIER_PROFILES).map((profile) => [profile.id, profile.ucs2WithBrandname] as const))(
    '%s (UCS-2 on brandname: %s) gets text it can carry',
    (id, ucs2) => {
      const report = previewOf(buildCampaign({ message: { text: VIETNAMESE, encoding: 'auto' } }), [['0912345678']]);
      const sut = carrier(report, id);
      expect(sut.encoding).toBe(ucs2 ? 'ucs2' : 'gsm7');
      expect(sut.stripped).toBe(!ucs2);
      expect(sut.text).toBe(ucs2 ? VIETNAMESE : 'So TTTT Can Tho: Xet nghiem la then chot, vac-xin la can co. Duong day nong 1900 9095');
    },
  );

  it('multiplies recipients by parts into segments and divides by the capped throttle', () => {
    const long = 'a'.repeat(200); // 2 GSM parts
    const campaign = buildCampaign({ message: { text: long }, throttle: { viettel: 50, vnpt: 1000 } });
    const rows: Row[] = Array.from({ length: 100 }, (_, i): Row => [`097${String(1_000_000 + i)}`]);
    rows.push(...Array.from({ length: 30 }, (_, i): Row => [`091${String(1_000_000 + i)}`]));
    const report = previewOf(campaign, rows);
    expect(carrier(report, 'viettel')).toMatchObject({ recipients: 100, partsPerMessage: 2, segments: 200, tps: 50, etaSeconds: 4 });
    // 1000 asked, VNPT grants 100 by default: the grant wins.
    expect(carrier(report, 'vnpt')).toMatchObject({ recipients: 30, segments: 60, tps: CARRIER_PROFILES.vnpt.defaults.tps });
    // Mobifone has no campaign throttle: its grant.
    expect(carrier(report, 'mobifone').tps).toBe(CARRIER_PROFILES.mobifone.defaults.tps);
    expect(report.segments).toBe(260);
    expect(report.etaSeconds).toBe(4);
  });

  it(`keeps only the first ${EXAMPLE_LINES} line numbers of each problem`, () => {
    const report = previewOf(buildCampaign(), Array.from({ length: 20 }, (): Row => ['nope']));
    expect(report.invalid.letters).toEqual({ count: 20, lines: [2, 3, 4, 5, 6] });
  });

  it('counts CSV row errors with their line numbers', () => {
    const sut = new AudiencePreview({ campaign: buildCampaign(), profiles: CARRIER_PROFILES, router: new Router(CARRIER_PROFILES) });
    sut.add(2, '0912345678');
    sut.rowError(3, 3, 2);
    const report = sut.report();
    expect(report.rowErrors).toEqual([{ line: 3, expected: 3, got: 2, message: 'expected 3 fields, got 2' }]);
    expectAddsUp(report);
  });

  it('notes that exclude lists are not applied offline', () => {
    const report = previewOf(buildCampaign({ audience: { exclude: ['opt-out'] } }), []);
    expect(report.notes.map((n) => n.message).join('\n')).toMatch(/opt-out/);
    expect(report).toMatchObject({ rows: 0, recipients: 0, segments: 0, etaSeconds: 0 });
  });
});

describe(MsisdnSet.name, () => {
  it.each([
    ['sparse (Set)', 1_000_000],
    ['dense (bitset) after switching', 3],
  ])('deduplicates when %s', (_, switchAt) => {
    const sut = new MsisdnSet(switchAt);
    const numbers = ['84912345678', '84971234567', '84391234567', '84901234567', '84999999999', '84300000000'];
    for (const n of numbers) expect(sut.add(n)).toBe(true);
    for (const n of numbers) {
      expect(sut.add(n)).toBe(false);
      expect(sut.has(n)).toBe(true);
    }
    expect(sut.has('84912345679')).toBe(false);
    expect(sut.size).toBe(numbers.length);
    expect(sut.dense).toBe(switchAt <= numbers.length);
  });

  it('keeps what it held before switching to the bitset', () => {
    const sut = new MsisdnSet(2);
    sut.add('84912345678');
    sut.add('84912345679');
    expect(sut.dense).toBe(true);
    expect(sut.add('84912345678')).toBe(false);
    expect(sut.add('84912345679')).toBe(false);
  });

  it.each([-1, 1e9, 1.5, Number.NaN])('refuses key %s', (key) => {
    expect(() => new MsisdnSet().addKey(key)).toThrow(RangeError);
  });
});
