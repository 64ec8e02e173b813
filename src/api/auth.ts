import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parseAreas, type AreaScope } from '../domain/area-scope.js';
import { hashApiKey, roleAllows, type ApiRole } from '../domain/api-key.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { AreaScopeService } from '../services/area-scope.service.js';
import { sessionPrincipal, type UserService } from './session-auth.js';

/**
 * Who made a request: an API key today. Anything else that signs people in (a console session)
 * makes the same shape: an id and name for the audit log, a role, and the areas it is limited to.
 */
export interface Principal {
  keyId: number;
  name: string;
  role: ApiRole;
  /** null: the whole department; else the areas (issue 12, item 5) the principal sees and launches for. */
  scope: AreaScope | null;
  /** A signed-in person (console session, src/api/session-auth.ts): `user:<id>:<name>`. */
  actor?: string;
}

/** What the audit log records as the actor: `key:<id>:<name>`, or the person of a session. */
export function actorOf(principal: Principal): string {
  return principal.actor ?? `key:${principal.keyId}:${principal.name}`;
}

/** Where the auth plugin looks a presented key up (ApiKeyRepository.findActiveByHash). */
export interface ApiKeyLookup {
  findActiveByHash(keyHash: string): Promise<{ id: number; name: string; role: ApiRole; areas?: string[] | null } | undefined>;
}

export interface AuthOptions {
  apiKeys: ApiKeyLookup;
  /** The scope rule routes apply to scoped principals (app.scopes). */
  scopes: AreaScopeService;
  /** Console staff accounts: a request without Authorization may carry their session cookie. */
  users?: UserService;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` for every /v1 route; null before. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** preHandler factory: the request must carry a key of at least this role. */
    requireRole(role: ApiRole): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** What a scoped principal may see and do (src/services/area-scope.service.ts). */
    scopes: AreaScopeService;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * API keys in `Authorization: Bearer`. Routes declare what they need with
 * `preHandler: app.requireRole('operator')`; a missing or revoked key is 401, a weaker role 403.
 * The key itself never reaches a log: the logger redacts the authorization header.
 */
export const authPlugin = fp<AuthOptions>(async (app, options) => {
  app.decorateRequest('principal', null);
  app.decorate('scopes', options.scopes);
  app.decorate('requireRole', (role: ApiRole) => async (request: FastifyRequest) => {
    // No Authorization header: the console's session cookie, if any (CSRF checked there).
    const session = request.principal || request.headers.authorization || !options.users ? undefined : await sessionPrincipal(request, options.users);
    const principal = request.principal ?? session ?? (await authenticate(request, options.apiKeys));
    request.principal = principal;
    if (!roleAllows(principal.role, role)) throw new ForbiddenError(`this needs the ${role} role; the key '${principal.name}' is ${principal.role}`);
  });
});

async function authenticate(request: FastifyRequest, apiKeys: ApiKeyLookup): Promise<Principal> {
  const header = request.headers.authorization;
  const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
  if (!token) throw new UnauthorizedError('missing Authorization: Bearer <API key>');
  const key = await apiKeys.findActiveByHash(hashApiKey(token));
  if (!key) throw new UnauthorizedError('unknown or revoked API key');
  return { keyId: key.id, name: key.name, role: key.role, scope: scopeOf(key.areas) };
}

/** The stored areas (written by ApiKeyService, so always parseable); a key left unreadable sees nothing. */
function scopeOf(areas: string[] | null | undefined): AreaScope | null {
  if (!areas) return null;
  const parsed = parseAreas(areas);
  return parsed.ok ? parsed.scope : { provinces: [], communes: [] };
}

/** The principal a route's requireRole hook set (every /v1 route with a key has one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthorizedError();
  return request.principal;
}
