import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';

export interface StoreOptions {
  /** Pool size. Default 10: a worker runs a few batches at once; PostgreSQL's default max_connections is 100. */
  max?: number;
  /** Shown in pg_stat_activity, e.g. `loa-worker`. */
  applicationName?: string;
  /** Server-side limit for one statement; default none (a COPY of millions of rows is one statement). */
  statementTimeoutMs?: number;
  logger?: Logger;
}

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
const DATE_OID = 1082;

/**
 * int8 (bigserial ids, count(*)) as a JS number rather than pg's default string, so ids and
 * counts are plain numbers in every layer. Ids stay far below 2^53; should a value ever pass
 * it the query fails loudly instead of returning a silently rounded id.
 */
export function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`int8 value ${value} does not fit a JS number`);
  return parsed;
}

/** pg's own parsers, looked up by any oid (pg-types' TypeId enum lists no array types). */
const builtinParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
const defaultInt8ArrayParser = builtinParser(INT8_ARRAY_OID, 'text') as (value: string) => Array<string | null>;
function parseInt8Array(value: string): Array<number | null> {
  return defaultInt8ArrayParser(value).map((item) => (item === null ? null : parseInt8(item)));
}

/** Per-pool parsers (not pg.types.setTypeParser, which would change every pg user in the process). */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === undefined || format === 'text') {
      if (oid === INT8_OID) return parseInt8;
      if (oid === INT8_ARRAY_OID) return parseInt8Array;
      // A calendar day (daily report) stays 'YYYY-MM-DD': a Date would shift it by the time zone.
      if (oid === DATE_OID) return (value: string) => value;
    }
    return builtinParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * PostgreSQL behind one object: a pg pool (COPY and raw protocol work) and Kysely over the same
 * pool (typed queries). Passed to repositories; nothing else imports pg.
 */
export class Store {
  readonly pool: pg.Pool;
  readonly db: Kysely<Database>;
  #closed = false;

  constructor(databaseUrl: string, options: StoreOptions = {}) {
    this.pool = new pg.Pool({
      connectionString: databaseUrl,
      max: options.max ?? 10,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      application_name: options.applicationName ?? 'loa',
      types: typeParsers,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    });
    // An idle client whose server went away (PostgreSQL restart) emits 'error' on the pool;
    // unhandled, that would kill the process. The pool drops the client and the next query reconnects.
    this.pool.on('error', (error) => options.logger?.warn({ component: 'store', err: error }, 'idle PostgreSQL client failed'));
    // The pool listens only to idle clients. A checked-out client (a Kysely transaction) whose
    // server goes away emits 'error' too, and with no listener that is an uncaught exception that
    // kills the process; the statement in flight still rejects, and the pool drops the client.
    this.pool.on('connect', (client) => {
      client.on('error', (error) => options.logger?.warn({ component: 'store', err: error }, 'PostgreSQL connection lost'));
    });
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: this.pool }) });
  }

  /** For health checks: true when a round trip to PostgreSQL succeeds within `timeoutMs`. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const query = sql<{ ok: number }>`SELECT 1 AS ok`
      .execute(this.db)
      .then((result) => result.rows[0]?.ok === 1)
      .catch(() => false);
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the pool; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Kysely ends the pool only if a Kysely query initialised its driver; pool-only users did not.
    await this.db.destroy();
    if (!this.pool.ended) await this.pool.end();
  }
}

export function createDb(databaseUrl: string, options?: StoreOptions): Store {
  return new Store(databaseUrl, options);
}

/**
 * Creates the database `databaseUrl` names unless it exists, connecting to the server's
 * `postgres` database to do so. Returns whether it was created. (For `loa migrate
 * --create-database` on a fresh server; docker-compose creates it through POSTGRES_DB.)
 */
export async function createDatabaseIfMissing(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`${url.protocol}//${url.host}: the URL names no database`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), application_name: 'loa-migrate' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 1) return false;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    return true;
  } catch (error) {
    // Another process created it between the check and CREATE DATABASE.
    if ((error as { code?: string }).code === '42P04') return false;
    throw error;
  } finally {
    await client.end();
  }
}
