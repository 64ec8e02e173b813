import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../logger.js';

export interface MigrationFile {
  /** The four digits, e.g. `0001`. */
  version: string;
  /** The file name, e.g. `0001_initial.sql`. */
  name: string;
  sql: string;
  /** sha256 of the text: an applied migration must not be edited afterwards. */
  checksum: string;
}

export interface MigrationResult {
  /** File names applied by this call, in order. */
  applied: string[];
  /** File names that were already applied. */
  skipped: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;
const MIGRATIONS_PATH = join('src', 'store', 'migrations');

/**
 * tsc does not copy .sql files to dist/, so the directory is found from the repository root:
 * walk up from this module (src/store/ under tsx/vitest, dist/src/store/ when built) until a
 * directory holding src/store/migrations appears.
 */
export function findMigrationsDirectory(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = join(dir, MIGRATIONS_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new MigrationError(`no ${MIGRATIONS_PATH} directory above ${fileURLToPath(fromUrl)}`);
    dir = parent;
  }
}

/** The migration files of `directory`, in version order. */
export function readMigrations(directory: string): MigrationFile[] {
  const files = readdirSync(directory)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  const seen = new Map<string, string>();
  return files.map((name) => {
    const match = FILE_PATTERN.exec(name);
    if (!match?.[1]) throw new MigrationError(`${join(directory, name)}: migration files are named NNNN_snake_case.sql`);
    const version = match[1];
    const other = seen.get(version);
    if (other) throw new MigrationError(`${name} and ${other} share version ${version}`);
    seen.set(version, name);
    const sql = readFileSync(join(directory, name), 'utf8').replace(/\r\n/g, '\n');
    return { version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/**
 * Applies src/store/migrations/*.sql in order, each in its own transaction together with its
 * schema_migrations row, so a failing file leaves nothing behind. A session advisory lock makes
 * processes that start together (api and workers in docker-compose) take turns: the first
 * applies, the others then find everything applied.
 */
export class MigrationRunner {
  readonly directory: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { directory?: string; logger?: Logger } = {},
  ) {
    this.directory = options.directory ?? findMigrationsDirectory();
  }

  async migrate(): Promise<MigrationResult> {
    const files = readMigrations(this.directory);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`SELECT pg_advisory_lock(hashtextextended('loa:schema_migrations', 0))`);
      try {
        // Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS can still collide.
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version    text PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
        const applied = await this.appliedChecksums(client);
        const result: MigrationResult = { applied: [], skipped: [] };
        for (const file of files) {
          const known = applied.get(file.version);
          if (known !== undefined) {
            if (known.checksum !== file.checksum) {
              throw new MigrationError(`${file.name} was changed after it was applied (as ${known.name}); add a new migration instead`);
            }
            result.skipped.push(file.name);
            continue;
          }
          await this.apply(client, file);
          result.applied.push(file.name);
          this.options.logger?.info({ component: 'migrator', migration: file.name }, 'migration applied');
        }
        const unknown = [...applied.values()].filter((row) => !files.some((file) => file.version === row.version));
        if (unknown.length > 0) {
          this.options.logger?.warn({ component: 'migrator', migrations: unknown.map((row) => row.name) }, 'database has migrations this code does not know');
        }
        return result;
      } finally {
        await client.query(`SELECT pg_advisory_unlock(hashtextextended('loa:schema_migrations', 0))`);
      }
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      // A client that failed mid-protocol is discarded rather than returned to the pool.
      client.release(broken instanceof MigrationError ? undefined : broken);
    }
  }

  /** Every migration file with when it was applied (null: pending). */
  async status(): Promise<Array<{ name: string; appliedAt: Date | null }>> {
    const files = readMigrations(this.directory);
    const { rows } = await this.pool.query<{ version: string; applied_at: Date }>('SELECT version, applied_at FROM schema_migrations').catch((error: { code?: string }) => {
      if (error.code === '42P01') return { rows: [] }; // undefined_table: nothing applied yet
      throw error;
    });
    const appliedAt = new Map(rows.map((row) => [row.version, row.applied_at]));
    return files.map((file) => ({ name: file.name, appliedAt: appliedAt.get(file.version) ?? null }));
  }

  private async appliedChecksums(client: pg.PoolClient): Promise<Map<string, { version: string; name: string; checksum: string }>> {
    const { rows } = await client.query<{ version: string; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    return new Map(rows.map((row) => [row.version, row]));
  }

  private async apply(client: pg.PoolClient, file: MigrationFile): Promise<void> {
    await client.query('BEGIN');
    try {
      await client.query(file.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        file.version,
        file.name,
        file.checksum,
      ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new MigrationError(`${file.name}: ${(error as Error).message}`, { cause: error });
    }
  }
}
