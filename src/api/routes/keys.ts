import type { FastifyInstance } from 'fastify';
import type { ApiRole } from '../../domain/api-key.js';
import { MAX_SCOPE_AREAS } from '../../domain/area-scope.js';
import type { ApiKeyService } from '../../services/api-keys.service.js';
import { actor } from './actor.js';
import { authErrors, bearer, errorBody, idParams, isoTime, roleSchema } from '../schemas.js';

const keyView = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    role: roleSchema,
    areas: { type: ['array', 'null'], items: { type: 'string' }, description: "'PROVINCE' or 'PROVINCE/COMMUNE' entries the key is limited to; null: the whole department" },
    createdAt: isoTime,
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/** API keys: admin only. The token is in the answer to POST once and nowhere else. */
export function keyRoutes(apiKeys: ApiKeyService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const admin = app.requireRole('admin');
    const tags = ['keys'];

    app.get('/keys', { onRequest: admin, schema: { summary: 'List API keys (never their tokens)', tags, security: bearer, response: { 200: { type: 'array', items: keyView }, ...authErrors } } }, async () =>
      apiKeys.list(),
    );

    app.post<{ Body: { role: ApiRole; name: string; areas?: string[] } }>(
      '/keys',
      {
        onRequest: admin,
        schema: {
          summary: 'Create an API key; the token is shown in this answer only',
          tags,
          security: bearer,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['role', 'name'],
            properties: {
              role: roleSchema,
              name: { type: 'string', minLength: 1, maxLength: 100 },
              areas: {
                type: 'array',
                minItems: 1,
                maxItems: MAX_SCOPE_AREAS,
                items: { type: 'string', minLength: 1, maxLength: 200 },
                description: "scope an operator or viewer key to these areas: 'PROVINCE' (all of it) or 'PROVINCE/COMMUNE'",
              },
            },
          },
          response: { 201: { ...keyView, properties: { ...keyView.properties, token: { type: 'string' } } }, 400: errorBody, ...authErrors },
        },
      },
      async (request, reply) => reply.status(201).send(await apiKeys.create(request.body, actor(request))),
    );

    app.delete<{ Params: { id: number } }>(
      '/keys/:id',
      { onRequest: admin, schema: { summary: 'Revoke an API key: requests with it get 401 from now on', tags, security: bearer, params: idParams, response: { 200: keyView, 400: errorBody, ...authErrors, 404: errorBody } } },
      async (request) => apiKeys.revoke(request.params.id, actor(request)),
    );
  };
}
