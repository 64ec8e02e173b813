import type { FastifyInstance } from 'fastify';
import { SCREEN_KINDS } from '../../../adapters/screens/index.js';
import type { PlaylistService } from '../../screens/playlist.service.js';
import type { NewScreenInput, ScreenService } from '../../screens/screens.service.js';
import { actorOf, principalOf } from '../auth.js';
import { authErrors, bearer, errorBody, idParams, isoTime } from '../schemas.js';

const nullableString = { type: ['string', 'null'] } as const;
const screenId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64 } as const;
export const screenParams = { type: 'object', required: ['id'], properties: { id: screenId } } as const;

/**
 * The schema of DeviceView, the registry row every kind of device shows, in two parts so that each
 * kind puts its own fields between who the device is and how it is doing.
 */
export const deviceIdentityProperties = {
  id: { type: 'string' },
  name: { type: 'string' },
  kind: { type: 'string' },
  tags: { type: 'array', items: { type: 'string' } },
  province: nullableString,
  commune: nullableString,
  location: nullableString,
} as const;

export const deviceStateProperties = {
  pollInterval: { type: 'integer' },
  pushUrl: nullableString,
  version: { type: 'integer' },
  pushedVersion: { type: ['integer', 'null'] },
  lastSeen: { type: ['string', 'null'], format: 'date-time' },
  status: { type: 'string', enum: ['online', 'offline', 'never'], description: 'offline: unseen for 3 poll intervals' },
  createdAt: isoTime,
} as const;

export const screenView = {
  type: 'object',
  properties: { ...deviceIdentityProperties, languages: { type: 'array', items: { type: 'string' } }, ...deviceStateProperties },
} as const;

const withToken = {
  type: 'object',
  properties: { screen: screenView, token: { type: 'string', description: 'shown only this once; only its hash is stored' } },
} as const;

/** What deviceRegistryRoutes needs of a kind of device: its service's registry calls and its schemas. */
export interface DeviceRegistry<V extends { id: string; province: string | null; commune: string | null }> {
  /** The URL segment under /v1: `screens`, `loudspeakers`. */
  segment: string;
  tags: string[];
  summaries: { list: string; one: string };
  params: object;
  view: object;
  withToken: object;
  list(): Promise<V[]>;
  get(id: string): Promise<V>;
  rotateToken(id: string, actor: string): Promise<object>;
}

/**
 * The registry routes every kind of device has (a loudspeaker is a row of the screens registry):
 * the list a key's areas allow (operators), one device (operators), a new token (admins).
 */
export function deviceRegistryRoutes<V extends { id: string; province: string | null; commune: string | null }>(app: FastifyInstance, device: DeviceRegistry<V>): void {
  const { segment, tags, params } = device;
  const operator = app.requireRole('operator');
  app.get(`/${segment}`, { onRequest: operator, schema: { summary: device.summaries.list, tags, security: bearer, response: { 200: { type: 'array', items: device.view }, ...authErrors } } }, async (request) =>
    app.scopes.filterScreens(principalOf(request), await device.list()),
  );

  app.get<{ Params: { id: string } }>(
    `/${segment}/:id`,
    { onRequest: operator, schema: { summary: device.summaries.one, tags, security: bearer, params, response: { 200: device.view, ...authErrors, 404: errorBody } } },
    async (request) => {
      const found = await device.get(request.params.id);
      app.scopes.assertScreenVisible(principalOf(request), found);
      return found;
    },
  );

  app.post<{ Params: { id: string } }>(
    `/${segment}/:id/token`,
    { onRequest: app.requireRole('admin'), schema: { summary: 'Issue a new token (the old one stops working)', tags, security: bearer, params, response: { 200: device.withToken, ...authErrors, 404: errorBody } } },
    async (request) => device.rotateToken(request.params.id, actorOf(request.principal!)),
  );
}

/** The screens registry for people: operators read, admins add screens and issue their tokens. */
export function screenRoutes(screens: ScreenService, playlists: PlaylistService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['screens'];
    const admin = app.requireRole('admin');

    deviceRegistryRoutes(app, {
      segment: 'screens',
      tags,
      summaries: { list: 'Registered screens with their status', one: 'One screen' },
      params: screenParams,
      view: screenView,
      withToken,
      list: () => screens.list(),
      get: (id) => screens.get(id),
      rotateToken: (id, actor) => screens.rotateToken(id, actor),
    });

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
