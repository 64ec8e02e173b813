import { sql, type Kysely, type RawBuilder } from 'kysely';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Database, JsonObject } from './database.js';

/** Who a run sends to, as compile resolves it in SQL. */
export interface AudienceQuery {
  lists: readonly string[];
  /** Empty: no filter. */
  provinces: readonly string[];
  communes: readonly string[];
  /** Lists whose numbers are subtracted. */
  exclude: readonly string[];
  /** Subtract the opt-out register (false only for an urgent campaign with ignoreOptOuts). */
  optOuts: boolean;
}

/** How compile routes and sizes a message, precomputed in the domain (src/domain/routing.ts, encoding.ts). */
export interface CompileRouting {
  /** The two national digits after 84 (`96` for 8496…) → carrier; absent: another network. */
  prefixes: ReadonlyMap<string, CarrierId>;
  /** Portability table carrier names → carrier (null: a network Loa does not send through). */
  portedNames: ReadonlyMap<string, CarrierId | null>;
  /** The campaign's operators: a number routed elsewhere is stored `unroutable`. */
  operators: readonly CarrierId[];
  /** Parts of the rendered message per carrier. */
  partsTotal: Readonly<Record<CarrierId, number>>;
}

/**
 * Where compile got to (runs.progress.compile): the last msisdn written and, per carrier, how many
 * ids of its block are used. Committed with each chunk, so a retried job resumes from it.
 */
export interface CompileCursor extends JsonObject {
  after: string | null;
  used: { viettel: number; vnpt: number; mobifone: number; unroutable: number };
  chunks: number;
  done: boolean;
}

export interface ChunkResult {
  cursor: CompileCursor;
  rows: number;
  /** Ids written per carrier in this chunk: a dense range each. */
  ranges: Partial<Record<CarrierId, { fromId: number; toId: number }>>;
}

/**
 * Ids are per run and contiguous per carrier, so a submit batch is a dense id range: each carrier
 * has its own block of ids (viettel from 1, vnpt from 500,000,001, …), numbered in msisdn order,
 * and other networks' rows take the last block. 500 M per carrier is far above any audience.
 */
export const ID_BLOCK = 500_000_000;
const BLOCK_INDEX: Record<CarrierId | 'unroutable', number> = { viettel: 0, vnpt: 1, mobifone: 2, unroutable: 3 };

export function idBase(carrier: CarrierId | null): number {
  return BLOCK_INDEX[carrier ?? 'unroutable'] * ID_BLOCK;
}

export function emptyCursor(): CompileCursor {
  return { after: null, used: { viettel: 0, vnpt: 0, mobifone: 0, unroutable: 0 }, chunks: 0, done: false };
}

/**
 * Compile's SQL: the audience (lists ∩ areas − opt-outs − exclude lists, deduplicated by msisdn)
 * read in msisdn order by keyset, routed, numbered and inserted into the run's partition one
 * chunk per transaction, with the cursor committed in the same transaction. Node never holds
 * more than a chunk's summary; the rows go from subscribers to messages inside PostgreSQL.
 */
export class CompileRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The portability table's carrier names (few), to resolve in the domain before compiling. */
  async portedCarrierNames(): Promise<string[]> {
    // A loose index scan would be faster on a huge table; the table is read once per compile.
    const { rows } = await sql<{ carrier: string }>`SELECT DISTINCT carrier FROM portability`.execute(this.db);
    return rows.map((row) => row.carrier);
  }

  /**
   * Writes the next chunk of at most `limit` recipients after `cursor` and saves the new cursor in
   * runs.progress.compile, in one transaction. Fails (and writes nothing) when the stored cursor
   * is not `cursor`: another worker compiled this chunk meanwhile.
   */
  async writeChunk(runId: number, audience: AudienceQuery, routing: CompileRouting, cursor: CompileCursor, limit: number): Promise<ChunkResult> {
    return this.db.transaction().execute(async (trx) => {
      // The audience tables may never have been analysed (autovacuum off, or behind a fresh
      // import): the planner then takes a list for tiny, hashes all of it and sorts on disk for
      // every chunk. Index range scans in msisdn order are right whatever the statistics say,
      // and a chunk's sorts fit in memory.
      await sql`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), set_config('work_mem', '64MB', true)`.execute(trx);
      const { rows } = await sql<{ carrier: CarrierId | null; n: number; from_id: number; to_id: number; last: string }>`
        WITH aud AS (${audienceChunk(audience, cursor.after, limit)}),
        routed AS (
          SELECT a.msisdn, a.province, a.commune,
                 CASE WHEN p.msisdn IS NOT NULL THEN pn.carrier ELSE rt.carrier END AS routed
          FROM aud a
          LEFT JOIN portability p ON p.msisdn = a.msisdn
          LEFT JOIN unnest(${[...routing.portedNames.keys()]}::text[], ${[...routing.portedNames.values()]}::carrier_id[]) AS pn(name, carrier)
            ON pn.name = p.carrier
          LEFT JOIN unnest(${[...routing.prefixes.keys()]}::text[], ${[...routing.prefixes.values()]}::carrier_id[]) AS rt(prefix, carrier)
            ON a.msisdn LIKE '84%' AND rt.prefix = substr(a.msisdn, 3, 2)
        ),
        -- Ids follow area within the chunk: a claim, a submit result and a receipt batch then touch
        -- one or two communes, so the status trigger appends a row or two per statement instead of
        -- one per commune (run_counts is per commune; 80 communes cost 40 × the rows, and reads sum them).
        numbered AS (
          SELECT msisdn, province, commune, c,
                 row_number() OVER (PARTITION BY c ORDER BY province COLLATE "C", commune COLLATE "C", msisdn) AS n
          FROM (SELECT *, CASE WHEN routed = ANY(${[...routing.operators]}::carrier_id[]) THEN routed END AS c FROM routed) r
        ),
        ins AS (
          INSERT INTO messages (run_id, id, carrier, state, parts_total, done_at, msisdn, province, commune)
          SELECT ${runId}::bigint,
                 (CASE c ${sql.join(
                   CARRIER_IDS.map((id) => sql`WHEN ${id}::carrier_id THEN ${idBase(id) + cursor.used[id]}::int`),
                   sql` `,
                 )} ELSE ${idBase(null) + cursor.used.unroutable}::int END) + n::int,
                 c,
                 CASE WHEN c IS NULL THEN 'unroutable'::message_state ELSE 'queued'::message_state END,
                 CASE c ${sql.join(
                   CARRIER_IDS.map((id) => sql`WHEN ${id}::carrier_id THEN ${routing.partsTotal[id]}::int2`),
                   sql` `,
                 )} ELSE 1::int2 END,
                 CASE WHEN c IS NULL THEN now() END,
                 msisdn, province, commune
          FROM numbered
          RETURNING carrier, id, msisdn
        )
        SELECT carrier, count(*)::int AS n, min(id) AS from_id, max(id) AS to_id, max(max(msisdn)) OVER () AS last FROM ins GROUP BY carrier`.execute(trx);

      const next: CompileCursor = { ...cursor, used: { ...cursor.used }, chunks: cursor.chunks + 1 };
      const ranges: ChunkResult['ranges'] = {};
      let count = 0;
      for (const row of rows) {
        count += row.n;
        next.used[row.carrier ?? 'unroutable'] += row.n;
        if (row.carrier) ranges[row.carrier] = { fromId: row.from_id, toId: row.to_id };
        next.after = row.last;
      }
      next.done = count < limit;
      const saved = await sql`
        UPDATE runs SET progress = jsonb_set(progress, '{compile}', ${JSON.stringify(next)}::jsonb), updated_at = now()
        WHERE id = ${runId} AND (progress -> 'compile') IS NOT DISTINCT FROM ${cursor.chunks === 0 ? null : JSON.stringify(cursor)}::jsonb`.execute(trx);
      if (Number(saved.numAffectedRows ?? 0) !== 1) throw new CompileConflictError(runId);
      return { cursor: next, rows: count, ranges };
    });
  }

  /** Fresh planner statistics for the partition compile filled (autovacuum may be off or late). */
  async analyze(partition: string): Promise<void> {
    await sql`ANALYZE ${sql.id(partition)}`.execute(this.db);
  }
}

export class CompileConflictError extends Error {
  override name = 'CompileConflictError';
  constructor(readonly runId: number) {
    super(`run ${runId}: the compile cursor moved (another worker compiled this chunk)`);
  }
}

/**
 * The next `limit` distinct recipients after `after`, in msisdn order. One index range scan per
 * list (primary key (list_id, msisdn)), each with its LIMIT, merged: the cost of a chunk follows
 * the chunk size, not the audience size, and needs no statistics to be planned that way.
 */
function audienceChunk(audience: AudienceQuery, after: string | null, limit: number): RawBuilder<unknown> {
  const filters = [
    after === null ? sql`true` : sql`s.msisdn > ${after}`,
    audience.provinces.length > 0 ? sql`s.province = ANY(${[...audience.provinces]}::text[])` : sql`true`,
    audience.communes.length > 0 ? sql`s.commune = ANY(${[...audience.communes]}::text[])` : sql`true`,
    audience.optOuts ? sql`NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.msisdn = s.msisdn)` : sql`true`,
    audience.exclude.length > 0
      ? sql`NOT EXISTS (SELECT 1 FROM subscribers x WHERE x.list_id = ANY(${[...audience.exclude]}::text[]) AND x.msisdn = s.msisdn)`
      : sql`true`,
  ];
  const perList = audience.lists.map(
    (list) => sql`(SELECT s.msisdn, s.province, s.commune, s.list_id FROM subscribers s
      WHERE s.list_id = ${list} AND ${sql.join(filters, sql` AND `)}
      ORDER BY s.msisdn LIMIT ${limit})`,
  );
  return sql`SELECT DISTINCT ON (msisdn) msisdn, province, commune
    FROM (${sql.join(perList, sql` UNION ALL `)}) u
    ORDER BY msisdn, list_id LIMIT ${limit}`;
}
