import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';

export interface RateLimitSettings {
  /** Requests per window for one API key. */
  max: number;
  /** Requests per window for one screen token on one screen's controller routes. */
  screenMax: number;
  windowMs: number;
  /** Shared counters across API processes; in memory when absent. */
  redis?: Redis;
  /** Redis key prefix of the counters. */
  nameSpace?: string;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The screen credential presented, hashed (never stored or logged as is); `-` when none. */
function screenCredential(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const query = (request.query ?? {}) as { token?: unknown };
  const token = (typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined) ?? (typeof query.token === 'string' ? query.token : undefined) ?? /(?:^|;\s*)loa_screen=([^;]*)/.exec(request.headers.cookie ?? '')?.[1];
  return token === undefined ? '-' : createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/**
 * Per-key rate limiting for /v1 (issue 12, item 5): 429 with Retry-After past `max` requests in a
 * window. Counted after authentication (the preParsing hook runs after every route's onRequest
 * requireRole), so the bucket is the API key's id, whatever address it comes from, and a request
 * refused as unauthenticated costs nothing from anyone's bucket.
 *
 * Screen controllers carry no API key: they are counted per screen and token (`screenMax`, sized
 * for a poll every few seconds plus proof-of-play posts), so one misbehaving controller slows only
 * itself and someone spraying a screen's id with wrong tokens cannot starve the real controller.
 * /health, /metrics and /docs sit outside /v1: probes and scrapers are not limited.
 */
export async function registerRateLimit(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    timeWindow: settings.windowMs,
    ...(settings.redis ? { redis: settings.redis } : {}),
    nameSpace: settings.nameSpace ?? 'loa:rate-limit:',
    // Redis away must not take the API down with it: the request goes through uncounted.
    skipOnError: true,
    keyGenerator: (request) => {
      // A console session counts against its person, an API key against the key.
      if (request.principal) return request.principal.actor ?? `key:${request.principal.keyId}`;
      const params = (request.params ?? {}) as { id?: unknown };
      if (request.routeOptions.url?.startsWith('/v1/screens/:id/') && typeof params.id === 'string') return `screen:${params.id}:${screenCredential(request)}`;
      return `ip:${request.ip}`;
    },
    max: (_request, key) => (key.startsWith('screen:') ? settings.screenMax : settings.max),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`rate limit: at most ${context.max} requests per ${Math.round(settings.windowMs / 1000)} s; retry in ${context.after}`), {
        statusCode: context.statusCode,
        code: 'rate_limited',
      }),
  });
}
