import { sql, type Kysely } from 'kysely';
import type { CarrierId } from '../domain/carrier.js';
import type { Database } from './database.js';

/**
 * carrier_outages (0016): at most one open row per carrier (a partial unique index), so several
 * workers that see the same change write it once.
 */
export class CarrierOutageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Opens the carrier's outage from `since` unless one is open already. True when this call opened it. */
  async open(carrier: CarrierId, since: Date, worker: string): Promise<boolean> {
    const result = await sql`
      INSERT INTO carrier_outages (carrier, started_at, opened_by) VALUES (${carrier}, ${since}, ${worker})
      ON CONFLICT (carrier) WHERE ended_at IS NULL DO NOTHING`.execute(this.db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /** Closes the carrier's open outage at `at` (never before it began). True when one was open. */
  async close(carrier: CarrierId, at: Date, worker: string): Promise<boolean> {
    const result = await sql`
      UPDATE carrier_outages SET ended_at = greatest(started_at, ${at}::timestamptz), closed_by = ${worker}
      WHERE carrier = ${carrier} AND ended_at IS NULL`.execute(this.db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }
}
