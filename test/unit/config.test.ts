import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  jsonPointerToPath,
  loadCampaignRules,
  loadCarriersConfig,
  loadConfig,
  loadDatabaseConfig,
  loadLogConfig,
  loadRedisConfig,
  parseCarriersYaml,
  simulatorCarriers,
} from '../../src/config.js';
import { describeFailure } from '../../src/cli/failure.js';
import { DEFAULT_MAX_PARTS } from '../../src/domain/campaign-warnings.js';
import { CARRIER_IDS } from '../../src/domain/carrier.js';
import { translator } from '../../src/i18n/index.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bind = (password = 'pw', port: unknown = 2775): string => `{ host: 10.0.0.5, port: ${String(port)}, systemId: sttt_ct, password: ${password}, count: 2 }`;
function carriersYaml(overrides: Partial<Record<string, string>> = {}): string {
  const block = (id: string): string => overrides[id] ?? `  ${id}:\n    binds: [${bind()}]\n    tps: 100\n`;
  return `carriers:\n${CARRIER_IDS.map(block).join('')}`;
}

function configError(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe(loadConfig.name, () => {
  it('uses the documented defaults and the simulator without LOA_CARRIERS', () => {
    const sut = loadConfig({});
    // The user part is filled from the OS user, as libpq does.
    expect(sut.databaseUrl).toMatch(/^postgres:\/\/([^@/]+@)?localhost:5432\/loa$/);
    expect(sut).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      port: 8080,
      logLevel: 'info',
      carriersSource: 'simulator',
    });
    expect(Object.keys(sut.carriers).sort()).toEqual([...CARRIER_IDS].sort());
    expect(Object.isFrozen(sut)).toBe(true);
    expect(Object.isFrozen(sut.carriers.viettel.binds[0])).toBe(true);
  });

  it('keeps a user named in DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://loa:pw@db:5432/loa' }).databaseUrl).toBe('postgres://loa:pw@db:5432/loa');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });

  it('converts numbers from the environment', () => {
    expect(loadConfig({ PORT: '9090', LOA_SIM_PORT: '3000' })).toMatchObject({ port: 9090, simulatorPort: 3000 });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/loa'],
    ['REDIS_URL', 'http://localhost'],
    ['LOG_LEVEL', 'loud'],
    ['LOA_REDIS_PREFIX', 'has space'],
    ['LOA_SHUTDOWN_TIMEOUT_MS', '5'],
  ])('names the bad variable %s=%s', (name, value) => {
    expect(configError(() => loadConfig({ [name]: value }))).toContain(`environment variable ${name}`);
  });

  it('reports every bad variable at once', () => {
    const message = configError(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' }));
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
  });

  it('names LOA_CARRIERS when its file cannot be read', () => {
    const message = configError(() => loadConfig({ LOA_CARRIERS: join(dir, 'missing.yaml') }));
    expect(message).toContain('LOA_CARRIERS');
    expect(message).toContain('missing.yaml');
  });

  it('reads the carriers file named by LOA_CARRIERS, with ${VAR} from the same environment', () => {
    const file = join(dir, 'carriers.yaml');
    writeFileSync(file, carriersYaml({ viettel: `  viettel:\n    binds: [${bind('${VIETTEL_PW}')}]\n    tps: 200\n` }));
    const sut = loadConfig({ LOA_CARRIERS: file, VIETTEL_PW: 's3cret' });
    expect(sut.carriersSource).toBe('file');
    expect(sut.carriers.viettel).toMatchObject({ tps: 200, binds: [{ password: 's3cret', count: 2 }] });
  });
});

describe('configuration in parts (issue 7, items 3, 6, 7)', () => {
  const brokenCarriers = (): string => {
    const file = join(dir, 'broken-carriers.yaml');
    writeFileSync(file, 'carriers: [unclosed');
    return file;
  };

  it('reads DATABASE_URL without looking at a broken LOA_CARRIERS', () => {
    const env = { LOA_CARRIERS: brokenCarriers(), DATABASE_URL: 'postgres://loa@db:5432/loa' };
    expect(loadDatabaseConfig(env).databaseUrl).toBe('postgres://loa@db:5432/loa');
    expect(loadRedisConfig(env).redisPrefix).toBe('loa');
    expect(loadLogConfig(env)).toEqual({ logLevel: 'info', logFormat: 'json' });
    expect(() => loadCarriersConfig(env)).toThrow(ConfigError);
  });

  it.each([
    ['a port out of range', 'postgres://loa:secret@db:99999/x'],
    ['no host', 'postgres://'],
  ])('names DATABASE_URL on %s, without its password', (_, value) => {
    const message = configError(() => loadDatabaseConfig({ DATABASE_URL: value }));
    expect(message).toMatch(/^environment variable DATABASE_URL: /);
    expect(message).toContain('postgres://user@host:5432/database');
    expect(message).not.toContain('secret');
    expect(configError(() => loadConfig({ DATABASE_URL: value }))).toMatch(/DATABASE_URL/);
  });

  it('refuses an empty LOA_REDIS_PREFIX rather than sharing the default prefix', () => {
    expect(configError(() => loadRedisConfig({ LOA_REDIS_PREFIX: '' }))).toMatch(/LOA_REDIS_PREFIX.*empty/);
    expect(configError(() => loadConfig({ LOA_REDIS_PREFIX: '  ' }))).toMatch(/LOA_REDIS_PREFIX/);
  });

  it('refuses a HOST that looks like an address but is none', () => {
    expect(configError(() => loadConfig({ HOST: '999.1.1.1' }))).toMatch(/environment variable HOST: '999\.1\.1\.1' is not an IP address/);
    expect(loadConfig({ HOST: 'localhost' }).host).toBe('localhost');
  });

  it('reads LOG_FORMAT (json | pretty)', () => {
    expect(loadLogConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(configError(() => loadLogConfig({ LOG_FORMAT: 'xml' }))).toContain('environment variable LOG_FORMAT');
  });

  it('reads LOA_MAX_PARTS, default the domain constant', () => {
    expect(loadCampaignRules({}).maxParts).toBe(DEFAULT_MAX_PARTS);
    expect(loadCampaignRules({ LOA_MAX_PARTS: '10' }).maxParts).toBe(10);
    expect(configError(() => loadCampaignRules({ LOA_MAX_PARTS: '0' }))).toContain('environment variable LOA_MAX_PARTS');
  });
});

describe(parseCarriersYaml.name, () => {
  it('fills what the file leaves out from each carrier’s profile and keeps its id', () => {
    const sut = parseCarriersYaml(carriersYaml(), 'c.yaml', {});
    for (const id of CARRIER_IDS) {
      const defaults = CARRIER_PROFILES[id].defaults;
      expect(sut[id]).toMatchObject({ id, window: defaults.window, bindMode: defaults.bindMode, messageId: defaults.messageId, systemType: '' });
    }
  });

  it('splits the profile’s bind limit over the endpoints when the file gives no count', () => {
    const endpoint = (host: string): string => `{ host: ${host}, port: 2775, systemId: s, password: p }`;
    const sut = parseCarriersYaml(carriersYaml({ vnpt: `  vnpt:\n    binds: [${endpoint('a')}, ${endpoint('b')}]\n    tps: 100\n    window: 7\n` }), 'c.yaml', {});
    const maxBinds = CARRIER_PROFILES.vnpt.defaults.maxBinds;
    expect(sut.vnpt.binds.map((b) => b.count)).toEqual([Math.max(1, Math.floor(maxBinds / 2)), Math.max(1, Math.floor(maxBinds / 2))]);
    expect(sut.vnpt.window).toBe(7);
  });

  it('keeps an unquoted numeric password and system id as written', () => {
    const sut = parseCarriersYaml(carriersYaml({ viettel: `  viettel:\n    binds: [{ host: h, port: 2775, systemId: 007, password: 0123 }]\n    tps: 100\n` }), 'c.yaml', {});
    expect(sut.viettel.binds[0]).toMatchObject({ systemId: '007', password: '0123', port: 2775 });
  });

  it('does not quote the offending line of a YAML error (it may hold a password)', () => {
    const message = configError(() => parseCarriersYaml('carriers:\n  viettel: { password: hunter2, [', 'c.yaml', {}));
    expect(message).toMatch(/line \d+/);
    expect(message).not.toContain('hunter2');
  });

  it.each([
    ['a port out of range', { viettel: `  viettel:\n    binds: [${bind('pw', 70000)}]\n    tps: 100\n` }, 'c.yaml: carriers.viettel.binds[0].port'],
    ['a port that is not a number', { vnpt: `  vnpt:\n    binds: [${bind('pw', 'abc')}]\n    tps: 100\n` }, 'c.yaml: carriers.vnpt.binds[0].port'],
    ['a second bind without host', { mobifone: `  mobifone:\n    binds: [${bind()}, { port: 2775, systemId: s, password: p }]\n    tps: 100\n` }, 'carriers.mobifone.binds[1]'],
    ['no binds', { viettel: '  viettel:\n    binds: []\n    tps: 100\n' }, 'carriers.viettel.binds'],
    ['a zero tps', { viettel: `  viettel:\n    binds: [${bind()}]\n    tps: 0\n` }, 'carriers.viettel.tps'],
    ['a bad messageId format', { vnpt: `  vnpt:\n    binds: [${bind()}]\n    tps: 100\n    messageId: { submit: hex, receipt: base64 }\n` }, 'carriers.vnpt.messageId.receipt'],
    ['an unknown key', { viettel: `  viettel:\n    binds: [${bind()}]\n    tps: 100\n    speed: 3\n` }, "'speed'"],
    ['a password longer than SMPP allows', { viettel: `  viettel:\n    binds: [${bind('ninechars')}]\n    tps: 100\n` }, 'carriers.viettel.binds[0].password'],
    ['a missing carrier', { vnpt: '' }, 'carriers.vnpt'],
    ['an unknown carrier', { vnpt: `  vnpt:\n    binds: [${bind()}]\n    tps: 100\n  gmobile:\n    binds: [${bind()}]\n    tps: 1\n` }, "'gmobile'"],
  ])('names the YAML path of %s', (_, overrides, expected) => {
    expect(configError(() => parseCarriersYaml(carriersYaml(overrides), 'c.yaml', {}))).toContain(expected);
  });

  it('names the file on a YAML syntax error', () => {
    expect(configError(() => parseCarriersYaml('carriers: [unclosed', 'c.yaml', {}))).toMatch(/^c\.yaml: /);
  });

  it('substitutes ${VAR} from the environment', () => {
    const sut = parseCarriersYaml(carriersYaml({ vnpt: `  vnpt:\n    binds: [{ host: \${VNPT_HOST}, port: 2775, systemId: s, password: \${VNPT_PW} }]\n    tps: 100\n` }), 'c.yaml', {
      VNPT_HOST: 'smsc.vnpt.example',
      VNPT_PW: 'abc123',
    });
    expect(sut.vnpt.binds[0]).toMatchObject({ host: 'smsc.vnpt.example', password: 'abc123' });
  });

  it('names a ${VAR} that is not set, without a value', () => {
    const message = configError(() => parseCarriersYaml(carriersYaml({ viettel: `  viettel:\n    binds: [${bind('${VIETTEL_PW}')}]\n    tps: 100\n` }), 'c.yaml', {}));
    expect(message).toContain('VIETTEL_PW');
    expect(message).toContain('c.yaml');
  });

  it.each(['0123', 'S3: x', 'a #b', '{x}', 'null', '1e3'])('keeps the secret %j exactly as set, never re-read as YAML', (secret) => {
    const sut = parseCarriersYaml(carriersYaml({ viettel: `  viettel:\n    binds: [${bind('"${VIETTEL_PW}"')}]\n    tps: 100\n` }), 'c.yaml', { VIETTEL_PW: secret });
    expect(sut.viettel.binds[0]?.password).toBe(secret);
  });

  it('names the YAML path of an unset ${VAR} and ignores ${VAR} in comments', () => {
    const yaml = carriersYaml({ viettel: `  # password: \${OLD_UNSET}\n  viettel:\n    binds: [${bind('${VIETTEL_PW}')}]\n    tps: 100\n` });
    expect(configError(() => parseCarriersYaml(yaml, 'c.yaml', {}))).toContain('carriers.viettel.binds[0].password');
    expect(parseCarriersYaml(yaml, 'c.yaml', { VIETTEL_PW: 'pw' }).viettel.binds[0]?.password).toBe('pw');
  });

  it('names every missing carrier at once', () => {
    const message = configError(() => parseCarriersYaml(`carriers:\n  viettel:\n    binds: [${bind()}]\n    tps: 100\n`, 'c.yaml', {}));
    expect(message).toContain('carriers.vnpt');
    expect(message).toContain('carriers.mobifone');
  });
});

describe(simulatorCarriers.name, () => {
  it('gives each carrier its own consecutive loopback port', () => {
    const sut = simulatorCarriers(4000);
    expect(CARRIER_IDS.map((id) => sut[id].binds[0]?.port)).toEqual([4000, 4001, 4002]);
    for (const id of CARRIER_IDS) expect(sut[id].binds[0]?.host).toBe('127.0.0.1');
  });
});

describe(jsonPointerToPath.name, () => {
  it.each([
    ['', ''],
    ['/carriers/viettel/binds/0/port', 'carriers.viettel.binds[0].port'],
    ['/a~1b/c~0d', 'a/b.c~d'],
  ])('%s → %s', (pointer, expected) => {
    expect(jsonPointerToPath(pointer)).toBe(expected);
  });
});

describe('carriers-file problems in the reader’s language (issue 7, item 9)', () => {
  const failureOf = (text: string, language: 'vi' | 'en', env: NodeJS.ProcessEnv = {}): string => {
    try {
      parseCarriersYaml(text, 'c.yaml', env);
    } catch (error) {
      return describeFailure(error, translator(language)).message ?? '';
    }
    throw new Error('parsed');
  };

  it('words YAML syntax, unset ${VAR} references, unknown fields, bad values and missing carriers in Vietnamese or English', () => {
    expect(failureOf('carriers: [unclosed', 'vi')).toMatch(/c\.yaml: line 1, column \d+: lỗi cú pháp YAML/);
    expect(failureOf('carriers: [unclosed', 'en')).toMatch(/c\.yaml: line 1, column \d+: YAML syntax error/);
    const unset = carriersYaml({ vnpt: '  vnpt:\n    binds: [{ host: h, port: 2775, systemId: s, password: ${VNPT_PW} }]\n    tps: 100\n' });
    expect(failureOf(unset, 'vi')).toContain('c.yaml: carriers.vnpt.binds[0].password: tham chiếu biến môi trường VNPT_PW nhưng biến này chưa được đặt');
    expect(failureOf(unset, 'en')).toContain('c.yaml: carriers.vnpt.binds[0].password: refers to environment variable VNPT_PW, which is not set');
    const extra = carriersYaml({ viettel: `  viettel:\n    binds: [${bind('pw', 99999)}]\n    tps: 100\n    speed: 3\n` });
    expect(failureOf(extra, 'vi')).toContain("c.yaml: carriers.viettel: trường 'speed' không được hỗ trợ");
    expect(failureOf(extra, 'vi')).toContain('c.yaml: carriers.viettel.binds[0].port: phải ≤ 65535');
    expect(failureOf(extra, 'en')).toContain("c.yaml: carriers.viettel: has a field 'speed' that is not supported");
    const missing = `carriers:\n  viettel:\n    binds: [${bind()}]\n    tps: 100\n`;
    expect(failureOf(missing, 'vi')).toContain('c.yaml: carriers.vnpt: bắt buộc phải có (Loa gửi qua viettel, vnpt, mobifone)');
  });
});
