import type { FastifyInstance } from 'fastify';
import type { AuditRepository } from '../../store/audit.repository.js';
import { authErrors, bearer, errorBody, isoTime } from '../schemas.js';

const entryView = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: isoTime,
    actor: { type: 'string', description: '`key:<id>:<name>`, `cli:<user>`, `scheduler`, `engine`' },
    action: { type: 'string', description: 'e.g. campaign.launch, run.pause, api-key.create, list.import' },
    subject: { type: 'string', description: 'e.g. campaign:<id>, run:<id>, api-key:<id>' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

interface AuditQuery {
  actor?: string;
  action?: string;
  campaign?: string;
  from?: string;
  to?: string;
  before?: number;
  limit: number;
}

/** GET /v1/audit (issue 12, item 5): who did what, for admins, newest first, paged by id. */
export function auditRoutes(audit: AuditRepository) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get<{ Querystring: AuditQuery }>(
      '/audit',
      {
        onRequest: app.requireRole('admin'),
        schema: {
          summary: 'The audit log, newest first: filter by actor, action, campaign and time; page with `before`',
          tags: ['audit'],
          security: bearer,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              actor: { type: 'string', minLength: 1, maxLength: 300, description: 'exactly, e.g. key:3:walkthrough' },
              action: { type: 'string', minLength: 1, maxLength: 100, description: 'exactly, e.g. campaign.launch' },
              campaign: { type: 'string', minLength: 1, maxLength: 64, description: 'the campaign’s entries and those of its runs' },
              from: { ...isoTime, description: 'at or after this time' },
              to: { ...isoTime, description: 'before this time' },
              before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the `next` of the previous page' },
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                entries: { type: 'array', items: entryView },
                next: { type: ['integer', 'null'], description: 'pass as `before` for the next page; null on the last one' },
              },
            },
            400: errorBody,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const { actor, action, campaign, from, to, before, limit } = request.query;
        const rows = await audit.search({
          limit,
          ...(actor !== undefined ? { actor } : {}),
          ...(action !== undefined ? { action } : {}),
          ...(campaign !== undefined ? { campaignId: campaign } : {}),
          ...(from !== undefined ? { from: new Date(from) } : {}),
          ...(to !== undefined ? { to: new Date(to) } : {}),
          ...(before !== undefined ? { before } : {}),
        });
        return {
          entries: rows.map((row) => ({ id: row.id, at: row.at.toISOString(), actor: row.actor, action: row.action, subject: row.subject, details: row.details })),
          next: rows.length === limit ? (rows.at(-1)?.id ?? null) : null,
        };
      },
    );
  };
}
