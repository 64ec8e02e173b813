import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { normalizeMsisdn } from '../../domain/msisdn.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import type { AudienceRepository } from '../../store/audience.repository.js';
import { AudienceImporter, limitBytes, PayloadTooLargeError } from '../audience-import.js';
import { actorOf, principalOf } from '../auth.js';
import { authErrors, bearer, errorBody } from '../schemas.js';

export interface AudienceRoutesOptions {
  /** Writes each change's audit entry in the change's own transaction. */
  audience: AudienceRepository;
  /** Largest import body accepted (LOA_IMPORT_MAX_BYTES); a larger one is answered 413. */
  maxImportBytes: number;
}

/** Content types an import body may have; every one is read as CSV, streamed. */
const CSV_TYPES = ['text/csv', 'text/plain', 'application/csv', 'application/octet-stream', 'text/tab-separated-values'];
const LIST_ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 100 } as const;

const rejectedLine = {
  type: 'object',
  properties: { line: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' }, value: { type: 'string', description: 'the number as written, when it is what was wrong' } },
} as const;

const importReport = {
  rows: { type: 'integer', description: 'data rows read (header and empty lines not counted)' },
  loaded: { type: 'integer', description: 'good rows loaded, repeats of a number included' },
  rejected: { type: 'integer' },
  duplicates: { type: 'integer', description: 'good rows repeating a number earlier in the file (the last one wins)' },
  inserted: { type: 'integer' },
  updated: { type: 'integer' },
  unchanged: { type: 'integer' },
  removed: { type: 'integer', description: 'with replace: rows no longer in the file, deleted' },
  rejectedByReason: { type: 'object', additionalProperties: { type: 'integer' } },
  rejectedLines: { type: 'array', items: rejectedLine, description: 'the first rejected lines, in file order' },
  delimiter: { enum: ['comma', 'semicolon', 'tab'] },
  columns: { type: 'object', additionalProperties: { type: 'string' }, description: 'header cell each known column was read from' },
  attributes: { type: 'array', items: { type: 'string' } },
} as const;

/** Import bodies are not described by a body schema: ajv would try to validate the stream. */
const CSV_BODY = ' The body is the CSV itself (Content-Type: text/csv; UTF-8, optional BOM; `,`, `;` or tab as separator, taken from the first line), streamed.';

const errorResponse = errorBody;
const errors = { 400: errorBody, ...authErrors, 413: errorBody } as const;

/** The request body as a stream, refused up front when Content-Length already says it is too large. */
function bodyOf(request: FastifyRequest, limit: number): AsyncIterable<Buffer> {
  const length = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(length) && length > limit) throw new PayloadTooLargeError(limit);
  const body = request.body as IncomingMessage | undefined;
  if (!body || typeof (body as { pipe?: unknown }).pipe !== 'function') throw new ValidationError('send the CSV as the request body (Content-Type: text/csv)');
  // Not destroyed when the import stops early (a bad header, the size limit): destroying the
  // request would close the socket before the client reads why.
  return limitBytes(body.iterator({ destroyOnReturn: false }), limit);
}

/**
 * Subscriber lists, the opt-out register and the portability table, registered under /v1 (where
 * the app's auth plugin decorates requireRole): CSV imports (streamed, size limited), listing and
 * deletion. Keys are checked on request, before any byte of a body is read. Reads need a viewer key, changes an operator key; every change
 * is in the audit log with who did it.
 */
export async function audienceRoutes(app: FastifyInstance, options: AudienceRoutesOptions): Promise<void> {
  const importer = new AudienceImporter(options.audience);
  // Lists, the opt-out register and portability serve every campaign of the department: a key
  // scoped to areas reads the lists inside them but changes none of these (AreaScopeService).
  const departmentWide = async (request: FastifyRequest) => app.scopes.assertUnscoped(principalOf(request), 'changing lists, opt-outs or portability');

  // Import bodies are streams: fastify's own parsers (and its bodyLimit) never buffer them.
  app.removeContentTypeParser(['text/plain']);
  app.addContentTypeParser(CSV_TYPES, (_request, payload, done) => done(null, payload));

  app.get(
    '/lists',
    {
      onRequest: app.requireRole('viewer'),
      schema: {
        summary: 'Subscriber lists with how many subscribers each holds',
        tags: ['audience'],
        security: bearer,
        response: {
          200: {
            type: 'object',
            properties: {
              lists: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, subscribers: { type: 'integer' } } },
              },
              optOuts: { type: 'integer', description: 'numbers in the opt-out register (subtracted from every campaign)' },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => ({ lists: await app.scopes.filterLists(principalOf(request), await options.audience.listLists()), optOuts: await options.audience.countOptOuts() }),
  );

  app.post<{ Params: { id: string }; Querystring: { replace?: boolean; name?: string } }>(
    '/lists/:id/import',
    {
      onRequest: [app.requireRole('operator'), departmentWide],
      schema: {
        summary: 'Import subscribers from CSV (msisdn, optional province and commune, other columns as attributes) into a list, creating it',
        description:
          `Header required; Vietnamese names accepted (số điện thoại/sđt, tỉnh, xã/phường). Good rows load while bad ones are counted by reason and the first listed by line. Re-importing the same file changes nothing; replace=true removes numbers that are no longer in the file.${CSV_BODY}`,
        tags: ['audience'],
        security: bearer,
        params: { type: 'object', required: ['id'], properties: { id: LIST_ID } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { replace: { type: 'boolean', default: false }, name: { type: 'string', minLength: 1, maxLength: 200, description: 'list name (default: its id, or the name it has)' } },
        },
        response: {
          200: {
            type: 'object',
            properties: { list: { type: 'object', properties: { id: { type: 'string' }, subscribers: { type: 'integer' } } }, ...importReport },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const replace = request.query.replace ?? false;
      return importer.importList(request.params.id, bodyOf(request, options.maxImportBytes), {
        name: request.query.name,
        replace,
        // Written in the import's transaction: an import is never without its audit entry.
        audit: (result) => ({
          actor: actorOf(request.principal!),
          action: 'list.import',
          subject: `list:${request.params.id}`,
          details: { rows: result.rows, loaded: result.loaded, rejected: result.rejected, inserted: result.inserted, updated: result.updated, removed: result.removed, replace, subscribers: result.list.subscribers },
        }),
      });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/lists/:id',
    {
      onRequest: [app.requireRole('operator'), departmentWide],
      schema: {
        summary: 'Delete a list and its subscribers',
        tags: ['audience'],
        security: bearer,
        params: { type: 'object', required: ['id'], properties: { id: LIST_ID } },
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' }, subscribers: { type: 'integer' } } }, 404: errorResponse, ...errors },
      },
    },
    async (request) => {
      const subscribers = await options.audience.deleteList(request.params.id, (outcome) => ({
        actor: actorOf(request.principal!),
        action: 'list.delete',
        subject: `list:${request.params.id}`,
        details: { subscribers: outcome.subscribers },
      }));
      if (subscribers === undefined) throw new NotFoundError(`list ${request.params.id}`);
      return { id: request.params.id, deleted: true, subscribers };
    },
  );

  app.post(
    '/optouts/import',
    {
      onRequest: [app.requireRole('operator'), departmentWide],
      schema: {
        summary: 'Add numbers to the opt-out register from CSV (msisdn[,reason], header optional); it applies to every campaign',
        description: `Numbers already there keep their reason unless the file gives one.${CSV_BODY}`,
        tags: ['audience'],
        security: bearer,
        response: { 200: { type: 'object', properties: { optOuts: { type: 'integer' }, ...importReport } }, ...errors },
      },
    },
    async (request) => {
      return importer.importOptOuts(bodyOf(request, options.maxImportBytes), {
        audit: (result) => ({
          actor: actorOf(request.principal!),
          action: 'opt-out.import',
          subject: 'opt-outs',
          details: { rows: result.rows, loaded: result.loaded, rejected: result.rejected, inserted: result.inserted, updated: result.updated, optOuts: result.optOuts },
        }),
      });
    },
  );

  app.delete<{ Params: { msisdn: string } }>(
    '/optouts/:msisdn',
    {
      onRequest: [app.requireRole('operator'), departmentWide],
      schema: {
        summary: 'Remove one number from the opt-out register (any written form of the number)',
        tags: ['audience'],
        security: bearer,
        params: { type: 'object', required: ['msisdn'], properties: { msisdn: { type: 'string', minLength: 1, maxLength: 40 } } },
        response: { 200: { type: 'object', properties: { msisdn: { type: 'string' }, removed: { type: 'boolean' } } }, 404: errorResponse, ...errors },
      },
    },
    async (request) => {
      const number = normalizeMsisdn(request.params.msisdn);
      if (!number.ok) throw new ValidationError(`'${request.params.msisdn}': ${number.message}`, [{ path: 'params.msisdn', message: number.message }]);
      const removed = await options.audience.removeOptOut(number.msisdn, (outcome) => ({
        actor: actorOf(request.principal!),
        action: 'opt-out.remove',
        subject: 'opt-outs',
        details: { msisdn: outcome.msisdn },
      }));
      if (!removed) throw new NotFoundError(`opt-out for ${number.msisdn}`);
      return { msisdn: number.msisdn, removed: true };
    },
  );

  app.post<{ Querystring: { replace?: boolean } }>(
    '/portability/import',
    {
      onRequest: [app.requireRole('operator'), departmentWide],
      schema: {
        summary: 'Load number-portability entries from CSV (msisdn,carrier; header optional)',
        description: `Carrier names such as Vinaphone, VMS, Viettel Telecom are understood; a row with a name we do not know is refused on its line.${CSV_BODY}`,
        tags: ['audience'],
        security: bearer,
        querystring: { type: 'object', additionalProperties: false, properties: { replace: { type: 'boolean', default: false, description: 'make the table exactly the file' } } },
        response: { 200: { type: 'object', properties: { entries: { type: 'integer' }, ...importReport } }, ...errors },
      },
    },
    async (request) => {
      return importer.importPortability(bodyOf(request, options.maxImportBytes), {
        replace: request.query.replace ?? false,
        audit: (result) => ({
          actor: actorOf(request.principal!),
          action: 'portability.import',
          subject: 'portability',
          details: { rows: result.rows, loaded: result.loaded, rejected: result.rejected, inserted: result.inserted, updated: result.updated, removed: result.removed, entries: result.entries },
        }),
      });
    },
  );
}
