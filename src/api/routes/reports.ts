import type { FastifyInstance, FastifyReply } from 'fastify';
import { LANGUAGES, type Language } from '../../i18n/index.js';
import { REPORT_FORMATS, type ReportFormat } from '../../reports/render.js';
import type { ReportService } from '../../reports/reports.service.js';
import { authErrors, bearer, errorBody, idParams, isoTime } from '../schemas.js';
import { actor } from './actor.js';
import { principalOf } from '../auth.js';

const CHANNELS = ['web', 'newspaper', 'radio', 'television', 'loudspeaker', 'screen', 'other'] as const;
/** Text PostgreSQL can store: no NUL character (it would be a 500 from the driver, not a 400). */
const NO_NUL = '^[^\\u0000]*$';
const day = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, Vietnam time' } as const;
const area = { type: 'string', maxLength: 80, description: 'all (default), a province code, province:<code> or group:<id>' } as const;
const renderQuery = {
  format: { type: 'string', enum: [...REPORT_FORMATS], default: 'json' },
  lang: { type: 'string', enum: [...LANGUAGES], default: 'vi', description: 'language of the HTML and CSV (JSON keys stay English)' },
} as const;

/** JSON, CSV or HTML: documented per content type; JSON is the report object of src/reports. */
function reportResponse(description: string) {
  return {
    description,
    content: {
      'application/json': { schema: { type: 'object', additionalProperties: true } },
      'text/csv': { schema: { type: 'string' } },
      'text/html': { schema: { type: 'string' } },
    },
  };
}

const entryView = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    day: { type: 'string' },
    area: { type: 'string' },
    channel: { type: 'string', enum: [...CHANNELS] },
    count: { type: 'integer' },
    minutes: { type: ['number', 'null'] },
    text: { type: 'string' },
    createdBy: { type: 'string' },
    createdAt: isoTime,
  },
} as const;

const groupId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64 } as const;
const nullableText = { type: ['string', 'null'], maxLength: 200, pattern: NO_NUL } as const;
const groupView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    province: { type: ['string', 'null'] },
    communes: { type: 'array', items: { type: 'string' } },
    organisation: { type: ['string', 'null'] },
    compilerName: { type: ['string', 'null'] },
    compilerPhone: { type: ['string', 'null'] },
  },
} as const;

interface GroupBody {
  name: string;
  province?: string | null;
  communes: string[];
  organisation?: string | null;
  compilerName?: string | null;
  compilerPhone?: string | null;
}

function send(reply: FastifyReply, rendered: { contentType: string; body: string }): FastifyReply {
  return reply.type(rendered.contentType).send(rendered.body);
}

/** Reports under /v1/reports (issue 12): run report, daily quick report, manual entries, area groups. */
export function reportRoutes(reports: ReportService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['reports'];
    const viewer = app.requireRole('viewer');
    const operator = app.requireRole('operator');
    const admin = app.requireRole('admin');

    app.get<{ Params: { id: number }; Querystring: { format: ReportFormat; lang: Language } }>(
      '/reports/runs/:id',
      {
        onRequest: viewer,
        schema: {
          summary: 'A run report: carrier × state, area × state, delivery rate, timeline, error codes, cost, screens',
          tags,
          security: bearer,
          params: idParams,
          querystring: { type: 'object', additionalProperties: false, properties: renderQuery },
          response: { 200: reportResponse('the run report'), 400: errorBody, ...authErrors, 404: errorBody },
        },
      },
      async (request, reply) => {
        await app.scopes.assertRunVisible(principalOf(request), request.params.id);
        return send(reply, reports.render(await reports.runReport(request.params.id), request.query.format, request.query.lang));
      },
    );

    app.get<{ Querystring: { date: string; area?: string; format: ReportFormat; lang: Language; compiler?: string; phone?: string } }>(
      '/reports/daily',
      {
        onRequest: viewer,
        schema: {
          summary: 'The daily quick report (Báo cáo nhanh) of a day and an area',
          tags,
          security: bearer,
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['date'],
            properties: { date: day, area, ...renderQuery, compiler: { type: 'string', minLength: 1, maxLength: 120, pattern: NO_NUL }, phone: { type: 'string', minLength: 1, maxLength: 40, pattern: NO_NUL } },
          },
          response: { 200: reportResponse('the daily report'), 400: errorBody, ...authErrors, 404: errorBody },
        },
      },
      async (request, reply) => {
        const { date, format, lang, compiler, phone } = request.query;
        await reports.assertAreaWithin(principalOf(request).scope, request.query.area);
        const report = await reports.dailyReport({ day: date, language: lang, ...(request.query.area !== undefined ? { area: request.query.area } : {}), ...(compiler ? { compilerName: compiler } : {}), ...(phone ? { compilerPhone: phone } : {}) });
        return send(reply, reports.render(report, format, lang));
      },
    );

    app.get<{ Querystring: { date: string; area?: string } }>(
      '/reports/entries',
      {
        onRequest: viewer,
        schema: {
          summary: 'Manual entries of a day and an area',
          tags,
          security: bearer,
          querystring: { type: 'object', additionalProperties: false, required: ['date'], properties: { date: day, area } },
          response: { 200: { type: 'array', items: entryView }, 400: errorBody, ...authErrors },
        },
      },
      async (request) => {
        await reports.assertAreaWithin(principalOf(request).scope, request.query.area);
        return reports.entries(request.query.date, request.query.area);
      },
    );

    app.post<{ Body: { date: string; area?: string; channel: string; count: number; minutes?: number; text: string } }>(
      '/reports/entries',
      {
        onRequest: operator,
        schema: {
          summary: 'Add a manual entry (a channel Loa does not send through) to a day’s report',
          tags,
          security: bearer,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['date', 'channel', 'count', 'text'],
            properties: {
              date: day,
              area,
              channel: { type: 'string', enum: [...CHANNELS] },
              count: { type: 'integer', minimum: 0, maximum: 1_000_000 },
              minutes: { type: 'number', minimum: 0, maximum: 1_000_000 },
              text: { type: 'string', minLength: 1, maxLength: 2000, pattern: NO_NUL },
            },
          },
          response: { 201: entryView, 400: errorBody, ...authErrors, 404: errorBody },
        },
      },
      async (request, reply) => {
        const { date, channel, count, minutes, text } = request.body;
        await reports.assertAreaWithin(principalOf(request).scope, request.body.area);
        const entry = await reports.addEntry({ day: date, channel, count, text, ...(request.body.area !== undefined ? { area: request.body.area } : {}), ...(minutes !== undefined ? { minutes } : {}) }, actor(request));
        return reply.status(201).send(entry);
      },
    );

    app.delete<{ Params: { id: number } }>(
      '/reports/entries/:id',
      { onRequest: operator, schema: { summary: 'Remove a manual entry', tags, security: bearer, params: idParams, response: { 204: { type: 'null' }, 400: errorBody, ...authErrors, 404: errorBody } } },
      async (request, reply) => {
        const scope = principalOf(request).scope;
        if (scope) await reports.assertAreaWithin(scope, await reports.entryArea(request.params.id));
        await reports.deleteEntry(request.params.id);
        return reply.status(204).send();
      },
    );

    app.get('/reports/areas', { onRequest: viewer, schema: { summary: 'Area groups (communes grouped, e.g. a former district)', tags, security: bearer, response: { 200: { type: 'array', items: groupView }, ...authErrors } } }, async (request) =>
      reports.groupsWithin(principalOf(request).scope),
    );

    app.put<{ Params: { id: string }; Body: GroupBody }>(
      '/reports/areas/:id',
      {
        onRequest: admin,
        schema: {
          summary: 'Create or replace an area group',
          tags,
          security: bearer,
          params: { type: 'object', required: ['id'], properties: { id: groupId } },
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'communes'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL },
              province: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_-]{1,32}$' },
              communes: { type: 'array', minItems: 1, maxItems: 5000, items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' } },
              organisation: nullableText,
              compilerName: nullableText,
              compilerPhone: { type: ['string', 'null'], maxLength: 40, pattern: NO_NUL },
            },
          },
          response: { 200: groupView, 201: groupView, 400: errorBody, ...authErrors, 409: errorBody },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const { group, created } = await reports.putGroup({
          id: request.params.id,
          name: body.name,
          province: body.province ?? null,
          communes: body.communes,
          organisation: body.organisation ?? null,
          compilerName: body.compilerName ?? null,
          compilerPhone: body.compilerPhone ?? null,
        });
        return reply.status(created ? 201 : 200).send(group);
      },
    );

    app.delete<{ Params: { id: string } }>(
      '/reports/areas/:id',
      { onRequest: admin, schema: { summary: 'Remove an area group', tags, security: bearer, params: { type: 'object', required: ['id'], properties: { id: groupId } }, response: { 204: { type: 'null' }, ...authErrors, 404: errorBody } } },
      async (request, reply) => {
        await reports.deleteGroup(request.params.id);
        return reply.status(204).send();
      },
    );
  };
}
