import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ConfigError, loadReportConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ValidationError } from '../../src/errors.js';
import { parseArea, parseDay, previousDay } from '../../src/reports/area.js';
import { lineChartSvg } from '../../src/reports/chart.js';
import { dayWindow, type DailyReport } from '../../src/reports/daily-report.js';
import { dailyReportCsv } from '../../src/reports/render.js';

describe(loadReportConfig.name, () => {
  it('defaults to 15:00 Asia/Ho_Chi_Minh, Vietnamese, and no e-mail', () => {
    expect(loadReportConfig({})).toMatchObject({ time: { hour: 15, minute: 0 }, timeZone: 'Asia/Ho_Chi_Minh', areas: [], recipients: [], smtpUrl: null, language: 'vi', retryMs: 300_000 });
  });

  it('reads areas, recipients and the SMTP URL', () => {
    const config = loadReportConfig({
      LOA_REPORT_TIME: '14:30',
      LOA_REPORT_AREAS: 'province:92, group:ninh-kieu',
      LOA_REPORT_RECIPIENTS: 'sottht@cantho.gov.vn,phongttbcxb@cantho.gov.vn',
      LOA_SMTP_URL: 'smtps://loa:secret@mail.cantho.gov.vn:465',
      LOA_REPORT_LANG: 'en',
    });
    expect(config).toMatchObject({ time: { hour: 14, minute: 30 }, areas: ['province:92', 'group:ninh-kieu'], recipients: ['sottht@cantho.gov.vn', 'phongttbcxb@cantho.gov.vn'], language: 'en' });
  });

  it('never logs the SMTP URL (it carries the password)', () => {
    let text = '';
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => ((text += chunk.toString()), done()) }));
    const config = loadReportConfig({ LOA_REPORT_AREAS: 'all', LOA_REPORT_RECIPIENTS: 'a@b.vn', LOA_SMTP_URL: 'smtp://loa:s3cr3t-pw@mail:25' });
    logger.info({ config: { reports: config } }, 'configured');
    logger.info(config, 'configured');
    expect(text).toContain('configured');
    expect(text).not.toContain('s3cr3t-pw');
  });

  it.each([
    [{ LOA_REPORT_TIME: '25:00' }, 'LOA_REPORT_TIME'],
    [{ LOA_REPORT_TIME_ZONE: 'Mars/Olympus' }, 'LOA_REPORT_TIME_ZONE'],
    [{ LOA_REPORT_RECIPIENTS: 'not-an-address' }, 'LOA_REPORT_RECIPIENTS'],
    [{ LOA_SMTP_URL: 'http://mail' }, 'LOA_SMTP_URL'],
    [{ LOA_REPORT_AREAS: 'province:92' }, 'LOA_REPORT_RECIPIENTS'],
    [{ LOA_REPORT_AREAS: 'province:92', LOA_REPORT_RECIPIENTS: 'a@b.vn' }, 'LOA_SMTP_URL'],
    [{ LOA_REPORT_RETRY_MS: '10' }, 'LOA_REPORT_RETRY_MS'],
  ])('refuses %o, naming %s', (env, variable) => {
    expect(() => loadReportConfig(env)).toThrow(ConfigError);
    expect(() => loadReportConfig(env)).toThrow(new RegExp(variable));
  });
});

describe('report areas and days', () => {
  it.each([
    ['', { kind: 'all' }],
    ['all', { kind: 'all' }],
    ['92', { kind: 'province', province: '92' }],
    ['province:HN-01', { kind: 'province', province: 'HN-01' }],
    ['group:ninh-kieu', { kind: 'group', group: 'ninh-kieu' }],
  ])('reads %j', (text, area) => {
    expect(parseArea(text)).toEqual(area);
  });

  it.each(['group:Ninh Kieu', 'district:1', '<script>', 'province:', 'group:-x'])('refuses %j, naming the field', (text) => {
    expect(() => parseArea(text)).toThrow(ValidationError);
    expect(() => parseArea(text)).toThrow(/^area: /);
  });

  it.each(['2026-02-30', '26/11/2026', '2026-1-5', ''])('refuses the date %j', (text) => {
    expect(() => parseDay(text)).toThrow(/^date: /);
  });

  it('takes a day from local midnight to local midnight (UTC+7)', () => {
    expect(dayWindow('2026-11-26')).toEqual({ from: new Date('2026-11-25T17:00:00Z'), to: new Date('2026-11-26T17:00:00Z') });
    expect(dayWindow('2026-12-31').to).toEqual(new Date('2026-12-31T17:00:00Z'));
    expect(previousDay('2026-03-01')).toBe('2026-02-28');
  });
});

describe('report rendering', () => {
  it('never lets a spreadsheet run a manual entry as a formula', () => {
    const report = { total: 1, sms: { carriers: [] }, screens: [], loudspeakers: { byCommune: [] }, coverage: { list: [] }, contents: [], events: [], compiler: { name: null, phone: null }, manual: [{ id: 1, channel: 'web', count: 1, minutes: null, text: '=HYPERLINK("http://x","bấm")', createdBy: 't' }] } as unknown as DailyReport;
    expect(dailyReportCsv(report)).toContain(`manual,web,1,,"'=HYPERLINK(""http://x"",""bấm"")"`);
  });

  it('draws a chart of one point, and escapes its labels', () => {
    const svg = lineChartSvg({ title: 'a < b', xLabels: ['10:00'], series: [{ label: 'Gửi đi', color: '#000', values: [5] }] });
    expect(svg).toContain('<circle');
    expect(svg).toContain('a &lt; b');
    expect(svg).toContain('Gửi đi');
  });
});
