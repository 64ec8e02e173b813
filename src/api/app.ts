import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { errorHandler } from './error-handler.js';
import { audienceRoutes, type AudienceRoutesOptions } from './routes/audience.js';
import { healthRoutes, type HealthCheck } from './routes/health.js';

export interface AppDeps {
  logger: Logger;
  checks: readonly HealthCheck[];
  metrics: Registry;
  /** Lists, opt-outs and portability (src/api/routes/audience.ts); absent, those routes are not served. */
  audience?: AudienceRoutesOptions;
}

/** The HTTP API: one encapsulated plugin per resource; OpenAPI generated from the route schemas. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    // Long-polling screens hold requests; keep-alive must outlast them.
    keepAliveTimeout: 65_000,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array' } },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` }),
  );
  await app.register(swagger, {
    openapi: {
      info: { title: 'Loa API', version: '1', description: 'SMS and broadcast campaigns for public information' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes(deps.checks, deps.metrics));
  if (deps.audience) await app.register(audienceRoutes, deps.audience);
  return app;
}
