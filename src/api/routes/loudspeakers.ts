import type { FastifyInstance } from 'fastify';
import type { AudioService } from '../../loudspeakers/audio.service.js';
import type { LoudspeakerService, NewLoudspeakerInput } from '../../loudspeakers/loudspeakers.service.js';
import { MAX_AUDIO_BYTES } from '../../loudspeakers/speech-renderer.js';
import { actorOf, principalOf } from '../auth.js';
import { NotFoundError } from '../../errors.js';
import { scheduleSchema } from './loudspeakers-poll.js';
import { deviceIdentityProperties, deviceRegistryRoutes, deviceStateProperties } from './screens.js';
import { authErrors, bearer, errorBody } from '../schemas.js';

const nullableString = { type: ['string', 'null'] } as const;
/** `audio` and `speech` are routes under /v1/loudspeakers, so never a loudspeaker's id. */
const loudspeakerId = { type: 'string', pattern: '^(?!(audio|speech)$)[a-z0-9][a-z0-9-]*$', maxLength: 64 } as const;
export const loudspeakerParams = { type: 'object', required: ['id'], properties: { id: loudspeakerId } } as const;
const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const window = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: { from: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }, to: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } },
  description: 'local HH:MM to HH:MM; to before from crosses midnight',
} as const;
const windows = { type: 'array', maxItems: 24, items: window } as const;

export const loudspeakerView = {
  type: 'object',
  properties: { ...deviceIdentityProperties, hamlet: nullableString, airtime: windows, blackout: windows, timeZone: { type: 'string' }, ...deviceStateProperties },
} as const;

const withToken = { type: 'object', properties: { loudspeaker: loudspeakerView, token: { type: 'string', description: 'shown only this once; only its hash is stored' } } } as const;
const clipView = { type: 'object', properties: { hash: { type: 'string' }, durationMs: { type: 'integer' }, cached: { type: 'boolean' } } } as const;

/** The loudspeaker registry and audio for people: operators read and render, admins register clusters. */
export function loudspeakerRoutes(loudspeakers: LoudspeakerService, audio: AudioService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['loudspeakers'];
    const operator = app.requireRole('operator');
    const admin = app.requireRole('admin');
    // Recordings arrive as raw bytes; the renderer checks what they really are (never the header alone).
    app.addContentTypeParser(['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/flac', 'audio/ogg', 'audio/opus', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: MAX_AUDIO_BYTES }, (_request, body, done) => done(null, body));

    // A key scoped to areas sees the clusters placed in them, as for screens (the same registry).
    deviceRegistryRoutes(app, {
      segment: 'loudspeakers',
      tags,
      summaries: { list: 'Registered loudspeaker clusters with their status', one: 'One loudspeaker cluster' },
      params: loudspeakerParams,
      view: loudspeakerView,
      withToken,
      list: () => loudspeakers.list(),
      get: (id) => loudspeakers.get(id),
      rotateToken: (id, actor) => loudspeakers.rotateToken(id, actor),
    });

    // The operator's view of what a cluster will say today and tomorrow (the console's registry);
    // the device itself reads the same schedule with its token at /v1/loudspeakers/:id/playlist.
    app.get<{ Params: { id: string } }>(
      '/loudspeakers/:id/schedule',
      { onRequest: operator, schema: { summary: 'A cluster’s timed schedule (today and tomorrow), as its player receives it', tags, security: bearer, params: loudspeakerParams, response: { 200: scheduleSchema, ...authErrors, 404: errorBody } } },
      async (request) => {
        app.scopes.assertScreenVisible(principalOf(request), await loudspeakers.get(request.params.id));
        const schedule = await loudspeakers.schedule(request.params.id);
        if (!schedule) throw new NotFoundError(`loudspeaker ${request.params.id} not found`);
        return schedule;
      },
    );

    app.post<{ Body: NewLoudspeakerInput }>(
      '/loudspeakers',
      {
        onRequest: admin,
        schema: {
          summary: 'Register a loudspeaker cluster with its airtime and blackout windows; its token is in the answer, once',
          tags,
          security: bearer,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name', 'commune', 'airtime'],
            properties: {
              id: loudspeakerId,
              name: { type: 'string', minLength: 1, maxLength: 200 },
              province: { type: 'string', minLength: 1, maxLength: 64 },
              commune: { type: 'string', minLength: 1, maxLength: 64 },
              hamlet: { type: 'string', minLength: 1, maxLength: 64 },
              location: { type: 'string', maxLength: 500 },
              tags: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
              airtime: { ...windows, minItems: 1 },
              blackout: windows,
              timeZone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA zone of the windows (default Asia/Ho_Chi_Minh)' },
              pollInterval: { type: 'integer', minimum: 5, maximum: 3600, description: 'seconds between polls (default 60)' },
              pushUrl: { type: 'string', format: 'uri', pattern: '^https?://', description: 'the schedule is POSTed here, signed, whenever it changes' },
            },
          },
          response: { 201: withToken, 400: errorBody, ...authErrors, 409: errorBody },
        },
      },
      async (request, reply) => reply.status(201).send(await loudspeakers.add(request.body, actorOf(request.principal!))),
    );

    app.post<{ Body: { text: string; voice?: 'vi' | 'vi-vn-x-central' | 'vi-vn-x-south' } }>(
      '/loudspeakers/speech',
      {
        onRequest: operator,
        schema: {
          summary: 'Render a text as the loudspeakers will say it (cached by content hash); listen at GET /v1/loudspeakers/audio/:hash',
          tags,
          security: bearer,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['text'],
            properties: { text: { type: 'string', minLength: 1, maxLength: 5000 }, voice: { type: 'string', enum: ['vi', 'vi-vn-x-central', 'vi-vn-x-south'], default: 'vi' } },
          },
          response: { 200: clipView, 400: errorBody, ...authErrors },
        },
      },
      async (request) => audio.speechChecked(request.body.text, request.body.voice ?? 'vi'),
    );

    app.post(
      '/loudspeakers/audio',
      {
        onRequest: operator,
        schema: {
          summary: 'Upload a recording (WAV, FLAC, Ogg Vorbis or Ogg Opus, 1 s to 30 min): checked, loudness normalised, stored as Ogg Opus; name its hash as `audio:` in a campaign',
          tags,
          security: bearer,
          consumes: ['audio/wav', 'audio/flac', 'audio/ogg', 'application/octet-stream'],
          response: { 201: clipView, 400: errorBody, ...authErrors, 413: errorBody, 415: errorBody },
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (!Buffer.isBuffer(body) || body.length === 0) return reply.status(400).send({ error: 'validation_failed', message: 'the body must be the recording itself (Content-Type audio/wav, audio/flac, audio/ogg or application/octet-stream)' });
        return reply.status(201).send(await audio.upload(body));
      },
    );

    app.get<{ Params: { hash: string } }>(
      '/loudspeakers/audio/:hash',
      { onRequest: operator, schema: { summary: 'A rendered or uploaded clip (Ogg Opus)', tags, security: bearer, params: { type: 'object', required: ['hash'], properties: { hash } }, response: { ...authErrors, 404: errorBody } } },
      async (request, reply) => {
        const clip = await audio.bytes(request.params.hash);
        if (!clip) return reply.status(404).send({ error: 'not_found', message: `no audio ${request.params.hash}` });
        return reply.type(clip.contentType).header('cache-control', 'private, max-age=31536000, immutable').send(clip.bytes);
      },
    );
  };
}
