import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AudienceFileError, formatDuration, formatPreview, previewAudienceFile } from '../../src/cli/commands/preview.js';
import { formatIssue } from '../../src/cli/commands/validate.js';
import { buildCampaign } from '../factories.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-preview-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function csvFile(text: string | Buffer): string {
  const path = join(dir, `audience-${n++}.csv`);
  writeFileSync(path, text);
  return path;
}

describe(previewAudienceFile.name, () => {
  it('streams a CSV and names the line of every problem', async () => {
    const path = csvFile(
      [
        'msisdn,province,commune,name',
        '0912345678,92,31117,An',
        '0912 345 678,92,31117,An again',
        '0971234567,92,31117', // too few fields
        '"0901234567",92,31117,"Nguyễn, Văn B"',
        'abc,92,31117,x',
        '',
        '0921234567,92,31117,y',
      ].join('\r\n'),
    );
    const report = await previewAudienceFile(buildCampaign(), path);
    expect(report.rows).toBe(6);
    expect(report.duplicates).toBe(1);
    expect(report.rowErrors).toEqual([{ line: 4, message: 'expected 4 fields, got 3' }]);
    expect(report.invalid.letters?.lines).toEqual([6]);
    expect(report.unroutable).toEqual({ Vietnamobile: 1 });
    expect(report.carriers.find((c) => c.carrier === 'mobifone')?.recipients).toBe(1);
  });

  it('accepts a UTF-8 BOM and header names in any case and order', async () => {
    const path = csvFile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Commune,MSISDN,Province\n31117,0912345678,92\n')]));
    const report = await previewAudienceFile(buildCampaign({ audience: { areas: { province: ['92'] } } }), path);
    expect(report.recipients).toBe(1);
  });

  it.each([
    ['an unclosed quote', 'msisdn,province,commune\n0912345678,92,1\n"0912345679,92,1\n0912345670,92,1\n', /:\d+: Quote Not Closed/],
    ['a stray quote', 'msisdn,province,commune\n0912345678,92,1\n"09"12,92,1\n', /:3: Invalid Closing Quote/],
  ])('stops at %s, naming the line', async (_, text, message) => {
    await expect(previewAudienceFile(buildCampaign(), csvFile(text))).rejects.toThrow(message);
  });

  it('counts lines across quoted fields that span lines', async () => {
    const path = csvFile('msisdn,province,commune,note\n0912345678,92,1,"two\nlines"\n0912,92,1,x\n');
    const report = await previewAudienceFile(buildCampaign(), path);
    expect(report.invalid['too-short']?.lines).toEqual([4]);
  });

  it.each([
    ['no msisdn column', 'phone,province,commune\n0912345678,92,1\n', /:1: .*msisdn/],
    ['an empty file', '', /empty file/],
  ])('refuses %s', async (_, text, message) => {
    await expect(previewAudienceFile(buildCampaign(), csvFile(text))).rejects.toThrow(AudienceFileError);
    await expect(previewAudienceFile(buildCampaign(), csvFile(text))).rejects.toThrow(message);
  });

  it('needs province and commune columns when the campaign filters by area', async () => {
    const path = csvFile('msisdn\n0912345678\n');
    await expect(previewAudienceFile(buildCampaign({ audience: { areas: { province: ['92'] } } }), path)).rejects.toThrow(/province and commune/);
    await expect(previewAudienceFile(buildCampaign(), path)).resolves.toMatchObject({ recipients: 1 });
  });

  it('reports a missing file', async () => {
    await expect(previewAudienceFile(buildCampaign(), join(dir, 'nope.csv'))).rejects.toThrow(/ENOENT/);
  });

  it('formats a readable report with every carrier', async () => {
    const report = await previewAudienceFile(buildCampaign(), csvFile('msisdn,province,commune\n0912345678,92,1\n0000,92,1\n'));
    const sut = formatPreview(report, 'a.csv');
    for (const word of ['viettel', 'vnpt', 'mobifone', 'Total: 1 recipients', 'too-short: 1 (line 3)']) expect(sut).toContain(word);
  });
});

describe(formatDuration.name, () => {
  it.each([
    [0, '0s'],
    [0.2, '<1s'],
    [59.1, '1m'],
    [61, '1m 1s'],
    [3600, '1h'],
    [3725, '1h 2m 5s'],
  ])('%s s → %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe(formatIssue.name, () => {
  it.each([
    [{ path: 'message.sender.vnpt', line: 6, column: 11, message: 'is required' }, 'c.yaml:6:11: message.sender.vnpt: is required'],
    [{ path: '', line: 1, column: 1, message: 'the document is empty' }, 'c.yaml:1:1: (document): the document is empty'],
    [{ path: 'priority', message: 'must be one of: normal, urgent' }, 'c.yaml: priority: must be one of: normal, urgent'],
  ])('%j', (issue, expected) => {
    expect(formatIssue('c.yaml', issue)).toBe(expected);
  });
});
