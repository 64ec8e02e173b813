import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { ApiServices } from '../services/index.js';
import { authPlugin } from './auth.js';
import { errorHandler, refuseNonFiniteNumbers } from './error-handler.js';
import { consoleRoutes, consoleStatic } from './routes/console.js';
import { approvalRoutes, launchApprovalGate } from './routes/console-approvals.js';
import { sessionRoutes } from './routes/session.js';
import { userRoutes } from './routes/users.js';
import { audienceRoutes, type AudienceRoutesOptions } from './routes/audience.js';
import { campaignRoutes } from './routes/campaigns.js';
import { healthRoutes, type CarrierBindsSource, type HealthCheck } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { auditRoutes } from './routes/audit.js';
import { registerRateLimit, type RateLimitSettings } from './rate-limit.js';
import { reportRoutes } from './routes/reports.js';
import { runRoutes } from './routes/runs.js';
import { loudspeakerPollRoutes } from './routes/loudspeakers-poll.js';
import { loudspeakerRoutes } from './routes/loudspeakers.js';
import { screenPollRoutes } from './routes/screens-poll.js';
import { screenRoutes } from './routes/screens.js';

export interface AppDeps {
  logger: Logger;
  checks: readonly HealthCheck[];
  metrics: Registry;
  /** Each carrier's binds for /health (degraded when one has none); absent: /health does not report carriers. */
  carriers?: CarrierBindsSource;
  /**
   * What the /v1 routes call (createApiServices in src/services/index.ts); each resource's plugin
   * takes the services it needs. Without it the app serves /health, /metrics and /docs only.
   */
  services?: ApiServices;
  /** Lists, opt-outs and portability (src/api/routes/audience.ts), under /v1 with the services. */
  audience?: AudienceRoutesOptions;
  /** Per-key limits on /v1 (src/api/rate-limit.ts); the service always sets them, tests when they want them. */
  rateLimit?: RateLimitSettings;
}

/** The HTTP API: one encapsulated plugin per resource; OpenAPI generated from the route schemas. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Request lines never show a `?token=` (screen players and feed readers put it there).
    loggerInstance: deps.logger.child({ component: 'api' }, { serializers: { req: redactedRequest } }) as FastifyBaseLogger,
    // Long-polling screens hold requests; keep-alive must outlast them.
    keepAliveTimeout: 65_000,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array' } },
  });
  app.setErrorHandler(errorHandler);
  app.addHook('preHandler', refuseNonFiniteNumbers);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` }),
  );
  await app.register(swagger, {
    openapi: {
      info: { title: 'Loa API', version: '1', description: 'SMS and broadcast campaigns for public information' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' }, screenToken: { type: 'http', scheme: 'bearer', description: 'a screen’s token (or ?token=)' }, session: { type: 'apiKey', in: 'cookie', name: 'loa_session', description: 'the console’s sign-in (POST /v1/session); changes also need X-CSRF-Token' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes(deps.checks, deps.metrics, deps.carriers));
  // The console's session cookie (src/api/session-auth.ts); the page itself is served under `/`.
  await app.register(cookie);
  await app.register(consoleStatic);
  const services = deps.services;
  if (services) {
    await app.register(
      async (v1) => {
        // Inside /v1 only: every route there authenticates with requireRole.
        await v1.register(authPlugin, { apiKeys: services.apiKeys, scopes: services.scopes, ...(services.users ? { users: services.users } : {}) });
        // Before the routes: the limiter hooks every route registered after it in this scope.
        if (deps.rateLimit) await registerRateLimit(v1, deps.rateLimit);
        if (services.users) {
          await v1.register(sessionRoutes({ users: services.users }));
          await v1.register(userRoutes(services.users));
        }
        if (services.approvals) {
          // Before the campaigns plugin: its launch route gets the approval rule's hook.
          await v1.register(launchApprovalGate, { approvals: services.approvals });
          await v1.register(approvalRoutes(services.approvals));
        }
        await v1.register(keyRoutes(services.apiKeys));
        await v1.register(auditRoutes(services.audit));
        await v1.register(campaignRoutes(services.campaigns, services.launches));
        await v1.register(runRoutes(services.runs, services.runControl));
        await v1.register(reportRoutes(services.reports));
        if (deps.audience) await v1.register(audienceRoutes, deps.audience);
        if (services.reach) await v1.register(consoleRoutes(services.reach, services.runs));
        const screens = services.screens;
        if (screens) {
          await v1.register(screenRoutes(screens.registry, screens.playlists));
          await v1.register(screenPollRoutes(screens.registry, screens.playlists, screens.changes, { maxWaitSeconds: screens.maxWaitSeconds }));
          await v1.register(loudspeakerRoutes(screens.loudspeakers, screens.audio));
          await v1.register(loudspeakerPollRoutes(screens.loudspeakers, screens.playlists, screens.changes, { maxWaitSeconds: screens.maxWaitSeconds }));
        }
      },
      { prefix: '/v1' },
    );
  }
  return app;
}

/** fastify's request log fields, with any `token=` query parameter hidden. */
function redactedRequest(request: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: request.method, url: request.url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]'), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}
