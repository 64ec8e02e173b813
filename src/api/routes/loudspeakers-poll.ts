import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { loudspeakerAdapterForFormat } from '../../../adapters/loudspeakers/index.js';
import type { LoudspeakerSchedule } from '../../loudspeakers/loudspeaker-adapter.js';
import type { LoudspeakerService } from '../../loudspeakers/loudspeakers.service.js';
import { loudspeakerPlayerPage } from '../../loudspeakers/player-page.js';
import type { PlaylistChanges } from '../../screens/playlist-changes.js';
import type { PlaylistService } from '../../screens/playlist.service.js';
import { errorBody } from '../schemas.js';
import { loudspeakerParams } from './loudspeakers.js';
import { COOKIE, tokenOf } from './screens-poll.js';

const screenToken = [{ screenToken: [] }];
const tokenQuery = { type: 'object', additionalProperties: false, properties: { token: { type: 'string', maxLength: 200 } } } as const;
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
 * machinery is the screens' (PlaylistChanges, PlaylistService.recordPlays); a token reaches only
 * its own loudspeaker, and a screen's token none.
 */
export function loudspeakerPollRoutes(loudspeakers: LoudspeakerService, playlists: PlaylistService, changes: PlaylistChanges, options: { maxWaitSeconds: number }) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['loudspeakers (controllers)'];
    const streams = new Set<ServerResponse>();
    app.addHook('preClose', async () => {
      changes.wakeAll();
      for (const stream of streams) stream.end();
    });

    async function current(id: string): Promise<LoudspeakerSchedule> {
      const schedule = await loudspeakers.schedule(id);
      if (!schedule) throw new Error(`loudspeaker ${id} vanished`);
      return schedule;
    }

    app.get<{ Params: { id: string }; Querystring: { token?: string; wait?: number; format?: 'json' | 'm3u' } }>(
      '/loudspeakers/:id/playlist',
      {
        logLevel: 'warn',
        schema: {
          summary: 'The loudspeaker’s timed schedule (today and tomorrow): If-None-Match → 304; ?wait=N holds the request until it changes',
          tags,
          security: screenToken,
          params: loudspeakerParams,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              token: { type: 'string', maxLength: 200 },
              wait: { type: 'integer', minimum: 0, maximum: options.maxWaitSeconds, default: 0 },
              format: { type: 'string', enum: ['json', 'm3u'], default: 'json' },
            },
          },
          response: { 200: scheduleSchema, 400: errorBody, 401: errorBody },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        await loudspeakers.authenticate(tokenOf(request), id);
        playlists.markSeen(id);
        const format = request.query.format ?? 'json';
        const tagOf = (schedule: LoudspeakerSchedule) => `"${schedule.version}${format === 'json' ? '' : `-${format}`}"`;
        let schedule = await current(id);
        const asked = request.headers['if-none-match'];
        const wait = (request.query.wait ?? 0) * 1000;
        if (asked === tagOf(schedule) && wait > 0) {
          const untilDeadline = schedule.deadline === null ? wait : Date.parse(schedule.deadline) - Date.parse(schedule.now);
          const abort = new AbortController();
          const gone = () => abort.abort();
          request.raw.once('close', gone);
          await changes.wait(id, Math.max(0, Math.min(wait, untilDeadline + 5)), abort.signal);
          request.raw.off('close', gone);
          schedule = await current(id);
        }
        const etag = tagOf(schedule);
        void reply.header('etag', etag).header('cache-control', 'no-cache').header('x-poll-after', String(schedule.pollAfter));
        if (asked === etag) return reply.status(304).send();
        if (format === 'json') return schedule;
        const absolute = (path: string) => `${request.protocol}://${request.host}${path}`;
        const rendering = loudspeakerAdapterForFormat(format)!.render(schedule, absolute);
        return reply.type(rendering.contentType).serializer((body: string) => body).send(rendering.body);
      },
    );

    app.get<{ Params: { id: string; hash: string }; Querystring: { token?: string } }>(
      '/loudspeakers/:id/audio/:hash',
      {
        logLevel: 'warn',
        schema: {
          summary: 'A clip of this loudspeaker’s schedule (Ogg Opus; immutable, cache it)',
          tags,
          security: screenToken,
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
          security: screenToken,
          params: loudspeakerParams,
          querystring: tokenQuery,
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        await loudspeakers.authenticate(tokenOf(request), id);
        if (request.query.token !== undefined) {
          // Traded for a cookie at once (as the screens player), so the token leaves the address bar.
          const path = `/v1/loudspeakers/${id}`;
          return reply
            .header('set-cookie', `${COOKIE}=${encodeURIComponent(request.query.token)}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=31536000`)
            .redirect(`${path}/player`, 303);
        }
        return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('referrer-policy', 'no-referrer').send(loudspeakerPlayerPage(id));
      },
    );

    app.post<{ Params: { id: string }; Querystring: { token?: string }; Body: { plays: Array<{ item: unknown; from: unknown; to: unknown }> } }>(
      '/loudspeakers/:id/plays',
      {
        logLevel: 'warn',
        bodyLimit: 4 * 1024 * 1024,
        schema: {
          summary: 'Proof of broadcast: a batch of {item, from, to}; each bad record is refused with its reason, the rest stored',
          tags,
          security: screenToken,
          params: loudspeakerParams,
          querystring: tokenQuery,
          body: { type: 'object', required: ['plays'], properties: { plays: { type: 'array', maxItems: 10_000, items: {} } } },
          response: {
            200: {
              type: 'object',
              properties: {
                accepted: { type: 'integer' },
                duplicates: { type: 'integer', description: 'already stored (a resent backlog)' },
                rejected: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, reason: { type: 'string' } } } },
              },
            },
            400: errorBody,
            401: errorBody,
          },
        },
      },
      async (request) => {
        await loudspeakers.authenticate(tokenOf(request), request.params.id);
        playlists.markSeen(request.params.id);
        return playlists.recordPlays(request.params.id, request.body.plays.map((play) => (play && typeof play === 'object' ? (play as { item: unknown; from: unknown; to: unknown }) : { item: null, from: null, to: null })));
      },
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string } }>(
      '/loudspeakers/:id/events',
      {
        logLevel: 'warn',
        schema: { summary: 'Server-sent events: a `schedule` event with the whole schedule now and at every change', tags, security: screenToken, params: loudspeakerParams, querystring: tokenQuery },
      },
      async (request, reply) => {
        const { id } = request.params;
        await loudspeakers.authenticate(tokenOf(request), id);
        playlists.markSeen(id);
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        let last = '';
        let sending = Promise.resolve();
        let deadlineTimer: NodeJS.Timeout | undefined;
        const send = () =>
          (sending = sending
            .then(async () => {
              const schedule = await current(id);
              playlists.markSeen(id);
              if (deadlineTimer) clearTimeout(deadlineTimer);
              if (schedule.deadline) deadlineTimer = setTimeout(send, Math.max(0, Date.parse(schedule.deadline) - Date.parse(schedule.now)) + 5);
              if (schedule.version === last) return;
              last = schedule.version;
              raw.write(`id: ${schedule.version}\nevent: schedule\ndata: ${JSON.stringify(schedule)}\n\n`);
            })
            .catch((error: unknown) => request.log.warn({ err: error }, 'loudspeaker event stream')));
        const unsubscribe = changes.onChange((ids) => {
          if (ids.includes(id)) setImmediate(send);
        });
        const keepAlive = setInterval(() => {
          raw.write(': keep-alive\n\n');
          playlists.markSeen(id);
        }, 25_000);
        streams.add(raw);
        raw.on('close', () => {
          streams.delete(raw);
          unsubscribe();
          clearInterval(keepAlive);
          if (deadlineTimer) clearTimeout(deadlineTimer);
        });
        await send();
      },
    );
  };
}
