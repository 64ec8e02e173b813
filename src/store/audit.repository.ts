import { sql, type Kysely } from 'kysely';
import type { AuditEntry, Database, JsonObject } from './database.js';

/** GET /v1/audit's filters; every one optional. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  /** The campaign's own entries and those of its runs. */
  campaignId?: string;
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Entries with a smaller id: the `next` of the previous page. */
  before?: number;
  limit: number;
}

export interface NewAuditEntry {
  /** Who: an API key name, `cli:<user>`, `scheduler`. */
  actor: string;
  /** What, as a verb phrase: `campaign.launch`, `run.cancel`, `api-key.create`. */
  action: string;
  /** On what: `campaign:<id>`, `run:<id>`, `screen:<id>`. */
  subject: string;
  details?: JsonObject;
}

/** The append-only audit log (DESIGN.md: every launch, with who and what). */
export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.db
      .insertInto('audit_log')
      .values({ actor: entry.actor, action: entry.action, subject: entry.subject, details: JSON.stringify(entry.details ?? {}) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async get(id: number): Promise<AuditEntry | undefined> {
    return this.db.selectFrom('audit_log').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Newest first. */
  async listForSubject(subject: string, limit = 100): Promise<AuditEntry[]> {
    return this.db.selectFrom('audit_log').selectAll().where('subject', '=', subject).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** Newest first (by id, which follows `at`), one page of `limit`. */
  async search(filter: AuditFilter): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('at', '<', filter.to);
    if (filter.before !== undefined) query = query.where('id', '<', filter.before);
    const campaignId = filter.campaignId;
    if (campaignId !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('subject', '=', `campaign:${campaignId}`),
          eb('subject', 'in', sql<string>`(SELECT 'run:' || r.id FROM runs r JOIN campaign_versions v ON v.id = r.campaign_version_id WHERE v.campaign_id = ${campaignId})`),
        ]),
      );
    }
    return query.execute();
  }
}
