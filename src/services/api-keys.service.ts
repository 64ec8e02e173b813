import { formatAreas, parseAreas } from '../domain/area-scope.js';
import { generateApiKey, hashApiKey, type ApiRole } from '../domain/api-key.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { ApiKeyRepository } from '../store/api-key.repository.js';
import type { AuditRepository } from '../store/audit.repository.js';
import type { ApiKey } from '../store/database.js';

/** A key as anyone may see it: never the token, never its hash. */
export interface ApiKeyView {
  id: number;
  name: string;
  role: ApiRole;
  /** 'PROVINCE' or 'PROVINCE/COMMUNE' entries the key is limited to; null: the whole department. */
  areas: string[] | null;
  createdAt: string;
  revokedAt: string | null;
}

export function viewOfKey(key: ApiKey): ApiKeyView {
  return { id: key.id, name: key.name, role: key.role, areas: key.areas ?? null, createdAt: key.created_at.toISOString(), revokedAt: key.revoked_at?.toISOString() ?? null };
}

export interface NewApiKey {
  role: ApiRole;
  name: string;
  /** Scope the key to these areas (issue 12, item 5); absent: the whole department. */
  areas?: readonly string[];
}

/**
 * API keys: created (the token is returned once, only its hash is stored), listed and revoked,
 * each change in the audit log. `loa keys create` calls it straight on the store (bootstrap: the
 * first key exists before any key could authorise a request); POST /v1/keys calls it for admins.
 */
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** For the auth plugin. */
  findActiveByHash(keyHash: string): Promise<ApiKey | undefined> {
    return this.keys.findActiveByHash(keyHash);
  }

  /** ValidationError naming `areas` for a bad area list, or one given to an admin key (admins manage every key). */
  async create(request: NewApiKey, actor: string): Promise<ApiKeyView & { token: string }> {
    let areas: string[] | null = null;
    if (request.areas !== undefined) {
      if (request.role === 'admin') throw new ValidationError('an admin key cannot be scoped to areas', [{ path: 'areas', message: 'only operator and viewer keys take areas' }]);
      const parsed = parseAreas(request.areas);
      if (!parsed.ok) throw new ValidationError(`areas: ${parsed.message}`, [{ path: 'areas', message: parsed.message }]);
      areas = formatAreas(parsed.scope);
    }
    const token = generateApiKey();
    const key = await this.keys.create({ name: request.name, role: request.role, keyHash: hashApiKey(token), areas });
    await this.audit.record({ actor, action: 'api-key.create', subject: `api-key:${key.id}`, details: { name: key.name, role: key.role, areas } });
    return { ...viewOfKey(key), token };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.list()).map(viewOfKey);
  }

  /** NotFoundError when there is no such active key (unknown, or revoked already). */
  async revoke(id: number, actor: string): Promise<ApiKeyView> {
    if (!(await this.keys.revoke(id))) throw new NotFoundError(`active API key ${id}`);
    const key = await this.keys.get(id);
    if (!key) throw new NotFoundError(`API key ${id}`);
    await this.audit.record({ actor, action: 'api-key.revoke', subject: `api-key:${id}`, details: { name: key.name, role: key.role } });
    return viewOfKey(key);
  }
}
