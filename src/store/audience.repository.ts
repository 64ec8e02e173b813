import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { copyInto, copyLine } from './copy.js';
import type { Database, List } from './database.js';

export interface SubscriberRow {
  /** E.164 digits without '+', already normalised (src/domain msisdn). */
  msisdn: string;
  province?: string | null;
  commune?: string | null;
  attrs?: Record<string, string>;
}

const MSISDN = /^[1-9][0-9]{7,14}$/;
const CHUNK = 10_000;

function checkMsisdn(msisdn: string, where: string): void {
  if (!MSISDN.test(msisdn)) throw new TypeError(`${where}: msisdn ${JSON.stringify(msisdn)} is not E.164 digits`);
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
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

  /**
   * Streams subscribers into a list: COPY into a temporary table, then one upsert, all in one
   * transaction (an import is applied whole or not at all). A number already in the list is
   * updated; when the input repeats a number, its last row wins. Returns rows read.
   */
  async importSubscribers(listId: string, rows: AsyncIterable<SubscriberRow> | Iterable<SubscriberRow>): Promise<number> {
    async function* lines(): AsyncGenerator<string> {
      let line = 0;
      for await (const row of rows) {
        line += 1;
        checkMsisdn(row.msisdn, `subscriber ${line}`);
        yield copyLine([row.msisdn, row.province ?? null, row.commune ?? null, JSON.stringify(row.attrs ?? {})]);
      }
    }
    const client = await this.pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`CREATE TEMP TABLE subscribers_import (
        ord bigserial, msisdn text NOT NULL, province text, commune text, attrs jsonb NOT NULL
      ) ON COMMIT DROP`);
      const count = await copyInto(client, 'subscribers_import (msisdn, province, commune, attrs)', lines());
      await client.query(
        `INSERT INTO subscribers (list_id, msisdn, province, commune, attrs)
         SELECT DISTINCT ON (msisdn) $1, msisdn, province, commune, attrs FROM subscribers_import ORDER BY msisdn, ord DESC
         ON CONFLICT (list_id, msisdn) DO UPDATE SET province = excluded.province, commune = excluded.commune, attrs = excluded.attrs`,
        [listId],
      );
      await client.query('COMMIT');
      return count;
    } catch (error) {
      failure = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release(failure);
    }
  }

  async countSubscribers(listId: string): Promise<number> {
    const row = await this.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('list_id', '=', listId)
      .executeTakeFirstOrThrow();
    return row.count;
  }

  /** Adds (or updates the reason of) opted-out numbers. */
  async addOptOuts(optOuts: ReadonlyArray<{ msisdn: string; reason?: string | null }>): Promise<void> {
    optOuts.forEach((row, index) => checkMsisdn(row.msisdn, `opt-out ${index + 1}`));
    await this.db.transaction().execute(async (trx) => {
      for (const chunk of chunks(optOuts)) {
        await sql`
          INSERT INTO opt_outs (msisdn, reason)
          SELECT DISTINCT ON (msisdn) msisdn, reason
          FROM unnest(${chunk.map((row) => row.msisdn)}::text[], ${chunk.map((row) => row.reason ?? null)}::text[]) WITH ORDINALITY AS x(msisdn, reason, ord)
          ORDER BY msisdn, ord DESC
          ON CONFLICT (msisdn) DO UPDATE SET reason = excluded.reason`.execute(trx);
      }
    });
  }

  async removeOptOut(msisdn: string): Promise<boolean> {
    const result = await this.db.deleteFrom('opt_outs').where('msisdn', '=', msisdn).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async isOptedOut(msisdn: string): Promise<boolean> {
    const row = await this.db.selectFrom('opt_outs').select('msisdn').where('msisdn', '=', msisdn).executeTakeFirst();
    return row !== undefined;
  }

  /** Records which carrier ported numbers now belong to (overrides the prefix table). */
  async setPortability(entries: ReadonlyArray<{ msisdn: string; carrier: string }>): Promise<void> {
    entries.forEach((row, index) => checkMsisdn(row.msisdn, `portability ${index + 1}`));
    await this.db.transaction().execute(async (trx) => {
      for (const chunk of chunks(entries)) {
        await sql`
          INSERT INTO portability (msisdn, carrier)
          SELECT DISTINCT ON (msisdn) msisdn, carrier
          FROM unnest(${chunk.map((row) => row.msisdn)}::text[], ${chunk.map((row) => row.carrier)}::text[]) WITH ORDINALITY AS x(msisdn, carrier, ord)
          ORDER BY msisdn, ord DESC
          ON CONFLICT (msisdn) DO UPDATE SET carrier = excluded.carrier, updated_at = now()`.execute(trx);
      }
    });
  }

  async getPortedCarrier(msisdn: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('portability').select('carrier').where('msisdn', '=', msisdn).executeTakeFirst();
    return row?.carrier;
  }
}
