/** JSON Schemas the /v1 routes share: they validate input, serialise output and make the OpenAPI document. */
import { MESSAGE_STATES } from '../domain/message-state.js';
import { CARRIER_IDS } from '../domain/carrier.js';
import { API_ROLES } from '../domain/api-key.js';
import { CAMPAIGN_PRIORITIES, RUN_STATES } from '../store/database.js';

export const errorBody = {
  type: 'object',
  properties: {
    error: { type: 'string', description: 'stable machine-readable code' },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'JSON path of the field (e.g. message.sender.vnpt)' },
          message: { type: 'string' },
          line: { type: 'integer', description: 'line in the YAML/JSON text sent, when known' },
          column: { type: 'integer' },
        },
      },
    },
  },
} as const;

/** The 4xx answers every authenticated route may give. */
export const authErrors = { 401: errorBody, 403: errorBody } as const;

/** Every /v1 route: `Authorization: Bearer <API key>`. */
export const bearer = [{ apiKey: [] }];

export const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const roleSchema = { type: 'string', enum: [...API_ROLES] } as const;
export const runStateSchema = { type: 'string', enum: [...RUN_STATES] } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

export const runView = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    campaignId: { type: 'string' },
    campaignVersionId: { type: 'integer' },
    contentHash: { type: 'string' },
    occurrenceId: { type: 'string' },
    state: runStateSchema,
    priority: { type: 'string', enum: [...CAMPAIGN_PRIORITIES] },
    testList: { type: ['string', 'null'] },
    audienceSize: { type: ['integer', 'null'] },
    scheduledFor: isoTime,
    startedAt: nullableTime,
    finishedAt: nullableTime,
    expiresAt: nullableTime,
    launchedBy: { type: 'string' },
    error: { type: ['string', 'null'] },
    createdAt: isoTime,
  },
} as const;

const stateCounts = {
  type: 'object',
  description: 'messages per state',
  properties: Object.fromEntries(MESSAGE_STATES.map((state) => [state, { type: 'integer' }])),
} as const;

export const runStatus = {
  type: 'object',
  properties: {
    runId: { type: 'integer' },
    campaignId: { type: 'string' },
    campaignVersionId: { type: 'integer' },
    contentHash: { type: 'string' },
    state: runStateSchema,
    priority: { type: 'string', enum: [...CAMPAIGN_PRIORITIES] },
    error: { type: ['string', 'null'], description: 'why the run is paused, cancelled or failed' },
    pausedReason: { type: ['string', 'null'], description: "who paused it: 'operator', 'quiet-hours' (resumes when they end), 'auto' (the submit path: a person resumes it) or 'auto:no-bind:<carrier>' (no bind for LOA_NO_BIND_PAUSE_MS; resumes once a worker binds again)" },
    audienceSize: { type: ['integer', 'null'] },
    scheduledFor: isoTime,
    startedAt: nullableTime,
    finishedAt: nullableTime,
    expiresAt: nullableTime,
    carriers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          carrier: { type: 'string', enum: [...CARRIER_IDS] },
          total: { type: 'integer' },
          counts: stateCounts,
          submitRate: { type: 'number', description: 'segments/s over the last 10 s' },
          etaSeconds: { type: ['number', 'null'] },
        },
      },
    },
    unroutable: { type: 'integer' },
    totals: stateCounts,
    communes: {
      type: 'array',
      items: {
        type: 'object',
        properties: { province: { type: ['string', 'null'] }, commune: { type: ['string', 'null'] }, counts: stateCounts },
      },
    },
    screens: {
      type: 'object',
      description: 'proof of play: this run’s plays and seconds on screen per screen, and the campaign’s plays over all its runs',
      properties: {
        plays: { type: 'integer' },
        seconds: { type: 'number' },
        campaignPlays: { type: 'integer' },
        byScreen: { type: 'array', items: { type: 'object', properties: { screenId: { type: 'string' }, plays: { type: 'integer' }, seconds: { type: 'number' } } } },
      },
    },
    loudspeakers: {
      type: 'object',
      description: 'proof of broadcast on commune loudspeakers: broadcasts and minutes (summed play lengths) per commune',
      properties: {
        broadcasts: { type: 'integer' },
        minutes: { type: 'number' },
        byCommune: {
          type: 'array',
          items: { type: 'object', properties: { province: { type: ['string', 'null'] }, commune: { type: ['string', 'null'] }, broadcasts: { type: 'integer' }, minutes: { type: 'number' } } },
        },
      },
    },
    asOf: { ...isoTime, description: 'when these counts were read: late receipts may still move ambiguous/unknown' },
  },
} as const;

/** The answer of POST /v1/runs/:id/pause|resume|cancel. */
export const runControlView = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    state: runStateSchema,
    pausedReason: { type: ['string', 'null'] },
    error: { type: ['string', 'null'] },
  },
} as const;
