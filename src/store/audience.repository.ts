import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLine } from './copy.js';
import type { NewAuditEntry } from './audit.repository.js';
import type { Database, List } from './database.js';

export interface SubscriberRow {
  /** E.164 digits without '+', already normalised (src/domain msisdn). */
  msisdn: string;
  province?: string | null;
  commune?: string | null;
  attrs?: Record<string, string>;
}

const MSISDN = /^[1-9][0-9]{7,14}$/;
const COPY_CHUNK_CHARS = 64 * 1024;

/** A row source for the staged imports: the caller pushes rows through `emit` (await it when it returns a promise: back-pressure). */
export type RowFeed<T> = (emit: (row: T) => void | Promise<void>) => Promise<void>;

/** Rows already in memory (or any iterable) as a feed, numbered from line 1 in order. */
export function feedOf<T extends object>(rows: Iterable<T> | AsyncIterable<T>): RowFeed<T & { line: number }> {
  return async (emit) => {
    let line = 0;
    for await (const row of rows) await emit({ ...row, line: ++line });
  };
}

/** One staged row: its line in the input file orders repeats (the last one wins). */
export interface StagedSubscriber extends SubscriberRow {
  line: number;
}

/** The audit entry of a change, built from its outcome and written in the change's own transaction. */
export type AuditOf<T> = (outcome: T) => NewAuditEntry;

async function writeAudit(client: pg.ClientBase, entry: NewAuditEntry): Promise<void> {
  await client.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [entry.actor, entry.action, entry.subject, JSON.stringify(entry.details ?? {})]);
}

export interface ListSummary {
  id: string;
  name: string;
  createdAt: Date;
  subscribers: number;
}

/** What a merge changed. `unchanged` rows were already there as given: a re-import writes nothing. */
export interface MergeCounts {
  /** Rows staged (every good row of the file, repeats included). */
  staged: number;
  /** Distinct numbers among them. */
  distinct: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** With `replace`: rows no longer in the file, deleted. */
  removed: number;
}

/**
 * COPY rows pushed by `feed` into `target` on `client`, 64 KiB at a time with back-pressure.
 * Returns the rows PostgreSQL stored. If the feed throws, the COPY is aborted (CopyFail) and the
 * error rethrown; release the client with the error.
 */
async function copyFeed<T>(client: pg.ClientBase, target: string, toLine: (row: T) => string, feed: RowFeed<T>): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${target} FROM STDIN`));
  let failure: Error | undefined;
  // Without a listener an error between two writes would be an uncaught exception.
  stream.on('error', (error: Error) => (failure ??= error));
  let chunk = '';
  const flush = async (): Promise<void> => {
    const ok = stream.write(chunk);
    chunk = '';
    if (!ok && !failure) await once(stream, 'drain');
  };
  try {
    await feed((row) => {
      if (failure) throw failure;
      chunk += toLine(row);
      if (chunk.length >= COPY_CHUNK_CHARS) return flush();
    });
  } catch (error) {
    stream.destroy(error as Error);
    await finished(stream).catch(() => undefined);
    throw error;
  }
  stream.end(chunk);
  await finished(stream);
  if (failure) throw failure;
  return stream.rowCount;
}

function checkMsisdn(msisdn: string, where: string): void {
  if (!MSISDN.test(msisdn)) throw new TypeError(`${where}: msisdn ${JSON.stringify(msisdn)} is not E.164 digits`);
}

/** Subscriber lists, opt-outs and number portability: what compile resolves an audience from. */
export class AudienceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {}

  async createList(list: { id: string; name: string }): Promise<List> {
    return this.db
      .insertInto('lists')
      .values({ id: list.id, name: list.name })
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: list.name }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async getList(id: string): Promise<List | undefined> {
    return this.db.selectFrom('lists').selectAll().where('id', '=', id).executeTakeFirst();
  }



  /** Every list with how many subscribers it holds (the count each import keeps, 0018: exact, never a scan). */
  async listLists(): Promise<ListSummary[]> {
    const rows = await this.db.selectFrom('lists').select(['id', 'name', 'created_at', 'subscriber_count']).orderBy('id').execute();
    return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at, subscribers: row.subscriber_count }));
  }

  /** Deletes a list and its subscribers; returns how many subscribers it had, or undefined when there was no such list. */
  async deleteList(id: string, audit?: AuditOf<{ subscribers: number }>): Promise<number | undefined> {
    return this.inTransaction(async (client) => {
      const list = await client.query('SELECT 1 FROM lists WHERE id = $1 FOR UPDATE', [id]);
      if (list.rowCount === 0) return undefined;
      const deleted = await client.query('DELETE FROM subscribers WHERE list_id = $1', [id]);
      await client.query('DELETE FROM lists WHERE id = $1', [id]);
      const subscribers = deleted.rowCount ?? 0;
      if (audit) await writeAudit(client, audit({ subscribers }));
      return subscribers;
    });
  }

  /**
   * The import path of `loa audience import`: rows are COPYed into a staging table and merged
   * into the list in one transaction, so an import is applied whole or not at all. The list is
   * created when missing (`name` defaults to its id; given, it renames the list). A number
   * repeated in the file counts once, its last row winning. Rows already in the list as given are
   * not rewritten (a re-import writes nothing, which matters with autovacuum off); `replace`
   * deletes the list's numbers that are not in the file. Imports of one list are serialised by
   * the lock on its `lists` row.
   */
  async mergeSubscribers(
    listId: string,
    feed: RowFeed<StagedSubscriber>,
    options: { name?: string | undefined; replace?: boolean; audit?: AuditOf<MergeCounts & { subscribers: number }> } = {},
  ): Promise<MergeCounts & { subscribers: number }> {
    const result = await this.inTransaction(async (client) => {
      await client.query(
        `INSERT INTO lists (id, name) VALUES ($1, coalesce($2, $1::text))
         ON CONFLICT (id) DO UPDATE SET name = coalesce($2, lists.name)`,
        [listId, options.name ?? null],
      );
      await client.query(`CREATE TEMP TABLE subscribers_staging (
        line int8 NOT NULL, msisdn text NOT NULL, province text, commune text, attrs jsonb NOT NULL
      ) ON COMMIT DROP`);
      const staged = await copyFeed(
        client,
        'subscribers_staging (line, msisdn, province, commune, attrs)',
        (row: StagedSubscriber) => {
          checkMsisdn(row.msisdn, `line ${row.line}`);
          return copyLine([row.line, row.msisdn, row.province ?? null, row.commune ?? null, row.attrs ? JSON.stringify(row.attrs) : '{}']);
        },
        feed,
      );
      // The file's numbers, each once (its last row wins). A table rather than a CTE: the update,
      // the insert and the replace each read it, and ANALYZE gives them a plan (autovacuum never
      // sees a temporary table).
      const distinct = await client.query(
        `CREATE TEMP TABLE subscribers_source ON COMMIT DROP AS
         SELECT DISTINCT ON (msisdn) msisdn, province, commune, attrs FROM subscribers_staging ORDER BY msisdn, line DESC`,
      );
      await client.query('ANALYZE subscribers_source');
      // Two plain statements rather than INSERT … ON CONFLICT: its speculative insertion costs more
      // than the whole hash join, and imports of one list cannot race (the list row is locked).
      const updated = await client.query(
        `UPDATE subscribers s SET province = src.province, commune = src.commune, attrs = src.attrs
         FROM subscribers_source src
         WHERE s.list_id = $1 AND s.msisdn = src.msisdn
           AND (s.province, s.commune, s.attrs) IS DISTINCT FROM (src.province, src.commune, src.attrs)`,
        [listId],
      );
      const inserted = await client.query(
        `INSERT INTO subscribers (list_id, msisdn, province, commune, attrs)
         SELECT $1, src.msisdn, src.province, src.commune, src.attrs FROM subscribers_source src
         WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.list_id = $1 AND s.msisdn = src.msisdn)`,
        [listId],
      );
      let removed = 0;
      if (options.replace) {
        const deleted = await client.query(
          `DELETE FROM subscribers s WHERE s.list_id = $1 AND NOT EXISTS (SELECT 1 FROM subscribers_source src WHERE src.msisdn = s.msisdn)`,
          [listId],
        );
        removed = deleted.rowCount ?? 0;
      }
      const counts = { distinct: distinct.rowCount ?? 0, inserted: inserted.rowCount ?? 0, updated: updated.rowCount ?? 0 };
      // This transaction holds the list's row lock (the upsert above), so no other import moves the count meanwhile.
      const count = await client.query<{ n: number }>('UPDATE lists SET subscriber_count = subscriber_count + $2 - $3 WHERE id = $1 RETURNING subscriber_count AS n', [
        listId,
        counts.inserted,
        removed,
      ]);
      const outcome = {
        staged,
        ...counts,
        unchanged: counts.distinct - counts.inserted - counts.updated,
        removed,
        subscribers: Number(count.rows[0]?.n ?? 0),
      };
      if (options.audit) await writeAudit(client, options.audit(outcome));
      return outcome;
    });
    // Compile plans its audience query on these statistics; autovacuum is off here and lags elsewhere.
    if (result.inserted + result.removed > 0) await this.pool.query('ANALYZE subscribers');
    return result;
  }

  /**
   * `loa optout import`: the opt-out register, staged and merged like subscribers. There is no
   * replace: an opt-out is a person's request, withdrawn one number at a time (removeOptOut).
   */
  async mergeOptOuts(
    feed: RowFeed<{ line: number; msisdn: string; reason?: string | null }>,
    options: { audit?: AuditOf<MergeCounts & { optOuts: number }> } = {},
  ): Promise<MergeCounts & { optOuts: number }> {
    const result = await this.inTransaction(async (client) => {
      // One import at a time: two merges of overlapping files would otherwise deadlock on the rows.
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('loa:opt_outs', 0))`);
      await client.query(`CREATE TEMP TABLE opt_outs_staging (line int8 NOT NULL, msisdn text NOT NULL, reason text) ON COMMIT DROP`);
      const staged = await copyFeed(
        client,
        'opt_outs_staging (line, msisdn, reason)',
        (row: { line: number; msisdn: string; reason?: string | null }) => {
          checkMsisdn(row.msisdn, `line ${row.line}`);
          return copyLine([row.line, row.msisdn, row.reason ?? null]);
        },
        feed,
      );
      await client.query('ANALYZE opt_outs_staging');
      const merged = await client.query<{ distinct: number; inserted: number; updated: number }>(
        `WITH source AS MATERIALIZED (
           SELECT DISTINCT ON (msisdn) msisdn, reason FROM opt_outs_staging ORDER BY msisdn, line DESC
         ), written AS (
           INSERT INTO opt_outs (msisdn, reason) SELECT msisdn, reason FROM source
           ON CONFLICT (msisdn) DO UPDATE SET reason = excluded.reason
           WHERE excluded.reason IS NOT NULL AND opt_outs.reason IS DISTINCT FROM excluded.reason
           RETURNING (xmax = 0) AS inserted
         )
         SELECT (SELECT count(*) FROM source) AS distinct, count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`,
      );
      const count = await client.query<{ n: number }>('SELECT count(*) AS n FROM opt_outs');
      const row = merged.rows[0] ?? { distinct: 0, inserted: 0, updated: 0 };
      const distinct = Number(row.distinct);
      const outcome = { staged, distinct, inserted: Number(row.inserted), updated: Number(row.updated), unchanged: distinct - Number(row.inserted) - Number(row.updated), removed: 0, optOuts: Number(count.rows[0]?.n ?? 0) };
      if (options.audit) await writeAudit(client, options.audit(outcome));
      return outcome;
    });
    if (result.inserted > 0) await this.pool.query('ANALYZE opt_outs');
    return result;
  }

  /**
   * `loa portability import`: number → carrier (a CarrierId, or the name of another network),
   * staged and merged. `replace` makes the table exactly the file (the carriers publish whole tables).
   */
  async mergePortability(
    feed: RowFeed<{ line: number; msisdn: string; carrier: string }>,
    options: { replace?: boolean; audit?: AuditOf<MergeCounts & { entries: number }> } = {},
  ): Promise<MergeCounts & { entries: number }> {
    const result = await this.inTransaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('loa:portability', 0))`);
      await client.query(`CREATE TEMP TABLE portability_staging (line int8 NOT NULL, msisdn text NOT NULL, carrier text NOT NULL) ON COMMIT DROP`);
      const staged = await copyFeed(
        client,
        'portability_staging (line, msisdn, carrier)',
        (row: { line: number; msisdn: string; carrier: string }) => {
          checkMsisdn(row.msisdn, `line ${row.line}`);
          return copyLine([row.line, row.msisdn, row.carrier]);
        },
        feed,
      );
      await client.query('ANALYZE portability_staging');
      const merged = await client.query<{ distinct: number; inserted: number; updated: number }>(
        `WITH source AS MATERIALIZED (
           SELECT DISTINCT ON (msisdn) msisdn, carrier FROM portability_staging ORDER BY msisdn, line DESC
         ), written AS (
           INSERT INTO portability (msisdn, carrier) SELECT msisdn, carrier FROM source
           ON CONFLICT (msisdn) DO UPDATE SET carrier = excluded.carrier, updated_at = now()
           WHERE portability.carrier IS DISTINCT FROM excluded.carrier
           RETURNING (xmax = 0) AS inserted
         )
         SELECT (SELECT count(*) FROM source) AS distinct, count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`,
      );
      let removed = 0;
      if (options.replace) {
        const deleted = await client.query(`DELETE FROM portability p WHERE NOT EXISTS (SELECT 1 FROM portability_staging st WHERE st.msisdn = p.msisdn)`);
        removed = deleted.rowCount ?? 0;
      }
      const count = await client.query<{ n: number }>('SELECT count(*) AS n FROM portability');
      const row = merged.rows[0] ?? { distinct: 0, inserted: 0, updated: 0 };
      const distinct = Number(row.distinct);
      const outcome = { staged, distinct, inserted: Number(row.inserted), updated: Number(row.updated), unchanged: distinct - Number(row.inserted) - Number(row.updated), removed, entries: Number(count.rows[0]?.n ?? 0) };
      if (options.audit) await writeAudit(client, options.audit(outcome));
      return outcome;
    });
    if (result.inserted + result.removed > 0) await this.pool.query('ANALYZE portability');
    return result;
  }

  async countOptOuts(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM opt_outs');
    return Number(rows[0]?.n ?? 0);
  }

  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failure = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // A connection whose COPY was aborted is discarded rather than reused.
      client.release(failure);
    }
  }

  /** Subscribers in the list (the count its imports keep); 0 for a list that does not exist. */
  async countSubscribers(listId: string): Promise<number> {
    const row = await this.db.selectFrom('lists').select('subscriber_count').where('id', '=', listId).executeTakeFirst();
    return row?.subscriber_count ?? 0;
  }



  /** Withdraws one opt-out; with `audit`, its entry is written in the same transaction. */
  async removeOptOut(msisdn: string, audit?: AuditOf<{ msisdn: string }>): Promise<boolean> {
    if (!audit) {
      const result = await this.db.deleteFrom('opt_outs').where('msisdn', '=', msisdn).executeTakeFirst();
      return result.numDeletedRows > 0n;
    }
    return this.inTransaction(async (client) => {
      const deleted = await client.query('DELETE FROM opt_outs WHERE msisdn = $1', [msisdn]);
      if (!deleted.rowCount) return false;
      await writeAudit(client, audit({ msisdn }));
      return true;
    });
  }

  async isOptedOut(msisdn: string): Promise<boolean> {
    const row = await this.db.selectFrom('opt_outs').select('msisdn').where('msisdn', '=', msisdn).executeTakeFirst();
    return row !== undefined;
  }



  async getPortedCarrier(msisdn: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('portability').select('carrier').where('msisdn', '=', msisdn).executeTakeFirst();
    return row?.carrier;
  }
}
