import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { withinMs } from '../../within.js';

/** A dependency GET /health checks; `check` rejects when it is down. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** Each carrier's binds over every worker (published through Redis: src/jobs/bind-state.ts). */
export interface CarrierBindsSource {
  read(): Promise<{ carriers: Record<string, { bound: number; allowed: number; workers: number }> }>;
}

const CHECK_TIMEOUT_MS = 2000;

function withinTimeout<T>(promise: Promise<T>): Promise<T> {
  return withinMs(promise, CHECK_TIMEOUT_MS, `no answer within ${CHECK_TIMEOUT_MS} ms`);
}

async function runCheck(check: HealthCheck): Promise<{ name: string; ok: boolean; error?: string }> {
  try {
    await withinTimeout(check.check());
    return { name: check.name, ok: true };
  } catch (error) {
    return { name: check.name, ok: false, error: (error as Error).message };
  }
}

const healthResponse = {
  type: 'object',
  properties: {
    status: { enum: ['ok', 'degraded', 'unavailable'] },
    carriers: {
      type: 'object',
      description: 'Binds up now over every worker / binds the carrier allows; a carrier with none makes the status degraded',
      additionalProperties: {
        type: 'object',
        properties: { bound: { type: 'integer' }, allowed: { type: 'integer' }, workers: { type: 'integer' } },
      },
    },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { ok: { type: 'boolean' }, error: { type: 'string' } },
      },
    },
  },
} as const;

/**
 * GET /health: 503 `unavailable` when PostgreSQL or Redis fails (the API cannot work); 200
 * `degraded` when a carrier has no bind (an SMSC is down: restarting the API would not help);
 * 200 `ok` otherwise.
 */
export function healthRoutes(checks: readonly HealthCheck[], metrics: Registry, carriers?: CarrierBindsSource) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get(
      '/health',
      {
        schema: {
          summary: 'Liveness and dependencies: 503 names the dependency that failed; degraded (200) names no carrier bind',
          tags: ['operations'],
          response: { 200: healthResponse, 503: healthResponse },
        },
      },
      async (_request, reply) => {
        const [results, binds] = await Promise.all([Promise.all(checks.map(runCheck)), carriers ? withinTimeout(carriers.read()).catch(() => null) : null]);
        const ok = results.every((r) => r.ok);
        const byName = Object.fromEntries(results.map(({ name, ...rest }) => [name, rest]));
        if (!ok) return reply.status(503).send({ status: 'unavailable', checks: byName, ...(binds ? { carriers: binds.carriers } : {}) });
        const unbound = binds ? Object.values(binds.carriers).some((carrier) => carrier.bound === 0) : false;
        return reply.status(200).send({ status: unbound ? 'degraded' : 'ok', checks: byName, ...(binds ? { carriers: binds.carriers } : {}) });
      },
    );
    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['operations'] } },
      async (_request, reply) => reply.header('content-type', metrics.contentType).send(await metrics.metrics()),
    );
  };
}
