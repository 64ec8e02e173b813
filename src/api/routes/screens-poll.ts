import type { FastifyInstance } from 'fastify';
import { adapterForFormat } from '../../../adapters/screens/index.js';
import type { PlaylistChanges } from '../../screens/playlist-changes.js';
import type { PlaylistService } from '../../screens/playlist.service.js';
import { playerPage } from '../../screens/player-page.js';
import { renderRss } from '../../screens/rss.js';
import type { Playlist } from '../../screens/screen-adapter.js';
import type { ScreenService } from '../../screens/screens.service.js';
import { errorBody } from '../schemas.js';
import { deviceChannels, deviceToken, playsBody, playsBodyLimit, playsResponse, quietLog, tokenQuery, waitQuery } from './device-channels.js';
import { screenParams } from './screens.js';

const entry = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    campaignId: { type: ['string', 'null'] },
    runId: { type: ['integer', 'null'] },
    texts: { type: 'object', additionalProperties: { type: 'string' } },
    duration: { type: 'integer' },
    priority: { type: 'string', enum: ['normal', 'urgent'] },
    validFrom: { type: 'string' },
    validTo: { type: 'string' },
  },
} as const;

export const playlistSchema = {
  type: 'object',
  properties: {
    screen: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' }, languages: { type: 'array', items: { type: 'string' } } } },
    version: { type: 'string', description: 'also the ETag' },
    now: { type: 'string', description: 'server time: follow it rather than your own clock' },
    deadline: { type: ['string', 'null'], description: 'when the playlist next changes by itself' },
    urgent: { type: 'boolean' },
    pollAfter: { type: 'integer', description: 'seconds until the next poll (with this screen’s offset)' },
    items: { type: 'array', items: entry },
  },
} as const;

/**
 * What a screen's controller calls with the screen's token (never an API key): its playlist
 * (conditional, long-polled, in several formats), its plays and an event stream. A token
 * reaches only its own screen (ScreenService.authenticate).
 */
export function screenPollRoutes(screens: ScreenService, playlists: PlaylistService, changes: PlaylistChanges, options: { maxWaitSeconds: number }) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['screens (controllers)'];
    const channel = deviceChannels<Playlist>(
      app,
      { noun: 'screen', segment: 'screens', event: 'playlist', authenticate: (token, id) => screens.authenticate(token, id), document: (id) => playlists.playlist(id) },
      playlists,
      changes,
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string; wait?: number; format?: 'json' | 'led' | 'board' | 'rss' } }>(
      '/screens/:id/playlist',
      {
        logLevel: quietLog,
        schema: {
          summary: 'The screen’s playlist: If-None-Match → 304; ?wait=N holds the request until it changes',
          tags,
          security: deviceToken,
          params: screenParams,
          querystring: waitQuery(options.maxWaitSeconds, ['json', 'led', 'board', 'rss']),
          response: { 200: playlistSchema, 400: errorBody, 401: errorBody },
        },
      },
      async (request, reply) => {
        const playlist = await channel.poll(request, reply);
        if (!playlist) return reply;
        const format = request.query.format ?? 'json';
        if (format === 'json') return playlist;
        if (format === 'rss') return reply.type('application/rss+xml; charset=utf-8').serializer((body: string) => body).send(renderRss(playlist, `${request.protocol}://${request.host}/v1/screens/${request.params.id}/playlist`));
        const rendering = adapterForFormat(format)!.render(playlist);
        return reply.type(rendering.contentType).serializer((body: string) => body).send(rendering.body);
      },
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string } }>(
      '/screens/:id/player',
      {
        schema: {
          summary: 'The web player: open /v1/screens/:id/player?token=… on any controller that shows a URL',
          tags,
          security: deviceToken,
          params: screenParams,
          querystring: tokenQuery,
        },
      },
      (request, reply) => channel.player(request, reply, playerPage),
    );

    app.post<{ Params: { id: string }; Querystring: { token?: string }; Body: { plays: unknown[] } }>(
      '/screens/:id/plays',
      {
        logLevel: quietLog,
        bodyLimit: playsBodyLimit,
        schema: {
          summary: 'Proof of play: a batch of {item, from, to}; each bad record is refused with its reason, the rest stored',
          tags,
          security: deviceToken,
          params: screenParams,
          querystring: tokenQuery,
          body: playsBody,
          response: playsResponse,
        },
      },
      (request) => channel.plays(request),
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string } }>(
      '/screens/:id/events',
      {
        logLevel: quietLog,
        schema: {
          summary: 'Server-sent events: a `playlist` event with the whole playlist now and at every change',
          tags,
          security: deviceToken,
          params: screenParams,
          querystring: tokenQuery,
        },
      },
      (request, reply) => channel.events(request, reply),
    );
  };
}
