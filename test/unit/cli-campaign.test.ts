import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  AudienceFileError,
  formatDuration,
  formatPreview,
  loadPortabilityFile,
  PortabilityFileError,
  previewAudienceFile,
  register as registerPreview,
} from '../../src/cli/commands/preview.js';
import { formatIssue, register as registerValidate } from '../../src/cli/commands/validate.js';
import type { PreviewReport } from '../../src/domain/audience-preview.js';
import { CARRIER_IDS } from '../../src/domain/carrier.js';
import { buildCampaign, campaignDocument, campaignYaml } from '../factories.js';

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
    expect(report.rowErrors).toEqual([{ line: 4, expected: 4, got: 3, message: 'expected 4 fields, got 3' }]);
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
    for (const word of ['viettel', 'vnpt', 'mobifone', 'Total: 1 recipient,', 'too-short: 1 (line 3)']) expect(sut).toContain(word);
  });
});

describe(`${previewAudienceFile.name} throughput`, () => {
  // 10 Viettel, 4 VNPT recipients; one GSM part each.
  const audience = (): string =>
    csvFile(['msisdn,province,commune', ...Array.from({ length: 10 }, (_, i) => `09612345${String(i).padStart(2, '0')},92,1`), ...Array.from({ length: 4 }, (_, i) => `09123456${String(i).padStart(2, '0')},92,1`)].join('\n'));
  it.each<[string, Record<string, number>, Record<string, number> | undefined, { viettel: number; vnpt: number }]>([
    ['no throttle: the granted TPS', {}, { viettel: 5, vnpt: 2, mobifone: 1 }, { viettel: 5, vnpt: 2 }],
    ['a throttle above the granted TPS is capped', { viettel: 50, vnpt: 40 }, { viettel: 5, vnpt: 2, mobifone: 1 }, { viettel: 5, vnpt: 2 }],
    ['a throttle below the granted TPS is kept', { viettel: 1, vnpt: 1 }, { viettel: 5, vnpt: 2, mobifone: 1 }, { viettel: 1, vnpt: 1 }],
    ['without a config, the profile defaults', {}, undefined, { viettel: 200, vnpt: 100 }],
  ])('%s', async (_, throttle, grantedTps, tps) => {
    const report = await previewAudienceFile(buildCampaign({ throttle }), audience(), grantedTps ? { grantedTps } : {});
    const carrier = (id: string): PreviewReport['carriers'][number] | undefined => report.carriers.find((c) => c.carrier === id);
    expect(carrier('viettel')).toMatchObject({ tps: tps.viettel, etaSeconds: 10 / tps.viettel });
    expect(carrier('vnpt')).toMatchObject({ tps: tps.vnpt, etaSeconds: 4 / tps.vnpt });
    expect(report.etaSeconds).toBe(Math.max(10 / tps.viettel, 4 / tps.vnpt));
  });

  it('counts ported numbers from a portability table, by any carrier name', async () => {
    const portability = await loadPortabilityFile(csvFile('msisdn,carrier\n0961234500,Vinaphone\n0961234501,VMS\n0912345600,Viettel Telecom\n0961234502,Vietnamobile\n'));
    const report = await previewAudienceFile(buildCampaign(), audience(), { portability });
    const carrier = (id: string): PreviewReport['carriers'][number] | undefined => report.carriers.find((c) => c.carrier === id);
    expect(carrier('viettel')).toMatchObject({ recipients: 10 - 3 + 1, ported: 1 });
    expect(carrier('vnpt')).toMatchObject({ recipients: 4 - 1 + 1, ported: 1 });
    expect(carrier('mobifone')).toMatchObject({ recipients: 1, ported: 1 });
    expect(report.unroutable).toEqual({ Vietnamobile: 1 });
  });
});

describe(loadPortabilityFile.name, () => {
  it.each([
    ['a header', 'msisdn,carrier\n0912345678,Viettel\n+84 96 123 4567,mobi\n', [['84912345678', 'viettel'], ['84961234567', 'mobifone']]],
    ['no header', '0912345678,VinaPhone\r\n0921234567,Gmobile\r\n', [['84912345678', 'vnpt'], ['84921234567', 'Gmobile']]],
    ['columns in another order, blank lines', 'Carrier,MSISDN\n\nVNP,0961234567\n', [['84961234567', 'vnpt']]],
  ])('reads a table with %s', async (_, text, expected) => {
    expect([...(await loadPortabilityFile(csvFile(text)))]).toEqual(expected);
  });

  it.each([
    ['an unknown carrier name', 'msisdn,carrier\n0912345678,Viettel\n0961234567,Vodafone\n', [/:3: carrier 'Vodafone' is not a carrier name we know/, /1 unusable row/]],
    ['a bad number', 'msisdn,carrier\n0912,Viettel\n', [/:2: msisdn '0912': too few digits/]],
    ['a missing carrier', 'msisdn,carrier\n0912345678\n', [/:2: expected msisdn,carrier, got 1 field/]],
    ['an unclosed quote', 'msisdn,carrier\n"0912345678,Viettel\n', [/:\d+: Quote Not Closed/]],
  ])('refuses %s, naming the line', async (_, text, messages) => {
    const act = loadPortabilityFile(csvFile(text));
    await expect(act).rejects.toThrow(PortabilityFileError);
    for (const message of messages) await expect(loadPortabilityFile(csvFile(text))).rejects.toThrow(message);
  });

  it('lists the first bad rows and counts the rest', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => `09123456${String(i).padStart(2, '0')},Nope`);
    const message = await loadPortabilityFile(csvFile(['msisdn,carrier', ...rows].join('\n'))).then(
      () => '',
      (e: unknown) => (e as Error).message,
    );
    expect(message.split('\n').filter((l) => / is not a carrier name/.test(l))).toHaveLength(10);
    expect(message).toContain('and 15 more');
    expect(message).toContain('25 unusable rows');
  });
});

describe('loa preview', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    const program = new Command().exitOverride();
    registerPreview(program);
    await program.parseAsync(['preview', ...args], { from: 'user' });
    return { stdout, stderr };
  }

  const campaignFile = (): string => {
    const path = join(dir, `campaign-${n++}.yaml`);
    writeFileSync(path, campaignYaml({ throttle: { viettel: 500 } }));
    return path;
  };

  it.each([
    ['the TPS the carriers file grants', { viettel: 7, vnpt: 3, mobifone: 2 }, { viettel: 7, vnpt: 3, mobifone: 2 }],
    ['the simulator defaults without LOA_CARRIERS', undefined, { viettel: 200, vnpt: 100, mobifone: 100 }],
  ])('caps the ETA by %s', async (_, granted, expected) => {
    if (granted) {
      const yamlPath = join(dir, `carriers-${n++}.yaml`);
      const bind = '{ host: 10.0.0.5, port: 2775, systemId: sttt_ct, password: pw, count: 2 }';
      writeFileSync(yamlPath, `carriers:\n${CARRIER_IDS.map((id) => `  ${id}:\n    binds: [${bind}]\n    tps: ${granted[id]}\n`).join('')}`);
      vi.stubEnv('LOA_CARRIERS', yamlPath);
    } else {
      vi.stubEnv('LOA_CARRIERS', '');
    }
    const { stdout, stderr } = await run([campaignFile(), '--audience', csvFile('msisdn,province,commune\n0961234567,92,1\n'), '--json']);
    expect(stderr).toBe('');
    const report = JSON.parse(stdout) as PreviewReport;
    expect(Object.fromEntries(report.carriers.map((c) => [c.carrier, c.tps]))).toEqual(expected);
  });

  it('previews offline even when LOA_CARRIERS is broken, saying it used the default TPS (issue 7, item 6)', async () => {
    const broken = join(dir, `carriers-${n++}.yaml`);
    writeFileSync(broken, 'carriers: [unclosed');
    vi.stubEnv('LOA_CARRIERS', broken);
    vi.stubEnv('LOA_LANG', 'en');
    const { stdout, stderr } = await run([campaignFile(), '--audience', csvFile('msisdn,province,commune\n0961234567,92,1\n'), '--json']);
    expect(stderr).toMatch(/^LOA_CARRIERS ignored for the ETA \(using the carriers’ default TPS\): .*carriers-\d+\.yaml/);
    const report = JSON.parse(stdout) as PreviewReport;
    expect(report.carriers.find((c) => c.carrier === 'viettel')?.tps).toBe(200);
    expect(process.exitCode).toBeUndefined();
  });

  it('names the bad rows of --portability and exits 1', async () => {
    vi.stubEnv('LOA_CARRIERS', '');
    vi.stubEnv('LOA_LANG', 'en');
    const portability = csvFile('msisdn,carrier\n0961234567,Vinafone\n');
    const { stdout, stderr } = await run([campaignFile(), '--audience', csvFile('msisdn,province,commune\n0961234567,92,1\n'), '--portability', portability]);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${portability}:2: carrier 'Vinafone'`);
    expect(process.exitCode).toBe(1);
  });

  describe('speaks the reader’s language (Vietnamese by default, LOA_LANG=en)', () => {
    const language = (lang: 'vi' | 'en' | 'default'): void => {
      vi.stubEnv('LOA_CARRIERS', '');
      vi.stubEnv('LANG', '');
      vi.stubEnv('LOA_LANG', lang === 'default' ? '' : lang);
    };
    const notesCampaign = (): string => {
      const path = join(dir, `campaign-${n++}.yaml`);
      writeFileSync(path, campaignYaml({ operators: ['viettel'], audience: { lists: ['cantho-subscribers'], exclude: ['opt-out'] } }));
      return path;
    };

    it.each([
      ['default', /:3: dấu ngoặc kép mở ở dòng này không được đóng/],
      ['en', /:3: Quote Not Closed: a quote opened on this line is never closed/],
    ] as const)('a CSV with broken quoting (%s)', async (lang, expected) => {
      language(lang);
      const audience = csvFile('msisdn,province,commune\n0961234567,92,1\n"0961234568,92,1\n0961234569,92,1\n');
      const { stdout, stderr } = await run([campaignFile(), '--audience', audience]);
      expect(stdout).toBe('');
      expect(stderr).toMatch(expected);
      expect(process.exitCode).toBe(1);
    });

    it.each([
      ['default', ':1: dòng tiêu đề phải có cột msisdn (msisdn,province,commune,…), nhưng là: phone,province'],
      ['en', ':1: the header must name an msisdn column (msisdn,province,commune,…), got: phone,province'],
    ] as const)('a CSV without an msisdn column (%s)', async (lang, expected) => {
      language(lang);
      const audience = csvFile('phone,province\n0961234567,92\n');
      const { stderr } = await run([campaignFile(), '--audience', audience]);
      expect(stderr).toBe(`${audience}${expected}\n`);
      expect(process.exitCode).toBe(1);
    });

    it.each([
      ['default', ['Ghi chú:', '  - danh sách loại trừ (opt-out) được áp dụng khi khởi chạy', '  - 1 người nhận thuộc vnpt, nhà mạng không có trong operators: không gửi cho họ', 'Dòng CSV không đọc được: 1', ':4: cần 3 trường, nhưng có 2']],
      ['en', ['Notes:', '  - exclude lists (opt-out) are applied at launch, not in this offline preview', '  - 1 recipient is on vnpt, which is not in operators: it is not sent', 'Unreadable CSV rows: 1', ':4: expected 3 fields, got 2']],
    ] as const)('the notes of a preview (%s)', async (lang, expected) => {
      language(lang);
      const { stdout, stderr } = await run([notesCampaign(), '--audience', csvFile('msisdn,province,commune\n0961234567,92,1\n0912345678,92,1\n0912345679,92\n')]);
      expect(stderr).toBe('');
      for (const text of expected) expect(stdout).toContain(text);
    });

    it('keeps --json English and machine-friendly', async () => {
      language('default');
      const { stdout } = await run([notesCampaign(), '--audience', csvFile('msisdn,province,commune\n0912345678,92,1\n0912345679,92,1\n'), '--json']);
      const report = JSON.parse(stdout) as PreviewReport;
      expect(report.notes).toContainEqual({ code: 'notInOperators', params: { count: 2, carrier: 'vnpt' }, message: '2 recipients are on vnpt, which is not in operators: they are not sent' });
    });

    it('names bad --portability rows in Vietnamese, counting them', async () => {
      language('default');
      const portability = csvFile('msisdn,carrier\n0961234567,Vinafone\nabc,Viettel\n');
      const { stderr } = await run([campaignFile(), '--audience', csvFile('msisdn,province,commune\n0961234567,92,1\n'), '--portability', portability]);
      expect(stderr).toBe(
        [
          `${portability}:2: nhà mạng 'Vinafone' không phải tên nhà mạng đã biết (ví dụ Viettel, VNPT/Vinaphone, Mobifone, Vietnamobile, Gmobile, Reddi, iTel)`,
          `${portability}:3: msisdn 'abc': có chữ cái`,
          `${portability}: 2 dòng không dùng được; hãy sửa hoặc xóa chúng`,
          '',
        ].join('\n'),
      );
    });
  });

  it('routes by --portability', async () => {
    vi.stubEnv('LOA_CARRIERS', '');
    const { stdout } = await run([campaignFile(), '--audience', csvFile('msisdn,province,commune\n0961234567,92,1\n'), '--portability', csvFile('0961234567,Vinaphone\n'), '--json']);
    const report = JSON.parse(stdout) as PreviewReport;
    expect(report.carriers.find((c) => c.carrier === 'vnpt')).toMatchObject({ recipients: 1, ported: 1 });
  });
});

describe('loa validate', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function run(files: string[], language = 'en'): Promise<{ stdout: string; stderr: string; exitCode: typeof process.exitCode }> {
    let stdout = '';
    let stderr = '';
    vi.stubEnv('LOA_LANG', language);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    const program = new Command().exitOverride();
    registerValidate(program);
    await program.parseAsync(['validate', ...files], { from: 'user' });
    return { stdout, stderr, exitCode: process.exitCode };
  }
  const file = (text: string): string => {
    const path = join(dir, `campaign-${n++}.yaml`);
    writeFileSync(path, text);
    return path;
  };
  const examples = ['campaigns/cantho-ncov-2020-02.yaml', 'campaigns/cantho-xet-nghiem-2021-09.yaml', 'campaigns/kiengiang-gian-cach-2021-07.yaml'];

  it.each<[string, () => string[], { valid: number; invalid: RegExp[]; exitCode: number | undefined }]>([
    ['every example campaign', () => examples, { valid: 3, invalid: [], exitCode: undefined }],
    ['one valid file', () => [file(campaignYaml())], { valid: 1, invalid: [], exitCode: undefined }],
    ['a bad file among good ones', () => [examples[0]!, file(campaignYaml({ priority: 'high' })), examples[1]!], { valid: 2, invalid: [/priority/], exitCode: 1 }],
    ['a missing file and a good one', () => [join(dir, 'nope.yaml'), examples[2]!], { valid: 1, invalid: [/nope\.yaml: cannot read/], exitCode: 1 }],
    [
      'a text of combining marks only',
      () => [file(campaignYaml({ message: { text: '\u0301\u0300', sender: { viettel: 'A', vnpt: 'A', mobifone: 'A' } } })), examples[0]!],
      { valid: 1, invalid: [/combining marks/], exitCode: 1 },
    ],
  ])('reports each of %s', async (_, files, expected) => {
    const paths = files();
    const { stdout, stderr, exitCode } = await run(paths);
    expect(stdout.match(/: valid\n/g) ?? []).toHaveLength(expected.valid);
    for (const problem of expected.invalid) expect(stderr).toMatch(problem);
    if (paths.length > 1) expect(stdout).toContain(`${expected.valid} of ${paths.length} files valid`);
    expect(exitCode).toBe(expected.exitCode);
  });

  it('shows occurrences folded by quiet hours', async () => {
    const schedule = { start: '2021-09-23T18:00:00+07:00', rrule: 'FREQ=HOURLY;COUNT=16', quietHours: { from: '21:00', to: '07:00' } };
    const { stdout } = await run([file(campaignYaml({ schedule }))]);
    expect(stdout).toContain('occurrences: 6;');
    expect(stdout).toMatch(/skipped: +10 occurrences in quiet hours/);
  });

  it('shows times in the campaign’s zone, saying which (issue 7, item 4)', async () => {
    const { stdout } = await run([examples[0]!]);
    expect(stdout).toContain('times in Asia/Ho_Chi_Minh; first 2020-02-08 08:00+07:00');
    expect(stdout).not.toContain('01:00:00.000Z');
  });

  it('words campaign problems in the reader’s language (issue 7, item 9)', async () => {
    const path = file(campaignYaml({ priority: 'high', message: { text: 'x', sender: { viettel: 'A#', vnpt: 'B', mobifone: 'C' } } }));
    const vi = await run([path], 'vi');
    expect(vi.stderr).toMatch(/:\d+:\d+: priority: phải là một trong: normal, urgent\n/);
    expect(vi.stderr).toMatch(/message\.sender\.viettel: không được chứa '#'/);
    expect(vi.stderr).toContain(': 2 lỗi');
    const en = await run([path], 'en');
    expect(en.stderr).toMatch(/:\d+:\d+: priority: must be one of: normal, urgent\n/);
  });

  it.each([
    ['FREQ=MINUTELY', 'FREQ=MINUTELY sẽ nhắn cho cùng những người quá dày', 'FREQ=MINUTELY would text the same people too often'],
    ['FREQ=DAILY;FOO=1', "thành phần rrule không biết 'FOO'", "unknown rrule part 'FOO'"],
    ['COUNT=3', 'bắt buộc phải có FREQ', 'FREQ is required'],
  ])('words rrule problems in the reader’s language: %s', async (rrule, vietnamese, english) => {
    const path = file(campaignYaml({ schedule: { start: '2030-01-01T08:00:00', timezone: 'Asia/Ho_Chi_Minh', rrule } }));
    expect((await run([path], 'vi')).stderr).toContain(`schedule.rrule: ${vietnamese}`);
    expect((await run([path], 'en')).stderr).toContain(`schedule.rrule: ${english}`);
  });

  it('words a text it cannot encode in the reader’s language', async () => {
    const path = file(campaignYaml({ message: { text: '\u0301\u0300', sender: { viettel: 'A', vnpt: 'A', mobifone: 'A' } } }));
    expect((await run([path], 'vi')).stderr).toBe(`${path}: message.text: nội dung chỉ có dấu thanh (dấu kết hợp), không có chữ cái\n`);
    expect((await run([path], 'en')).stderr).toBe(`${path}: message.text: the text has only combining marks, no letters\n`);
  });

  it('speaks Vietnamese unless told otherwise (issue 7, item 9)', async () => {
    const { stdout } = await run([examples[0]!], 'vi');
    expect(stdout).toContain(': hợp lệ\n');
    expect(stdout).toContain('giờ Asia/Ho_Chi_Minh; lần đầu 2020-02-08 08:00+07:00');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['characters VNPT cannot carry', { message: { text: 'Đeo khẩu trang 😷😷😷', sender: { viettel: 'A', vnpt: 'B', mobifone: 'C' } } }, /warning: message\.text: vnpt \(B\) cannot carry 😷; recipients would see "\?"/],
    ['more parts than the limit', { message: { text: 'Ư'.repeat(5000), sender: { viettel: 'A', vnpt: 'B', mobifone: 'C' } } }, /warning: message\.text: 75 parts on viettel, over the limit of 6 \(LOA_MAX_PARTS\)/],
    ['a schedule entirely in the past', { schedule: { start: '2020-02-08T08:00:00+07:00' } }, /warning: schedule: every occurrence is in the past \(the last at 2020-02-08 08:00\+07:00\)/],
  ])('warns visibly about %s, and fails with --strict (issue 7, item 2)', async (_, overrides, warning) => {
    const path = file(campaignYaml(overrides));
    const lenient = await run([path]);
    expect(lenient.stderr).toMatch(warning);
    expect(lenient.exitCode).toBeUndefined();
    process.exitCode = undefined;
    const strict = await run([path, '--strict']);
    expect(strict.stderr).toMatch(warning);
    expect(strict.stderr).toContain('failed because of --strict');
    expect(strict.exitCode).toBe(1);
  });

  it('takes the part limit from LOA_MAX_PARTS', async () => {
    vi.stubEnv('LOA_MAX_PARTS', '100');
    const { stderr } = await run([file(campaignYaml({ message: { text: 'Ư'.repeat(5000), sender: { viettel: 'A', vnpt: 'B', mobifone: 'C' } } }))]);
    expect(stderr).not.toContain('parts on');
  });

  it('fails on a schedule with no occurrence at all', async () => {
    const { stderr, exitCode } = await run([file(campaignYaml({ schedule: { start: '2026-02-01T08:00:00+07:00', rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' } }))]);
    expect(stderr).toMatch(/schedule\.rrule: has no occurrence/);
    expect(exitCode).toBe(1);
  });

  it.each<[string, Buffer, RegExp]>([
    ['gzip', gzipSync(campaignYaml()), /\(document\): gzip-compressed data, not a campaign/],
    ['UTF-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(campaignYaml(), 'utf16le')]), /\(document\): UTF-16 text \(little-endian\): save it as UTF-8/],
    ['binary', Buffer.from([0, 1, 2, 3, 0xff, 0xd8, 0xff, 0xe0]), /\(document\): a binary file/],
  ])('says what a %s file is', async (_, bytes, message) => {
    const path = join(dir, `campaign-${n++}.yaml`);
    writeFileSync(path, bytes);
    const { stderr, exitCode } = await run([path]);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain('must be object');
    expect(exitCode).toBe(1);
  });

  it('refuses a JSON campaign with a trailing comma (issue 7, item 7)', async () => {
    const path = join(dir, `campaign-${n++}.json`);
    writeFileSync(path, JSON.stringify(campaignDocument(), null, 2).replace(/\n}$/, ',\n}'));
    const { stderr, exitCode } = await run([path]);
    expect(stderr).toMatch(/\.json:\d+:\d+: \(document\): not valid JSON/);
    expect(exitCode).toBe(1);
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
