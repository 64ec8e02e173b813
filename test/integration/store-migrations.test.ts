import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type Store } from '../../src/store/db.js';
import { findMigrationsDirectory, MigrationError, MigrationRunner, readMigrations } from '../../src/store/migrator.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe(MigrationRunner.name, () => {
  let database: TestDatabase;
  const extraStores: Store[] = [];
  const tempDirs: string[] = [];

  beforeEach(async () => {
    database = await createTestDatabase({ migrated: false });
  });

  afterEach(async () => {
    for (const store of extraStores.splice(0)) await store.close();
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await database.drop();
  });

  function migrationsDir(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'loa-migrations-'));
    tempDirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  async function appliedVersions(): Promise<string[]> {
    const rows = await database.store.db.selectFrom('schema_migrations').select('name').orderBy('version').execute();
    return rows.map((row) => row.name);
  }

  it('applies every migration once, and nothing the second time', async () => {
    const all = readMigrations(findMigrationsDirectory()).map((file) => file.name);
    const sut = new MigrationRunner(database.store.pool);

    const first = await sut.migrate();
    const second = await sut.migrate();

    expect(first).toEqual({ applied: all, skipped: [] });
    expect(second).toEqual({ applied: [], skipped: all });
    expect(await appliedVersions()).toEqual(all);
  });

  it('applies each migration exactly once when two processes migrate at the same time', async () => {
    const all = readMigrations(findMigrationsDirectory()).map((file) => file.name);
    const other = createDb(database.url, { max: 1 });
    extraStores.push(other);

    const results = await Promise.all([new MigrationRunner(database.store.pool).migrate(), new MigrationRunner(other.pool).migrate()]);

    expect(results.flatMap((result) => result.applied).sort()).toEqual(all);
    expect(results.map((result) => result.applied.length).sort()).toEqual([0, all.length]);
    expect(await appliedVersions()).toEqual(all);
  });

  it('0018 counts the subscribers of the lists that exist when it runs', async () => {
    const earlier = readMigrations(findMigrationsDirectory()).filter((file) => file.version < '0018');
    await new MigrationRunner(database.store.pool, { directory: migrationsDir(Object.fromEntries(earlier.map((file) => [file.name, file.sql]))) }).migrate();
    await database.store.pool.query(`INSERT INTO lists (id, name) VALUES ('hue', 'Huế'), ('empty', 'Empty')`);
    await database.store.pool.query(`INSERT INTO subscribers (list_id, msisdn) SELECT 'hue', (84912000000 + i)::text FROM generate_series(1, 1234) i`);

    await new MigrationRunner(database.store.pool).migrate();

    const { rows } = await database.store.pool.query<{ id: string; subscriber_count: number }>('SELECT id, subscriber_count FROM lists ORDER BY id');
    expect(rows).toEqual([
      { id: 'empty', subscriber_count: 0 },
      { id: 'hue', subscriber_count: 1234 },
    ]);
  });

  it('rolls a failing migration back and records nothing of it', async () => {
    const directory = migrationsDir({
      '0001_first.sql': 'CREATE TABLE first_table (id int);',
      '0002_broken.sql': 'CREATE TABLE second_table (id int);\nSELECT no_such_function();',
    });
    const sut = new MigrationRunner(database.store.pool, { directory });

    await expect(sut.migrate()).rejects.toThrow(/0002_broken\.sql: .*no_such_function/);

    expect(await appliedVersions()).toEqual(['0001_first.sql']);
    const { rows } = await database.store.pool.query(`SELECT to_regclass('first_table') AS first, to_regclass('second_table') AS second`);
    expect(rows[0]).toEqual({ first: 'first_table', second: null });
  });

  it('refuses to run when an applied migration was edited', async () => {
    const directory = migrationsDir({ '0001_first.sql': 'CREATE TABLE first_table (id int);' });
    await new MigrationRunner(database.store.pool, { directory }).migrate();
    writeFileSync(join(directory, '0001_first.sql'), 'CREATE TABLE first_table (id bigint);');

    const sut = new MigrationRunner(database.store.pool, { directory });

    await expect(sut.migrate()).rejects.toThrow(MigrationError);
    await expect(sut.migrate()).rejects.toThrow(/0001_first\.sql was changed after it was applied/);
  });

  it('rejects badly named migration files', () => {
    const directory = migrationsDir({ '1_first.sql': 'SELECT 1;' });
    expect(() => readMigrations(directory)).toThrow(/NNNN_snake_case\.sql/);
  });

  it('reports pending and applied migrations', async () => {
    const directory = migrationsDir({ '0001_first.sql': 'SELECT 1;', '0002_second.sql': 'SELECT 2;' });
    const sut = new MigrationRunner(database.store.pool, { directory });
    expect((await sut.status()).map((entry) => entry.appliedAt)).toEqual([null, null]);

    await sut.migrate();

    const status = await sut.status();
    expect(status.map((entry) => entry.name)).toEqual(['0001_first.sql', '0002_second.sql']);
    expect(status.every((entry) => entry.appliedAt instanceof Date)).toBe(true);
  });

  it('finds src/store/migrations from the source tree and from the compiled dist/src/store', () => {
    const source = findMigrationsDirectory();
    const root = join(source, '..', '..', '..');

    const compiled = findMigrationsDirectory(pathToFileURL(join(root, 'dist', 'src', 'store', 'migrator.js')).href);

    expect(compiled).toBe(source);
    expect(source).toBe(join(root, 'src', 'store', 'migrations'));
  });
});
