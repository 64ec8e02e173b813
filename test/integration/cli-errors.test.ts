import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { expectOneLine, occupiedPort, runLoa } from '../helpers/cli.js';
import { adminUrl, createTestDatabase, databaseUrl, testRedisPrefix, type TestDatabase } from '../helpers/db.js';

/**
 * Issue 7, items 3, 6 and 10 against the real PostgreSQL and Redis: the first-run failures of
 * `loa migrate` and `loa serve` are one line naming what to change, with the exit code of the table.
 */
const dir = mkdtempSync(join(tmpdir(), 'loa-cli-errors-'));
const brokenCarriers = join(dir, 'carriers.yaml');
writeFileSync(brokenCarriers, 'carriers: [unclosed');

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('loa migrate', () => {
  it('needs nothing of the carriers: a broken LOA_CARRIERS does not stop it', async () => {
    const sut = await runLoa(['migrate'], { LOA_LANG: 'en', DATABASE_URL: database.url, LOA_CARRIERS: brokenCarriers });
    expect(sut.stderr).toBe('');
    expect(sut.stdout).toContain('schema up to date');
    expect(sut.code).toBe(EXIT.ok);
  });

  it('says PostgreSQL cannot be reached, naming DATABASE_URL, and exits 3', async () => {
    const sut = await runLoa(['migrate'], { LOA_LANG: 'en', DATABASE_URL: 'postgres://loa:secret@127.0.0.1:1/loa' });
    expect(sut.code).toBe(EXIT.unreachable);
    expect(sut.stderr).toMatch(/^loa: error: cannot reach PostgreSQL at postgres:\/\/loa:\*\*\*@127\.0\.0\.1:1\/loa \(ECONNREFUSED\).*DATABASE_URL/);
    expectOneLine(sut.stderr);
  });

  it('hints at --create-database when the database is missing, and creates it when asked', async () => {
    const name = `${database.name}_missing`;
    const url = databaseUrl(adminUrl(), name);
    try {
      const missing = await runLoa(['migrate'], { LOA_LANG: 'en', DATABASE_URL: url });
      expect(missing.code).toBe(EXIT.unreachable);
      expect(missing.stderr).toContain(`the database "${name}" does not exist`);
      expect(missing.stderr).toContain('loa migrate --create-database');
      expectOneLine(missing.stderr);
      const created = await runLoa(['migrate', '--create-database'], { LOA_LANG: 'en', DATABASE_URL: url });
      expect(created.code).toBe(EXIT.ok);
      expect(created.stdout).toContain('created database');
    } finally {
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    }
  });

  it('shows when each migration was applied in local time with its offset', async () => {
    const sut = await runLoa(['migrate', '--status'], { LOA_LANG: 'en', DATABASE_URL: database.url });
    expect(sut.stdout).toMatch(/^applied \d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?[+-]\d{2}:\d{2} +0001_initial\.sql$/m);
  });
});

describe('loa serve', () => {
  it.each([
    ['PORT', 'api', (port: number) => ({ PORT: String(port) })],
    // The built-in simulators belong to the single process (`--role all`); a `--role worker` binds to `loa sim`.
    ['LOA_SIM_PORT', 'all', (port: number) => ({ LOA_SIM_PORT: String(port - 1), PORT: '0' })],
  ])('names %s when its port is in use, exits 1 with one line', async (setting, role, env) => {
    const { server, port } = await occupiedPort('0.0.0.0');
    try {
      const sut = await runLoa(['serve', '--role', role], {
        LOA_LANG: 'en',
        LOG_LEVEL: 'silent',
        DATABASE_URL: database.url,
        LOA_REDIS_PREFIX: testRedisPrefix(),
        LOA_SHUTDOWN_TIMEOUT_MS: '2000',
        ...env(port),
      });
      expect(sut.stderr).toContain(`port ${port} is already in use (${setting})`);
      expect(sut.code).toBe(EXIT.invalidInput);
      expectOneLine(sut.stderr);
    } finally {
      server.close();
    }
  });

  it('says PostgreSQL cannot be reached and exits 3', async () => {
    const sut = await runLoa(['serve', '--role', 'api'], { LOA_LANG: 'en', LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://loa@127.0.0.1:1/loa', PORT: '0' });
    expect(sut.code).toBe(EXIT.unreachable);
    expect(sut.stderr).toMatch(/cannot reach PostgreSQL .*DATABASE_URL/);
    expectOneLine(sut.stderr);
  });
});
