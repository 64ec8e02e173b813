import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvSyntaxError, detectDelimiter, forEachCsvRecord } from '../../src/csv-records.js';
import { columnOf, readHeader } from '../../src/domain/csv-columns.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function csvFile(text: string | Buffer): string {
  const path = join(dir, `records-${n++}.csv`);
  writeFileSync(path, text);
  return path;
}

async function records(source: string | Readable): Promise<Array<[number, string[]]>> {
  const out: Array<[number, string[]]> = [];
  await forEachCsvRecord(source, (record, line) => {
    out.push([line, record]);
  });
  return out;
}

describe(forEachCsvRecord.name, () => {
  it('reports an unclosed quote on line 3 of a 1,003-line file at line 3, where it opened', async () => {
    const lines = ['msisdn,province,commune', '0912345678,92,31117', '"0912345679,92,31117', ...Array.from({ length: 1000 }, (_, i) => `09123${String(i).padStart(5, '0')},92,31117`)];
    expect(lines).toHaveLength(1003);
    const path = csvFile(`${lines.join('\n')}\n`);

    const error = await records(path).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(CsvSyntaxError);
    expect((error as CsvSyntaxError).line).toBe(3);
    expect((error as CsvSyntaxError).message).toMatch(new RegExp(`^${path}:3: `));
  });

  it('names the opening line of an unclosed quote after quoted fields that span lines and escaped quotes', async () => {
    const text = 'msisdn,note\n0912345678,"two\nlines"\n0912345679,"say ""hi"""\n0912345670,"never\nclosed ""x"" \nat all\n0912345671,x\n';
    await expect(records(csvFile(text))).rejects.toMatchObject({ line: 5 });
  });

  it('reads an HTTP-like stream of small chunks as it reads a file', async () => {
    const text = 'msisdn;tỉnh\r\n0912345678;92\r\n"0912 345 679";92\r\n';
    const chunks = Readable.from(Buffer.from(text).reduce<Buffer[]>((acc, byte) => [...acc, Buffer.from([byte])], []));
    expect(await records(chunks)).toEqual([
      [1, ['msisdn', 'tỉnh']],
      [2, ['0912345678', '92']],
      [3, ['0912 345 679', '92']],
    ]);
  });

  it.each([
    ['comma', 'msisdn,province,commune\n0912345678,92,31117\n'],
    ['semicolon', 'msisdn;province;commune\n0912345678;92;31117\n'],
    ['tab', 'msisdn\tprovince\tcommune\n0912345678\t92\t31117\n'],
    ['semicolon with a BOM and CRLF', '\uFEFFmsisdn;province;commune\r\n0912345678;92;31117\r\n'],
    ['semicolon, no final newline', 'msisdn;province;commune\r\n0912345678;92;31117'],
  ])('takes the separator from the header line: %s', async (_, text) => {
    expect(await records(csvFile(text))).toEqual([
      [1, ['msisdn', 'province', 'commune']],
      [2, ['0912345678', '92', '31117']],
    ]);
  });

  it('keeps a comma inside a semicolon-separated field (a decimal comma)', async () => {
    expect(await records(csvFile('sđt;ghi chú\n0912345678;1,5\n'))).toEqual([
      [1, ['sđt', 'ghi chú']],
      [2, ['0912345678', '1,5']],
    ]);
  });

  it('skips empty lines and keeps counting them', async () => {
    expect(await records(csvFile('msisdn\r\n\r\n0912345678\r\n\r\n0912345679\r\n'))).toEqual([
      [1, ['msisdn']],
      [3, ['0912345678']],
      [5, ['0912345679']],
    ]);
  });
});

describe(detectDelimiter.name, () => {
  it.each([
    ['msisdn,province,commune', ','],
    ['msisdn;province;commune', ';'],
    ['msisdn\tprovince', '\t'],
    ['msisdn', ','],
    ['"số điện thoại; di động",tỉnh', ','],
  ])('%j → %j', (line, expected) => {
    expect(detectDelimiter(line)).toBe(expected);
  });
});

describe(columnOf.name, () => {
  it.each([
    ['msisdn', 'msisdn'],
    ['MSISDN', 'msisdn'],
    ['Số điện thoại', 'msisdn'],
    ['SO DIEN THOAI', 'msisdn'],
    ['so_dien_thoai', 'msisdn'],
    ['  số   điện  thoại ', 'msisdn'],
    ['SĐT', 'msisdn'],
    ['sdt', 'msisdn'],
    ['Tỉnh', 'province'],
    ['tinh', 'province'],
    ['Xã/Phường', 'commune'],
    ['xa / phuong', 'commune'],
    ['Nhà mạng', 'carrier'],
    ['Lý do', 'reason'],
    ['họ tên', undefined],
    ['phone', undefined],
  ])('%j → %s', (cell, expected) => {
    expect(columnOf(cell)).toBe(expected);
  });

  it('keeps other header cells as attributes', () => {
    expect(readHeader(['\uFEFFSố điện thoại', 'Họ tên', 'Tỉnh', 'Xã/Phường', ''])).toEqual({
      index: { msisdn: 0, province: 2, commune: 3 },
      others: [{ index: 1, name: 'Họ tên' }],
      cells: ['Số điện thoại', 'Họ tên', 'Tỉnh', 'Xã/Phường', ''],
      count: 5,
    });
  });
});

describe('loa preview reads what the import reads', () => {
  it('previews a `;`-separated Vietnamese export with a BOM and CRLF, naming the scientific-notation line', async () => {
    const { previewAudienceFile } = await import('../../src/cli/commands/preview.js');
    const { buildCampaign } = await import('../factories.js');
    const path = csvFile(`\uFEFF${['Số điện thoại;Tỉnh;Xã/Phường;Họ tên', '0912 345 678;92;31117;An', '8,4912E+10;92;31117;Bình', '0961234567;94;31510;Chi'].join('\r\n')}\r\n`);

    const report = await previewAudienceFile(buildCampaign({ audience: { areas: { province: ['92'] } } }), path);

    expect(report.recipients).toBe(1);
    expect(report.outsideArea).toBe(1);
    expect(report.invalid['scientific-notation']).toEqual({ count: 1, lines: [3] });
  });
});
