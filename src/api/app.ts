import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { ApiServices } from '../services/index.js';
import { authPlugin } from './auth.js';
import { errorHandler } from './error-handler.js';
import { audienceRoutes, type AudienceRoutesOptions } from './routes/audience.js';
import { campaignRoutes } from './routes/campaigns.js';
import { healthRoutes, type HealthCheck } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { runRoutes } from './routes/runs.js';

export interface AppDeps {
  logger: Logger;
  checks: readonly HealthCheck[];
  metrics: Registry;
  /**
   * What the /v1 routes call (createApiServices in src/services/index.ts); each resource's plugin
   * takes the services it needs. Without it the app serves /health, /metrics and /docs only.
   */
  services?: ApiServices;
  /** Lists, opt-outs and portability (src/api/routes/audience.ts), under /v1 with the services. */
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
  const services = deps.services;
  if (services) {
    await app.register(
      async (v1) => {
        // Inside /v1 only: every route there authenticates with requireRole.
        await v1.register(authPlugin, { apiKeys: services.apiKeys });
        await v1.register(keyRoutes(services.apiKeys));
        await v1.register(campaignRoutes(services.campaigns, services.launches));
        await v1.register(runRoutes(services.runs, services.runControl));
        if (deps.audience) await v1.register(audienceRoutes, deps.audience);
      },
      { prefix: '/v1' },
    );
  }
  return app;
}
