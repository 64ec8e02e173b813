import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type Store } from '../../src/store/db.js';
import { findMigrationsDirectory, MigrationRunner, readMigrations } from '../../src/store/migrator.js';

/**
 * Integration tests get real PostgreSQL: each test file its own database, cloned from a
 * template that global-setup.ts migrated once (CONVENTIONS.md, Tests). Cloning takes a few
 * hundred milliseconds, far less than migrating, and files then run in parallel.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    loaTestAdminUrl: string;
    loaTestTemplate: string;
  }
}

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const TEMPLATE_PREFIX = 'loa_test_template_';
const TEST_DB_PREFIX = 'loa_test_';
/** Test databases older than this are left over from a killed run and get dropped. */
const LEFTOVER_AGE_SECONDS = 12 * 3600;
/** A template of other migrations may belong to a run still going on another checkout. */
const OLD_TEMPLATE_AGE_SECONDS = 3600;

export function adminUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL;
}

/** The same server as `admin`, another database. */
export function databaseUrl(admin: string, database: string): string {
  const url = new URL(admin);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(admin: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: admin, application_name: 'loa-test-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rowCount === 1;
}

/**
 * The template's name carries a hash of the migrations, so concurrent test runs (several
 * people share this machine) reuse one template instead of dropping it under each other, and
 * editing a migration yields a fresh template.
 */
export function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readMigrations(findMigrationsDirectory())) hash.update(`${file.name}:${file.checksum}\n`);
  return `${TEMPLATE_PREFIX}${hash.digest('hex').slice(0, 12)}`;
}

/**
 * Creates and migrates the template unless it exists, under an advisory lock so two runs
 * starting together build it once. It is built under another name and renamed when complete,
 * and no connection to it stays open (a template with open connections cannot be cloned).
 * Also drops, best effort, older templates and test databases left over by killed runs.
 */
export async function ensureTemplateDatabase(admin: string = adminUrl()): Promise<string> {
  const name = templateName();
  await withAdmin(admin, async (client) => {
    await client.query(`SELECT pg_advisory_lock(hashtextextended('loa:test-template', 0))`);
    try {
      if (!(await databaseExists(client, name))) {
        const building = `${name}_build`;
        await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
        await client.query(`CREATE DATABASE "${building}"`);
        const store = createDb(databaseUrl(admin, building), { max: 1, applicationName: 'loa-test-template' });
        try {
          await new MigrationRunner(store.pool).migrate();
        } finally {
          await store.close();
        }
        await waitForNoSessions(client, building);
        await client.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
        await client.query(`COMMENT ON DATABASE "${name}" IS 'loa test template, created ${Math.floor(Date.now() / 1000)}'`);
      }
      await dropLeftovers(client, name);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtextextended('loa:test-template', 0))`);
    }
  });
  return name;
}

/** A closed pool's server processes exit a moment after their sockets close. */
async function waitForNoSessions(client: pg.Client, database: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { rowCount } = await client.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [database]);
    if (rowCount === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sessions on ${database} did not end`);
}

async function dropLeftovers(client: pg.Client, currentTemplate: string): Promise<void> {
  const { rows } = await client.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname LIKE 'loa\\_test\\_%'`,
  );
  const now = Math.floor(Date.now() / 1000);
  const stale = rows
    .filter(({ datname, comment }) => {
      if (datname === currentTemplate) return false;
      // Templates are only built under the lock this function holds: a *_build one is debris.
      if (datname.endsWith('_build')) return true;
      if (datname.startsWith(TEMPLATE_PREFIX)) {
        const created = /created (\d+)/.exec(comment ?? '')?.[1];
        return created === undefined || now - Number(created) > OLD_TEMPLATE_AGE_SECONDS;
      }
      const created = /^loa_test_([0-9a-z]+)_[0-9a-f]+$/.exec(datname)?.[1];
      return created !== undefined && now - parseInt(created, 36) > LEFTOVER_AGE_SECONDS;
    })
    .map((row) => row.datname);
  await client.query(`SET lock_timeout = '1s'`);
  for (const db of stale) {
    // Without FORCE: a database someone is still using (or cloning) is left alone.
    await client.query(`DROP DATABASE IF EXISTS "${db}"`).catch(() => undefined);
  }
  await client.query('RESET lock_timeout');
}

export interface TestDatabase {
  name: string;
  url: string;
  store: Store;
  /** Closes the store and drops the database. */
  drop(): Promise<void>;
}

function provided(key: 'loaTestAdminUrl' | 'loaTestTemplate'): string | undefined {
  try {
    return inject(key);
  } catch {
    return undefined;
  }
}

/**
 * A fresh database for one test file, cloned from the migrated template (or empty, for tests
 * of the migrator itself). Call drop() in afterAll.
 */
export async function createTestDatabase(options: { migrated?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const admin = provided('loaTestAdminUrl') ?? adminUrl();
  const migrated = options.migrated ?? true;
  const template = migrated ? (provided('loaTestTemplate') ?? (await ensureTemplateDatabase(admin))) : undefined;
  const name = `${TEST_DB_PREFIX}${Math.floor(Date.now() / 1000).toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(template ? `CREATE DATABASE "${name}" TEMPLATE "${template}"` : `CREATE DATABASE "${name}"`));
  const url = databaseUrl(admin, name);
  const store = createDb(url, { max: options.poolSize ?? 10, applicationName: 'loa-test' });
  return {
    name,
    url,
    store,
    async drop() {
      await store.close();
      await withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** A Redis key prefix of its own for one test file, e.g. `loa-test:5f2c9a1e`. */
export function testRedisPrefix(): string {
  return `loa-test:${randomBytes(4).toString('hex')}`;
}

/**
 * Deletes every key under `prefix` (pass a client without ioredis `keyPrefix`). Only test
 * prefixes are accepted, so a mistaken call cannot empty a real deployment's queues.
 */
export async function cleanupRedisPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix.startsWith('loa-test:')) throw new Error(`refusing to delete keys of non-test prefix ${prefix}`);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * A run to hang messages on (campaign `seed`, one version), for store tests; `occurrenceId`
 * makes further runs of the same version.
 */
export async function seedRun(store: Store, occurrenceId = 'now:seed'): Promise<number> {
  await store.db.insertInto('campaigns').values({ id: 'seed', name: 'Seed campaign' }).onConflict((oc) => oc.doNothing()).execute();
  await store.db
    .insertInto('campaign_versions')
    .values({ campaign_id: 'seed', content_hash: 'seed', document: {}, created_by: 'test' })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const version = await store.db.selectFrom('campaign_versions').select('id').where('campaign_id', '=', 'seed').executeTakeFirstOrThrow();
  const run = await store.db
    .insertInto('runs')
    .values({ campaign_version_id: version.id, occurrence_id: occurrenceId, scheduled_for: new Date(), launched_by: 'test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return run.id;
}
