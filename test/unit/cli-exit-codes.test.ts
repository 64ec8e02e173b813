import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { expectOneLine, occupiedPort, runLoa } from '../helpers/cli.js';

/** Issue 7, items 3, 7, 9 and 10: one line naming the flag or variable, and the exit code of the one table. */
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('loa exit codes', () => {
  it('prints the version with --version and exits 0', async () => {
    const sut = await runLoa(['--version']);
    expect(sut.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(sut.code).toBe(EXIT.ok);
  });

  it.each([
    ['an unknown option', ['--bogus']],
    ['an unknown command', ['frobnicate']],
    ['a missing argument', ['validate']],
    ['an unknown role', ['serve', '--role', 'boss']],
    ['a fractional --window', ['sim', '--window', '1.5']],
    ['a fractional --max-binds', ['sim', '--max-binds', '2.5']],
    ['an address that is none', ['sim', '--host', '999.1.1.1']],
  ])('exits 2 (usage) on %s', async (_, args) => {
    const sut = await runLoa(args, { LOA_LANG: 'en' });
    expect(sut.code).toBe(EXIT.usage);
    expect(sut.stderr).toMatch(/error: /);
  });

  it('names the flag of a bad value', async () => {
    expect((await runLoa(['sim', '--window', '1.5'], { LOA_LANG: 'en' })).stderr).toMatch(/--window.*expected a whole number/);
    expect((await runLoa(['sim', '--host', '999.1.1.1'], { LOA_LANG: 'en' })).stderr).toMatch(/--host.*expected an IP address/);
  });

  it('refuses all receipt weights zero (everything would be delivered)', async () => {
    const sut = await runLoa(['sim', '--delivered', '0', '--undeliverable', '0', '--port', '1'], { LOA_LANG: 'en' });
    expect(sut.code).toBe(EXIT.usage);
    expect(sut.stderr).toMatch(/^loa: error: --delivered, --undeliverable, --expired, --rejected: every weight is 0/);
    expectOneLine(sut.stderr);
  });

  it('exits 1 (invalid input) on a file that does not validate', async () => {
    expect((await runLoa(['validate', 'no-such-campaign.yaml'])).code).toBe(EXIT.invalidInput);
  });

  it.each([
    ['DATABASE_URL with a port out of range', ['migrate'], { DATABASE_URL: 'postgres://loa:pw@127.0.0.1:99999/x' }, /DATABASE_URL/],
    ['an empty LOA_REDIS_PREFIX', ['serve'], { LOA_REDIS_PREFIX: '' }, /LOA_REDIS_PREFIX.*empty/],
  ])('exits 1 with one line on %s', async (_, args, env, message) => {
    const sut = await runLoa(args, { LOA_LANG: 'en', ...env });
    expect(sut.code).toBe(EXIT.invalidInput);
    expect(sut.stderr).toMatch(message);
    expect(sut.stderr).not.toContain('Invalid URL');
    expectOneLine(sut.stderr);
  });

  it.each([
    ['--port', (port: number) => [['sim', '--port', String(port)], {}] as const],
    ['LOA_SIM_PORT', (port: number) => [['sim'], { LOA_SIM_PORT: String(port) }] as const],
  ])('names %s when the simulator port is in use', async (setting, build) => {
    const { server, port } = await occupiedPort();
    try {
      const [args, env] = build(port);
      const sut = await runLoa([...args], { LOA_LANG: 'en', LOG_LEVEL: 'silent', ...env });
      expect(sut.code).toBe(EXIT.invalidInput);
      expect(sut.stderr).toContain(`port ${port} is already in use (${setting})`);
      expectOneLine(sut.stderr);
    } finally {
      server.close();
    }
  });

  it('words configuration mistakes in Vietnamese too, one line per variable', async () => {
    const sut = await runLoa(['serve'], { LOA_LANG: 'vi', DATABASE_URL: 'postgres://x@h:99999/loa', PORT: 'abc', LOA_REDIS_PREFIX: '' });
    expect(sut.code).toBe(EXIT.invalidInput);
    expect(sut.stderr).toMatch(/^loa: lỗi: cấu hình sai: biến môi trường DATABASE_URL: 'postgres:\/\/x@h:99999\/loa' không phải URL hợp lệ/);
    expect(sut.stderr).toContain('biến môi trường LOA_REDIS_PREFIX: được đặt nhưng rỗng');
    expect(sut.stderr).toContain('biến môi trường PORT: phải có kiểu integer');
  });

  it('words usage errors and help in Vietnamese too', async () => {
    const unknown = await runLoa(['--bogus'], { LOA_LANG: 'vi' });
    expect(unknown.stderr).toMatch(/^loa: lỗi: không có tùy chọn '--bogus'\n/);
    expect(unknown.stderr).toContain('Cách dùng: loa');
    expect(unknown.code).toBe(EXIT.usage);
    const help = await runLoa(['validate', '--help'], { LOA_LANG: 'vi' });
    expect(help.stdout).toContain('Tùy chọn:');
    expect(help.stdout).toContain('coi cảnh báo là lỗi');
    expect(help.code).toBe(EXIT.ok);
  });

  it.each([
    [['runs', '--help'], 'các lần gửi, mới nhất trước', 'runs, newest first'],
    [['keys', 'create', '--help'], 'khóa được phép làm gì', 'what the key may do'],
    [['launch', '--help'], 'chỉ gửi tới danh sách này', 'send only to this list'],
    [['status', '--help'], 'mã lần gửi (loa runs)', 'the run id (loa runs)'],
  ])('words the help of %j in the reader’s language', async (args, vietnamese, english) => {
    expect((await runLoa(args, { LOA_LANG: 'vi' })).stdout).toContain(vietnamese);
    expect((await runLoa(args, { LOA_LANG: 'en' })).stdout).toContain(english);
  });

  it('words a bad LOA_URL in the reader’s language', async () => {
    expect((await runLoa(['runs'], { LOA_LANG: 'vi', LOA_URL: 'ftp://x' })).stderr).toBe("loa: lỗi: cấu hình sai: biến môi trường LOA_URL: 'ftp://x' không phải URL http(s), ví dụ http://127.0.0.1:8080\n");
    expect((await runLoa(['runs'], { LOA_LANG: 'en', LOA_URL: 'ftp://x' })).stderr).toBe("loa: error: configuration: environment variable LOA_URL: 'ftp://x' is not an http(s) URL, e.g. http://127.0.0.1:8080\n");
  });

  it('speaks Vietnamese by default and English when LANG says so', async () => {
    const args = ['sim', '--delivered', '0'];
    expect((await runLoa(args, { LOA_LANG: '', LANG: 'C.UTF-8' })).stderr).toMatch(/^loa: lỗi: .*mọi trọng số đều bằng 0/);
    expect((await runLoa(args, { LOA_LANG: '', LANG: 'en_US.UTF-8' })).stderr).toMatch(/^loa: error: .*every weight is 0/);
    expect((await runLoa(args, { LOA_LANG: 'vi', LANG: 'en_US.UTF-8' })).stderr).toMatch(/^loa: lỗi: /);
  });
});
