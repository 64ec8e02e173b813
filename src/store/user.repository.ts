import { sql, type ColumnType, type Generated, type Kysely, type Selectable } from 'kysely';
import type { ApiRole, Database } from './database.js';

/** Tables of migration 0014 (kept here so the console's tables do not widen every other repository's Database). */
export type UsersTables = {
  users: {
    id: Generated<number>;
    name: string;
    role: ApiRole;
    password_hash: string;
    created_at: ColumnType<Date, never, never>;
    disabled_at: ColumnType<Date | null, never, Date | null>;
  };
  user_sessions: {
    token_hash: string;
    user_id: number;
    created_at: ColumnType<Date, never, never>;
    expires_at: Date;
  };
};

export type User = Selectable<UsersTables['users']>;

/** Staff accounts and their sessions. The caller hashes passwords (argon2) and session tokens (sha256). */
export class UserRepository {
  private readonly db: Kysely<Database & UsersTables>;

  constructor(db: Kysely<Database>) {
    this.db = db.withTables<UsersTables>();
  }

  async create(user: { name: string; role: ApiRole; passwordHash: string }): Promise<User> {
    return this.db.insertInto('users').values({ name: user.name, role: user.role, password_hash: user.passwordHash }).returningAll().executeTakeFirstOrThrow();
  }

  async findByName(name: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async list(): Promise<User[]> {
    return this.db.selectFrom('users').selectAll().orderBy('id').execute();
  }

  async createSession(tokenHash: string, userId: number, expiresAt: Date): Promise<void> {
    await this.db.deleteFrom('user_sessions').where('expires_at', '<', sql<Date>`now()`).execute();
    await this.db.insertInto('user_sessions').values({ token_hash: tokenHash, user_id: userId, expires_at: expiresAt }).execute();
  }

  /** The signed-in user of a session that has not expired, unless the account is disabled. */
  async findSessionUser(tokenHash: string): Promise<User | undefined> {
    return this.db
      .selectFrom('user_sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .selectAll('u')
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', sql<Date>`now()`)
      .where('u.disabled_at', 'is', null)
      .executeTakeFirst();
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('user_sessions').where('token_hash', '=', tokenHash).execute();
  }
}
