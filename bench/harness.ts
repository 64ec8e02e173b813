import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, MigrationRunner, type Store } from '../src/store/index.js';

/** One figure a benchmark reports; printed as one JSON line by bench/run.ts. */
export interface BenchResult {
  bench: string;
  value: number;
  unit: string;
  [detail: string]: unknown;
}

export type Report = (result: BenchResult) => void;

/** A benchmark module: `bench/<name>.bench.ts` exporting `run`. */
export interface Benchmark {
  run(report: Report): Promise<void>;
}

/** Runs `fn` repeatedly for at least `minMs` and returns operations per second. */
export function opsPerSecond(fn: () => number, minMs = 1000): number {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    ops += fn();
    elapsed = performance.now() - start;
  }
  return ops / (elapsed / 1000);
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** An empty database of its own for one benchmark, on the test server; drop() removes it. */
export async function throwawayDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const database = `loa_bench_${name}_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${database}`);
  return {
    url: ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
    drop: () => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}

/**
 * A migrated store in a throwaway database with one campaign version (`bench`) to hang runs on:
 * the setup the store benches share. `close()` ends the pool and drops the database.
 */
export async function benchStore(name: string): Promise<{ store: Store; versionId: number; close(): Promise<void> }> {
  const database = await throwawayDatabase(name);
  const store = createDb(database.url, { max: 4, applicationName: 'loa-bench' });
  await new MigrationRunner(store.pool).migrate();
  await store.db.insertInto('campaigns').values({ id: 'bench', name: 'bench' }).execute();
  const version = await store.db
    .insertInto('campaign_versions')
    .values({ campaign_id: 'bench', content_hash: 'bench', document: {}, created_by: 'bench' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return {
    store,
    versionId: version.id,
    close: async () => {
      await store.close();
      await database.drop();
    },
  };
}
