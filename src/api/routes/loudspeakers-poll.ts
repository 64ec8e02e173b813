import type { FastifyInstance } from 'fastify';
import { loudspeakerAdapterForFormat } from '../../../adapters/loudspeakers/index.js';
import type { LoudspeakerSchedule } from '../../loudspeakers/loudspeaker-adapter.js';
import type { LoudspeakerService } from '../../loudspeakers/loudspeakers.service.js';
import { loudspeakerPlayerPage } from '../../loudspeakers/player-page.js';
import type { PlaylistChanges } from '../../screens/playlist-changes.js';
import type { PlaylistService } from '../../screens/playlist.service.js';
import { errorBody } from '../schemas.js';
import { loudspeakerParams } from './loudspeakers.js';
import { deviceChannels, deviceToken, playsBody, playsBodyLimit, playsResponse, quietLog, tokenOf, tokenQuery, waitQuery } from './device-channels.js';

const windowSchema = { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } } } as const;

export const scheduleSchema = {
  type: 'object',
  properties: {
    loudspeaker: {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' }, province: { type: ['string', 'null'] }, commune: { type: ['string', 'null'] }, hamlet: { type: ['string', 'null'] }, timeZone: { type: 'string' } },
    },
    version: { type: 'string', description: 'also the ETag' },
    now: { type: 'string', description: 'server time: follow it rather than your own clock' },
    deadline: { type: ['string', 'null'], description: 'when the schedule next changes by itself' },
    urgent: { type: 'boolean', description: 'an urgent broadcast is on or about to start' },
    pollAfter: { type: 'integer' },
    slots: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          item: { type: 'integer' },
          campaignId: { type: ['string', 'null'] },
          runId: { type: ['integer', 'null'] },
          audio: { type: 'string', description: 'clip URL (this loudspeaker’s token)' },
          hash: { type: 'string' },
          start: { type: 'string' },
          duration: { type: 'number', description: 'seconds' },
          priority: { type: 'string', enum: ['normal', 'urgent'] },
          text: { type: ['string', 'null'] },
        },
      },
    },
    unplaced: { type: 'array', items: { type: 'object', properties: { item: { type: 'integer' }, day: { type: 'string' }, count: { type: 'integer' } } } },
    airtime: { type: 'array', items: windowSchema },
    blackout: { type: 'array', items: windowSchema },
  },
} as const;

/**
 * What a loudspeaker's controller or player calls with its token (never an API key): its timed
 * schedule (conditional, long-polled, SSE), its clips, its broadcasts, and the web player. The
 * channels are the screens' (device-channels.ts, PlaylistService.recordPlays); a token reaches
 * only its own loudspeaker, and a screen's token none.
 */
export function loudspeakerPollRoutes(loudspeakers: LoudspeakerService, playlists: PlaylistService, changes: PlaylistChanges, options: { maxWaitSeconds: number }) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['loudspeakers (controllers)'];
    const channel = deviceChannels<LoudspeakerSchedule>(
      app,
      { noun: 'loudspeaker', segment: 'loudspeakers', event: 'schedule', authenticate: (token, id) => loudspeakers.authenticate(token, id), document: (id) => loudspeakers.schedule(id) },
      playlists,
      changes,
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string; wait?: number; format?: 'json' | 'm3u' } }>(
      '/loudspeakers/:id/playlist',
      {
        logLevel: quietLog,
        schema: {
          summary: 'The loudspeaker’s timed schedule (today and tomorrow): If-None-Match → 304; ?wait=N holds the request until it changes',
          tags,
          security: deviceToken,
          params: loudspeakerParams,
          querystring: waitQuery(options.maxWaitSeconds, ['json', 'm3u']),
          response: { 200: scheduleSchema, 400: errorBody, 401: errorBody },
        },
      },
      async (request, reply) => {
        const schedule = await channel.poll(request, reply);
        if (!schedule) return reply;
        const format = request.query.format ?? 'json';
        if (format === 'json') return schedule;
        const absolute = (path: string) => `${request.protocol}://${request.host}${path}`;
        const rendering = loudspeakerAdapterForFormat(format)!.render(schedule, absolute);
        return reply.type(rendering.contentType).serializer((body: string) => body).send(rendering.body);
      },
    );

    app.get<{ Params: { id: string; hash: string }; Querystring: { token?: string } }>(
      '/loudspeakers/:id/audio/:hash',
      {
        logLevel: quietLog,
        schema: {
          summary: 'A clip of this loudspeaker’s schedule (Ogg Opus; immutable, cache it)',
          tags,
          security: deviceToken,
          params: { type: 'object', required: ['id', 'hash'], properties: { id: loudspeakerParams.properties.id, hash: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
          querystring: tokenQuery,
          response: { 401: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const { id, hash } = request.params;
        await loudspeakers.authenticate(tokenOf(request), id);
        const clip = await loudspeakers.clipFor(id, hash);
        if (!clip) return reply.status(404).send({ error: 'not_found', message: 'no such clip in this loudspeaker’s schedule' });
        return reply.type(clip.contentType).header('cache-control', 'private, max-age=31536000, immutable').header('etag', `"${hash}"`).send(clip.bytes);
      },
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string } }>(
      '/loudspeakers/:id/player',
      {
        schema: {
          summary: 'The web player for a PC wired to an amplifier: open /v1/loudspeakers/:id/player?token=… once',
          tags,
          security: deviceToken,
          params: loudspeakerParams,
          querystring: tokenQuery,
        },
      },
      (request, reply) => channel.player(request, reply, loudspeakerPlayerPage),
    );

    app.post<{ Params: { id: string }; Querystring: { token?: string }; Body: { plays: unknown[] } }>(
      '/loudspeakers/:id/plays',
      {
        logLevel: quietLog,
        bodyLimit: playsBodyLimit,
        schema: {
          summary: 'Proof of broadcast: a batch of {item, from, to}; each bad record is refused with its reason, the rest stored',
          tags,
          security: deviceToken,
          params: loudspeakerParams,
          querystring: tokenQuery,
          body: playsBody,
          response: playsResponse,
        },
      },
      (request) => channel.plays(request),
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string } }>(
      '/loudspeakers/:id/events',
      {
        logLevel: quietLog,
        schema: { summary: 'Server-sent events: a `schedule` event with the whole schedule now and at every change', tags, security: deviceToken, params: loudspeakerParams, querystring: tokenQuery },
      },
      (request, reply) => channel.events(request, reply),
    );
  };
}
