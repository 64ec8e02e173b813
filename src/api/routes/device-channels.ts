import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PlaylistChanges } from '../../screens/playlist-changes.js';
import type { PlaylistService } from '../../screens/playlist.service.js';
import { errorBody } from '../schemas.js';

/**
 * The channels a device (a screen, a loudspeaker) talks to us through with its own token: the
 * long-polled document, the web player's cookie, proof of play and the event stream. One
 * implementation, so a fix to the timers or the cookie reaches every kind of device.
 */

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The web player's cookie: one name for every device (its Path keeps screens and loudspeakers apart). */
export const COOKIE = 'loa_screen';

/** The OpenAPI security of a device route: its own token, never an API key. */
export const deviceToken = [{ screenToken: [] }];

export const tokenQuery = { type: 'object', additionalProperties: false, properties: { token: { type: 'string', maxLength: 200 } } } as const;

export function waitQuery(maxWaitSeconds: number, formats: readonly string[]) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      token: { type: 'string', maxLength: 200 },
      wait: { type: 'integer', minimum: 0, maximum: maxWaitSeconds, default: 0 },
      format: { type: 'string', enum: formats, default: 'json' },
    },
  } as const;
}

// Records are checked one by one by the service, so one bad record never refuses the batch.
export const playsBody = { type: 'object', required: ['plays'], properties: { plays: { type: 'array', maxItems: 10_000, items: {} } } } as const;

export const playsResponse = {
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
} as const;

/** Thousands of devices poll all day: their requests are not logged one by one (errors still are). */
export const quietLog = 'warn';

/** The plays route's body limit: a controller back online resends its whole backlog at once. */
export const playsBodyLimit = 4 * 1024 * 1024;

type TokenRequest = FastifyRequest<{ Querystring: { token?: string } }>;
type PlaysRequest = FastifyRequest<{ Params: { id: string }; Querystring: { token?: string }; Body: { plays: unknown[] } }>;

/**
 * The device's token: `Authorization: Bearer`, `?token=` for feed readers that cannot set
 * headers, or the cookie the web player got for it on its first load.
 */
export function tokenOf(request: TokenRequest): string | undefined {
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

/** What every device document (a screen's playlist, a loudspeaker's schedule) carries for its channels. */
export interface DeviceDocument {
  version: string;
  now: string;
  deadline: string | null;
  pollAfter: number;
}

export interface DeviceKind<D extends DeviceDocument> {
  /** For errors and log lines: `screen`, `loudspeaker`. */
  noun: string;
  /** The URL segment under /v1: `screens`, `loudspeakers`. */
  segment: string;
  /** The SSE event's name. */
  event: string;
  /** Throws (401) unless the token is this device's. */
  authenticate(token: string | undefined, id: string): Promise<unknown>;
  /** The document now, or undefined for a device that is gone. */
  document(id: string): Promise<D | undefined>;
}

export function deviceChannels<D extends DeviceDocument>(app: FastifyInstance, kind: DeviceKind<D>, playlists: PlaylistService, changes: PlaylistChanges) {
  const streams = new Set<ServerResponse>();
  // Closing the app must not wait for held long-polls and open event streams.
  app.addHook('preClose', async () => {
    changes.wakeAll();
    for (const stream of streams) stream.end();
  });

  async function current(id: string): Promise<D> {
    const document = await kind.document(id);
    if (!document) throw new Error(`${kind.noun} ${id} vanished`);
    return document;
  }

  /** Authenticates the device and counts the request as a sign of life. */
  async function admit(request: TokenRequest, id: string): Promise<void> {
    await kind.authenticate(tokenOf(request), id);
    playlists.markSeen(id);
  }

  return {
    admit,

    /**
     * The conditional, long-polled document: undefined once a 304 is sent, else the document
     * to answer with (ETag and poll headers already set) in `format`.
     */
    async poll(request: FastifyRequest<{ Params: { id: string }; Querystring: { token?: string; wait?: number; format?: string } }>, reply: FastifyReply): Promise<D | undefined> {
      const { id } = request.params;
      await admit(request, id);
      const format = request.query.format ?? 'json';
      const tagOf = (document: D) => `"${document.version}${format === 'json' ? '' : `-${format}`}"`;
      let document = await current(id);
      const asked = request.headers['if-none-match'];
      const wait = (request.query.wait ?? 0) * 1000;
      if (asked === tagOf(document) && wait > 0) {
        // Held until a change message, the document's own deadline, the wait's end or the client leaving.
        const untilDeadline = document.deadline === null ? wait : Date.parse(document.deadline) - Date.parse(document.now);
        const abort = new AbortController();
        const gone = () => abort.abort();
        request.raw.once('close', gone);
        await changes.wait(id, Math.max(0, Math.min(wait, untilDeadline + 5)), abort.signal);
        request.raw.off('close', gone);
        document = await current(id);
      }
      const etag = tagOf(document);
      void reply.header('etag', etag).header('cache-control', 'no-cache').header('x-poll-after', String(document.pollAfter));
      if (asked === etag) {
        void reply.status(304).send();
        return undefined;
      }
      return document;
    },

    /** The web player page; a `?token=` is traded for a cookie at once, so it leaves the address bar and every later URL. */
    async player(request: FastifyRequest<{ Params: { id: string }; Querystring: { token?: string } }>, reply: FastifyReply, page: (id: string) => string) {
      const { id } = request.params;
      await kind.authenticate(tokenOf(request), id);
      if (request.query.token !== undefined) {
        const path = `/v1/${kind.segment}/${id}`;
        return reply
          .header('set-cookie', `${COOKIE}=${encodeURIComponent(request.query.token)}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=31536000`)
          .redirect(`${path}/player`, 303);
      }
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('referrer-policy', 'no-referrer').send(page(id));
    },

    /** Proof of play: each record checked by the service; a non-object record is refused there with its reason. */
    async plays(request: PlaysRequest) {
      await admit(request, request.params.id);
      return playlists.recordPlays(request.params.id, request.body.plays.map((play) => (play && typeof play === 'object' ? (play as { item: unknown; from: unknown; to: unknown }) : { item: null, from: null, to: null })));
    },

    /** Server-sent events: the whole document now, at every change and at its own deadline. */
    async events(request: FastifyRequest<{ Params: { id: string }; Querystring: { token?: string } }>, reply: FastifyReply): Promise<void> {
      const { id } = request.params;
      await admit(request, id);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      let last = '';
      let sending = Promise.resolve();
      let deadlineTimer: NodeJS.Timeout | undefined;
      const send = () =>
        (sending = sending
          .then(async () => {
            const document = await current(id);
            playlists.markSeen(id);
            if (deadlineTimer) clearTimeout(deadlineTimer);
            if (document.deadline) deadlineTimer = setTimeout(send, Math.max(0, Date.parse(document.deadline) - Date.parse(document.now)) + 5);
            if (document.version === last) return;
            last = document.version;
            raw.write(`id: ${document.version}\nevent: ${kind.event}\ndata: ${JSON.stringify(document)}\n\n`);
          })
          .catch((error: unknown) => request.log.warn({ err: error }, `${kind.noun} event stream`)));
      const unsubscribe = changes.onChange((ids) => {
        if (ids.includes(id)) setImmediate(send);
      });
      // An open stream is a device that is there: the keep-alive doubles as its heartbeat.
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
  };
}
