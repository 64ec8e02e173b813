import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';

/**
 * Worker leases: each worker process holds one row and renews it; the rows it claims carry the
 * lease id (messages.claim). A reconciler treats `submitting` rows whose lease has expired as a
 * dead worker's (ambiguous) and leaves a live worker's alone.
 */
export class WorkerLeaseRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async acquire(worker: string, ttlMs: number): Promise<number> {
    const row = await this.db
      .insertInto('worker_leases')
      .values({ worker, expires_at: sql`now() + make_interval(secs => ${ttlMs / 1000})` })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Extends the lease; false when it had already expired (a reconciler may have taken its rows). */
  async renew(id: number, ttlMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('worker_leases')
      .set({ expires_at: sql`now() + make_interval(secs => ${ttlMs / 1000})` })
      .where('id', '=', id)
      .where('expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Extends the lease even if it had expired (renewals failed while PostgreSQL was away): the
   * worker is alive and its rows are still its own. A reconciler that ran meanwhile may already
   * have decided some of them; that is the price of an outage longer than the lease.
   */
  async revive(id: number, ttlMs: number): Promise<void> {
    await this.db
      .updateTable('worker_leases')
      .set({ expires_at: sql`now() + make_interval(secs => ${ttlMs / 1000})` })
      .where('id', '=', id)
      .execute();
  }

  /** Ends the lease at a graceful stop (after the worker returned its unsent rows to queued). */
  async release(id: number): Promise<void> {
    await this.db.updateTable('worker_leases').set({ expires_at: sql`now()` }).where('id', '=', id).execute();
  }

  async isLive(id: number): Promise<boolean> {
    const row = await this.db.selectFrom('worker_leases').select('id').where('id', '=', id).where('expires_at', '>', sql<Date>`now()`).executeTakeFirst();
    return row !== undefined;
  }
}
