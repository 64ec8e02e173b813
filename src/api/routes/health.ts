import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** A dependency GET /health checks; `check` rejects when it is down. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: HealthCheck): Promise<{ name: string; ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return { name: check.name, ok: true };
  } catch (error) {
    return { name: check.name, ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const healthResponse = {
  type: 'object',
  properties: {
    status: { enum: ['ok', 'unavailable'] },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { ok: { type: 'boolean' }, error: { type: 'string' } },
      },
    },
  },
} as const;

export function healthRoutes(checks: readonly HealthCheck[], metrics: Registry) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get(
      '/health',
      {
        schema: {
          summary: 'Liveness and dependencies: 503 names the dependency that failed',
          tags: ['operations'],
          response: { 200: healthResponse, 503: healthResponse },
        },
      },
      async (_request, reply) => {
        const results = await Promise.all(checks.map(runCheck));
        const ok = results.every((r) => r.ok);
        const byName = Object.fromEntries(results.map(({ name, ...rest }) => [name, rest]));
        return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: byName });
      },
    );
    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['operations'] } },
      async (_request, reply) => reply.header('content-type', metrics.contentType).send(await metrics.metrics()),
    );
  };
}
