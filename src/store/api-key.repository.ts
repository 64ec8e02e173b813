import { sql, type Kysely } from 'kysely';
import type { ApiKey, ApiRole, Database } from './database.js';

/** API keys, stored as hashes only (the caller hashes; the key is shown once and never stored). */
export class ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** `areas` null: the whole department; else 'PROVINCE' / 'PROVINCE/COMMUNE' entries. */
  async create(key: { name: string; keyHash: string; role: ApiRole; areas?: string[] | null }): Promise<ApiKey> {
    return this.db
      .insertInto('api_keys')
      .values({ name: key.name, key_hash: key.keyHash, role: key.role, areas: key.areas ?? null })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async get(id: number): Promise<ApiKey | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The key a request presents, unless revoked. */
  async findActiveByHash(keyHash: string): Promise<ApiKey | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
  }

  async list(): Promise<ApiKey[]> {
    return this.db.selectFrom('api_keys').selectAll().orderBy('id').execute();
  }

  /** Returns false when the key does not exist or was already revoked. */
  async revoke(id: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: sql`now()` })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
