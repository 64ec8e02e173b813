import type { Kysely } from 'kysely';
import type { AuditEntry, Database, JsonObject } from './database.js';

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
}
