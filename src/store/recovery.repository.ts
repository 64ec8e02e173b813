import { sql, type Kysely } from 'kysely';
import type { CarrierId } from '../domain/carrier.js';
import type { Database } from './database.js';

/**
 * What the reconciler (src/jobs/reconciler.ts) asks of PostgreSQL: the `submitting` rows whose
 * owner is gone. Ownership is the claim (messages.claim = a worker_leases id, 0005_engine.sql):
 * a row is orphaned when no live lease has its claim — the worker died (kill -9, OOM, a lost
 * machine) or stopped without deciding it. A live worker's rows are never matched, because the
 * lease check is in the same statement as the update.
 */
export class RecoveryRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The run's orphaned `submitting` rows → `ambiguous` (the PDU may have left: not resent, the
   * campaign's default) or back to `queued` (the campaign opted into `resendAmbiguous`; the part
   * count is reset as for any requeued message). `except`: the caller's own lease, never orphaned
   * while the caller runs. Returns how many moved.
   */
  async releaseOrphaned(runId: number, to: 'ambiguous' | 'queued', except?: number): Promise<number> {
    const set = to === 'ambiguous' ? sql`state = 'ambiguous', done_at = now()` : sql`state = 'queued', parts_submitted = 0, claim = NULL`;
    const { rows } = await sql<{ n: number }>`
      WITH moved AS (
        UPDATE messages m SET ${set}
        WHERE m.run_id = ${runId} AND m.state = 'submitting' AND m.claim IS DISTINCT FROM ${except ?? null}::int
          AND NOT EXISTS (SELECT 1 FROM worker_leases l WHERE l.id = m.claim AND l.expires_at > now())
        RETURNING 1
      )
      SELECT count(*)::int AS n FROM moved`.execute(this.db);
    return rows[0]?.n ?? 0;
  }

  /**
   * The run's `ambiguous` messages whose receipt came anyway (resolve_ambiguous, 0017): a parked
   * receipt of the same carrier whose handset is the message's number, when nothing else to that
   * number could own it and the receipts' SMSC ids number exactly the parts without a segment,
   * becomes the message's segment and is applied. Nothing is resent. `receiptWindowMs`: the
   * receipt path's window (ReceiptRepository.receiptWindowMs).
   */
  async resolveAmbiguous(runId: number, receiptWindowMs: number): Promise<{ messages: number; receipts: number }> {
    const { rows } = await sql<{ messages: number; receipts: number }>`
      SELECT messages, receipts FROM resolve_ambiguous(${runId}::bigint, ${`${Math.round(receiptWindowMs)} milliseconds`}::interval)`.execute(this.db);
    return rows[0] ?? { messages: 0, receipts: 0 };
  }

  /**
   * Runs with `ambiguous` messages (summed from run_counts) that are active or ended within the
   * last `withinMs`, with how many: those a receipt may still resolve.
   */
  async runsWithAmbiguous(withinMs: number): Promise<Array<{ id: number; ambiguous: number }>> {
    const { rows } = await sql<{ id: string; ambiguous: string }>`
      SELECT r.id, a.n AS ambiguous FROM runs r
      CROSS JOIN LATERAL (SELECT sum(c.delta) AS n FROM run_counts c WHERE c.run_id = r.id AND c.state = 'ambiguous') a
      WHERE (r.finished_at IS NULL OR r.finished_at > now() - make_interval(secs => ${withinMs / 1000}))
        AND r.state IN ('running', 'paused', 'completed', 'cancelled', 'failed') AND a.n > 0
      ORDER BY r.id`.execute(this.db);
    return rows.map((row) => ({ id: Number(row.id), ambiguous: Number(row.ambiguous) }));
  }

  /**
   * Runs cancelled or failed within the last `withinMs`: a worker that died while such a run's
   * last window was in flight left rows `submitting` that only the reconciler can decide.
   */
  async recentlyEnded(withinMs: number): Promise<Array<{ id: number }>> {
    return this.db
      .selectFrom('runs')
      .select('id')
      .where('state', 'in', ['cancelled', 'failed'])
      .where('finished_at', '>', sql<Date>`now() - make_interval(secs => ${withinMs / 1000})`)
      .orderBy('id')
      .execute();
  }

  /**
   * `submitting` rows of one carrier of the run under `claim` (the caller's own lease) → `queued`.
   * Only for a process that holds none of them (ClaimGate.exclusive): they come from a claim whose
   * reply was lost, so they were never sent. Returns how many moved.
   */
  async requeueUnheld(runId: number, carrier: CarrierId, claim: number): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ state: 'queued', parts_submitted: 0, claim: null })
      .where('run_id', '=', runId)
      .where('carrier', '=', carrier)
      .where('state', '=', 'submitting')
      .where('claim', '=', claim)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
