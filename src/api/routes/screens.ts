import type { FastifyInstance } from 'fastify';
import { SCREEN_KINDS } from '../../../adapters/screens/index.js';
import type { PlaylistService } from '../../screens/playlist.service.js';
import type { NewScreenInput, ScreenService } from '../../screens/screens.service.js';
import { actorOf, principalOf } from '../auth.js';
import { authErrors, bearer, errorBody, idParams, isoTime } from '../schemas.js';

const nullableString = { type: ['string', 'null'] } as const;
const screenId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64 } as const;
export const screenParams = { type: 'object', required: ['id'], properties: { id: screenId } } as const;

export const screenView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    province: nullableString,
    commune: nullableString,
    location: nullableString,
    languages: { type: 'array', items: { type: 'string' } },
    pollInterval: { type: 'integer' },
    pushUrl: nullableString,
    version: { type: 'integer' },
    pushedVersion: { type: ['integer', 'null'] },
    lastSeen: { type: ['string', 'null'], format: 'date-time' },
    status: { type: 'string', enum: ['online', 'offline', 'never'], description: 'offline: unseen for 3 poll intervals' },
    createdAt: isoTime,
  },
} as const;

const withToken = {
  type: 'object',
  properties: { screen: screenView, token: { type: 'string', description: 'shown only this once; only its hash is stored' } },
} as const;

/** The screens registry for people: operators read, admins add screens and issue their tokens. */
export function screenRoutes(screens: ScreenService, playlists: PlaylistService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['screens'];
    const operator = app.requireRole('operator');
    const admin = app.requireRole('admin');

    app.get('/screens', { onRequest: operator, schema: { summary: 'Registered screens with their status', tags, security: bearer, response: { 200: { type: 'array', items: screenView }, ...authErrors } } }, async (request) =>
      app.scopes.filterScreens(principalOf(request), await screens.list()),
    );

    app.get<{ Params: { id: string } }>(
      '/screens/:id',
      { onRequest: operator, schema: { summary: 'One screen', tags, security: bearer, params: screenParams, response: { 200: screenView, ...authErrors, 404: errorBody } } },
      async (request) => {
        const screen = await screens.get(request.params.id);
        app.scopes.assertScreenVisible(principalOf(request), screen);
        return screen;
      },
    );

    app.post<{ Body: NewScreenInput }>(
      '/screens',
      {
        onRequest: admin,
        schema: {
          summary: 'Register a screen; its token is in the answer, once',
          tags,
          security: bearer,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name', 'kind'],
            properties: {
              id: screenId,
              name: { type: 'string', minLength: 1, maxLength: 200 },
              kind: { type: 'string', enum: [...SCREEN_KINDS] },
              tags: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
              province: { type: 'string', minLength: 1, maxLength: 64 },
              commune: { type: 'string', minLength: 1, maxLength: 64 },
              location: { type: 'string', maxLength: 500 },
              languages: { type: 'array', minItems: 1, maxItems: 10, uniqueItems: true, items: { type: 'string', pattern: '^[a-z]{2}(-[A-Z]{2})?$' } },
              pollInterval: { type: 'integer', minimum: 5, maximum: 3600, description: 'seconds between polls (default 60)' },
              pushUrl: { type: 'string', format: 'uri', pattern: '^https?://' },
            },
          },
          response: { 201: withToken, 400: errorBody, ...authErrors, 409: errorBody },
        },
      },
      async (request, reply) => reply.status(201).send(await screens.add(request.body, actorOf(request.principal!))),
    );

    app.post<{ Params: { id: string } }>(
      '/screens/:id/token',
      { onRequest: admin, schema: { summary: 'Issue a new token (the old one stops working)', tags, security: bearer, params: screenParams, response: { 200: withToken, ...authErrors, 404: errorBody } } },
      async (request) => screens.rotateToken(request.params.id, actorOf(request.principal!)),
    );

    app.get<{ Params: { id: number } }>(
      '/runs/:id/plays',
      {
        onRequest: app.requireRole('viewer'),
        schema: {
          summary: 'Proof of play of a run: plays and seconds per screen',
          tags,
          security: bearer,
          params: idParams,
          response: {
            200: { type: 'array', items: { type: 'object', properties: { screenId: { type: 'string' }, campaignId: nullableString, plays: { type: 'integer' }, seconds: { type: 'number' } } } },
            ...authErrors,
          },
        },
      },
      async (request) => {
        await app.scopes.assertRunVisible(principalOf(request), request.params.id);
        return playlists.playCounts(request.params.id);
      },
    );
  };
}
