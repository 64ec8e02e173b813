import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adapterForFormat } from '../../../adapters/screens/index.js';
import type { PlaylistChanges } from '../../screens/playlist-changes.js';
import type { PlaylistService } from '../../screens/playlist.service.js';
import { playerPage } from '../../screens/player-page.js';
import { renderRss } from '../../screens/rss.js';
import type { Playlist } from '../../screens/screen-adapter.js';
import type { ScreenService } from '../../screens/screens.service.js';
import { errorBody } from '../schemas.js';
import { screenParams } from './screens.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const screenToken = [{ screenToken: [] }];

export const COOKIE = 'loa_screen';

/**
 * The screen's token: `Authorization: Bearer`, `?token=` for feed readers that cannot set
 * headers, or the cookie the web player got for it on its first load.
 */
export function tokenOf(request: FastifyRequest<{ Querystring: { token?: string } }>): string | undefined {
  const header = request.headers.authorization;
  const bearerToken = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
  return bearerToken ?? request.query.token ?? cookieToken(request.headers.cookie);
}

function cookieToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== COOKIE) continue;
    // A malformed escape (`%zz`) is a wrong token, not a crash (decodeURIComponent throws on it).
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

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
    const streams = new Set<ServerResponse>();
    // Closing the app must not wait for held long-polls and open event streams.
    app.addHook('preClose', async () => {
      changes.wakeAll();
      for (const stream of streams) stream.end();
    });

    async function current(id: string): Promise<Playlist> {
      const playlist = await playlists.playlist(id);
      if (!playlist) throw new Error(`screen ${id} vanished`);
      return playlist;
    }

    app.get<{ Params: { id: string }; Querystring: { token?: string; wait?: number; format?: 'json' | 'led' | 'board' | 'rss' } }>(
      '/screens/:id/playlist',
      {
        // Thousands of screens poll all day: their requests are not logged one by one (errors still are).
        logLevel: 'warn',
        schema: {
          summary: 'The screen’s playlist: If-None-Match → 304; ?wait=N holds the request until it changes',
          tags,
          security: screenToken,
          params: screenParams,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              token: { type: 'string', maxLength: 200 },
              wait: { type: 'integer', minimum: 0, maximum: options.maxWaitSeconds, default: 0 },
              format: { type: 'string', enum: ['json', 'led', 'board', 'rss'], default: 'json' },
            },
          },
          response: { 200: playlistSchema, 400: errorBody, 401: errorBody },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        await screens.authenticate(tokenOf(request), id);
        playlists.markSeen(id);
        const format = request.query.format ?? 'json';
        const tagOf = (playlist: Playlist) => `"${playlist.version}${format === 'json' ? '' : `-${format}`}"`;
        let playlist = await current(id);
        const asked = request.headers['if-none-match'];
        const wait = (request.query.wait ?? 0) * 1000;
        if (asked === tagOf(playlist) && wait > 0) {
          // Held until a change message, the playlist's own deadline, the wait's end or the client leaving.
          const untilDeadline = playlist.deadline === null ? wait : Date.parse(playlist.deadline) - Date.parse(playlist.now);
          const abort = new AbortController();
          const gone = () => abort.abort();
          request.raw.once('close', gone);
          await changes.wait(id, Math.max(0, Math.min(wait, untilDeadline + 5)), abort.signal);
          request.raw.off('close', gone);
          playlist = await current(id);
        }
        const etag = tagOf(playlist);
        void reply.header('etag', etag).header('cache-control', 'no-cache').header('x-poll-after', String(playlist.pollAfter));
        if (asked === etag) return reply.status(304).send();
        if (format === 'json') return playlist;
        if (format === 'rss') return reply.type('application/rss+xml; charset=utf-8').serializer((body: string) => body).send(renderRss(playlist, `${request.protocol}://${request.host}/v1/screens/${id}/playlist`));
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
          security: screenToken,
          params: screenParams,
          querystring: { type: 'object', additionalProperties: false, properties: { token: { type: 'string', maxLength: 200 } } },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const token = tokenOf(request);
        await screens.authenticate(token, id);
        if (request.query.token !== undefined) {
          // Traded for a cookie at once, so the token leaves the address bar and every later URL.
          const path = `/v1/screens/${id}`;
          return reply
            .header('set-cookie', `${COOKIE}=${encodeURIComponent(request.query.token)}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=31536000`)
            .redirect(`${path}/player`, 303);
        }
        return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('referrer-policy', 'no-referrer').send(playerPage(id));
      },
    );

    app.post<{ Params: { id: string }; Querystring: { token?: string }; Body: { plays: Array<{ item: unknown; from: unknown; to: unknown }> } }>(
      '/screens/:id/plays',
      {
        // Thousands of screens poll all day: their requests are not logged one by one (errors still are).
        logLevel: 'warn',
        bodyLimit: 4 * 1024 * 1024,
        schema: {
          summary: 'Proof of play: a batch of {item, from, to}; each bad record is refused with its reason, the rest stored',
          tags,
          security: screenToken,
          params: screenParams,
          querystring: { type: 'object', additionalProperties: false, properties: { token: { type: 'string', maxLength: 200 } } },
          // Records are checked one by one by the service, so one bad record never refuses the batch.
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
        await screens.authenticate(tokenOf(request), request.params.id);
        playlists.markSeen(request.params.id);
        return playlists.recordPlays(request.params.id, request.body.plays.map((play) => (play && typeof play === 'object' ? (play as { item: unknown; from: unknown; to: unknown }) : { item: null, from: null, to: null })));
      },
    );

    app.get<{ Params: { id: string }; Querystring: { token?: string } }>(
      '/screens/:id/events',
      {
        // Thousands of screens poll all day: their requests are not logged one by one (errors still are).
        logLevel: 'warn',
        schema: {
          summary: 'Server-sent events: a `playlist` event with the whole playlist now and at every change',
          tags,
          security: screenToken,
          params: screenParams,
          querystring: { type: 'object', additionalProperties: false, properties: { token: { type: 'string', maxLength: 200 } } },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        await screens.authenticate(tokenOf(request), id);
        playlists.markSeen(id);
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        let last = '';
        let sending = Promise.resolve();
        const send = () =>
          (sending = sending.then(async () => {
            const playlist = await current(id);
            playlists.markSeen(id);
            if (playlist.version === last) return;
            last = playlist.version;
            raw.write(`id: ${playlist.version}\nevent: playlist\ndata: ${JSON.stringify(playlist)}\n\n`);
          }).catch((error: unknown) => request.log.warn({ err: error }, 'screen event stream')));
        let deadlineTimer: NodeJS.Timeout | undefined;
        const schedule = async () => {
          await send();
          const playlist = await current(id).catch(() => undefined);
          if (deadlineTimer) clearTimeout(deadlineTimer);
          if (playlist?.deadline) deadlineTimer = setTimeout(() => void schedule(), Math.max(0, Date.parse(playlist.deadline) - Date.parse(playlist.now)) + 5);
        };
        const unsubscribe = changes.onChange((ids) => {
          if (ids.includes(id)) setImmediate(() => void schedule());
        });
        // An open stream is a screen that is there: the keep-alive doubles as its heartbeat.
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
        await schedule();
      },
    );
  };
}
