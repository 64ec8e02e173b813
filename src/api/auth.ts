import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hashApiKey, roleAllows, type ApiRole } from '../domain/api-key.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { sessionPrincipal, type UserService } from './session-auth.js';

/** Who made a request: an API key (later users and screen tokens). */
export interface Principal {
  keyId: number;
  name: string;
  role: ApiRole;
  /** A signed-in person (console session, src/api/session-auth.ts): `user:<id>:<name>`. */
  actor?: string;
}

/** What the audit log records as the actor: `key:<id>:<name>`, or the person of a session. */
export function actorOf(principal: Principal): string {
  return principal.actor ?? `key:${principal.keyId}:${principal.name}`;
}

/** Where the auth plugin looks a presented key up (ApiKeyRepository.findActiveByHash). */
export interface ApiKeyLookup {
  findActiveByHash(keyHash: string): Promise<{ id: number; name: string; role: ApiRole } | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` for every /v1 route; null before. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** preHandler factory: the request must carry a key of at least this role. */
    requireRole(role: ApiRole): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * API keys in `Authorization: Bearer`. Routes declare what they need with
 * `preHandler: app.requireRole('operator')`; a missing or revoked key is 401, a weaker role 403.
 * The key itself never reaches a log: the logger redacts the authorization header.
 */
export const authPlugin = fp<{ apiKeys: ApiKeyLookup; users?: UserService }>(async (app, options) => {
  app.decorateRequest('principal', null);
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
  return { keyId: key.id, name: key.name, role: key.role };
}
