import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sql, type Kysely } from 'kysely';
import { CARRIER_PROFILES } from '../../../adapters/carriers/index.js';
import { AudiencePreview, type PreviewReport } from '../../domain/audience-preview.js';
import { validateCampaign } from '../../domain/campaign.js';
import { Router } from '../../domain/routing.js';
import { NotFoundError } from '../../errors.js';
import type { CampaignService } from '../../services/campaigns.service.js';
import type { RunQueryService } from '../../services/runs.service.js';
import type { Database } from '../../store/database.js';
import { principalOf } from '../auth.js';
import { authErrors, bearer, errorBody, idParams } from '../schemas.js';

/** Where `npm run build` puts the console (scripts/build-console.mjs): dist/console at the repository root. */
export function findConsoleDirectory(fromUrl: string = import.meta.url): string | undefined {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = join(dir, 'dist', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The console's page and bundle under `/` (no CDN: everything it loads is in dist/console). */
export const consoleStatic = fp(async (app: FastifyInstance) => {
  const root = findConsoleDirectory();
  if (!root) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.status(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build` (scripts/build-console.mjs).\n'),
    );
    return;
  }
  await app.register(fastifyStatic, { root, prefix: '/', index: ['index.html'], wildcard: false, cacheControl: false, decorateReply: false });
});

const ROW_BATCH = 10_000;

/**
 * Reach and cost of a stored campaign (its latest version) over the lists in the database:
 * recipients and segments per carrier, excluded, unroutable, ETA. The same AudiencePreview as
 * `loa preview` on files, fed from the subscribers table (opt-outs and exclude lists removed,
 * portability applied). TPS: each carrier profile's default (the service's grants are not here).
 */
export class ReachPreview {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly campaigns: CampaignService,
  ) {}

  async errors(runId: number): Promise<RunErrorCount[]> {
    return runErrors(this.db, runId);
  }

  async breakdown(listId: string): Promise<ListBreakdown> {
    return listBreakdown(this.db, listId);
  }

  async preview(campaignId: string): Promise<PreviewReport & { optedOut: number; excluded: number }> {
    const view = await this.campaigns.get(campaignId);
    if (!view.latestVersion) throw new NotFoundError(`campaign ${campaignId}'s version`);
    const campaign = validateCampaign(view.latestVersion.document);
    const ported = new Map<string, string>();
    const preview = new AudiencePreview({ campaign, profiles: CARRIER_PROFILES, router: new Router(CARRIER_PROFILES, (msisdn) => ported.get(msisdn)) });
    const { lists, exclude, ignoreOptOuts } = campaign.audience;
    let optedOut = 0;
    let excluded = 0;
    let line = 1;
    let after = '';
    for (;;) {
      const { rows } = await sql<{ msisdn: string; province: string | null; commune: string | null; carrier: string | null; opted_out: boolean; excluded: boolean }>`
        SELECT DISTINCT ON (s.msisdn) s.msisdn, s.province, s.commune, p.carrier,
          EXISTS (SELECT 1 FROM opt_outs o WHERE o.msisdn = s.msisdn) AS opted_out,
          EXISTS (SELECT 1 FROM subscribers x WHERE x.list_id = ANY(${exclude}::text[]) AND x.msisdn = s.msisdn) AS excluded
        FROM subscribers s LEFT JOIN portability p ON p.msisdn = s.msisdn
        WHERE s.list_id = ANY(${lists}::text[]) AND s.msisdn > ${after}
        ORDER BY s.msisdn LIMIT ${ROW_BATCH}`.execute(this.db);
      if (rows.length === 0) break;
      ported.clear();
      for (const row of rows) {
        line += 1;
        if (row.excluded) excluded += 1;
        else if (row.opted_out && !ignoreOptOuts) optedOut += 1;
        else {
          if (row.carrier) ported.set(row.msisdn, row.carrier);
          preview.add(line, row.msisdn, row.province ?? '', row.commune ?? '');
        }
      }
      after = rows[rows.length - 1]!.msisdn;
    }
    return { ...preview.report(), optedOut, excluded };
  }
}

export interface ListBreakdown {
  listId: string;
  subscribers: number;
  optedOut: number;
  ported: number;
  /** viettel, vnpt, mobifone, and other networks under their names. */
  carriers: Record<string, number>;
  /** The largest areas first (at most COMMUNES_SHOWN). */
  communes: Array<{ province: string | null; commune: string | null; subscribers: number }>;
}

const COMMUNES_SHOWN = 200;
const ERRORS_SHOWN = 50;

export interface RunErrorCount {
  carrier: string | null;
  /** A submit_sm refused by the SMSC: its command_status, with the carrier profile's meaning. */
  submitStatus: number | null;
  /** A delivery receipt's error code, as the carrier sent it. */
  errorCode: string | null;
  state: string;
  count: number;
  name: string | null;
  description: string | null;
}

/** A run's failures grouped by carrier and error, most frequent first, with what each SMPP status means. */
export async function runErrors(db: Kysely<Database>, runId: number): Promise<RunErrorCount[]> {
  const { rows } = await sql<{ carrier: string | null; submit_status: number | null; error_code: string | null; state: string; count: number }>`
    SELECT carrier, submit_status, error_code, state, count(*)::int AS count FROM messages
    WHERE run_id = ${runId} AND (submit_status IS NOT NULL OR error_code IS NOT NULL)
    GROUP BY carrier, submit_status, error_code, state ORDER BY count DESC LIMIT ${ERRORS_SHOWN}`.execute(db);
  return rows.map((row) => {
    const profile = row.carrier && row.carrier in CARRIER_PROFILES ? CARRIER_PROFILES[row.carrier as keyof typeof CARRIER_PROFILES] : undefined;
    const meaning = profile && row.submit_status !== null ? profile.errorMeaning(row.submit_status) : undefined;
    return { carrier: row.carrier, submitStatus: row.submit_status, errorCode: row.error_code, state: row.state, count: row.count, name: meaning?.name ?? null, description: meaning?.description ?? null };
  });
}

/** Who is in a list: per carrier (routed as the engine will, portability applied) and per commune. */
export async function listBreakdown(db: Kysely<Database>, listId: string): Promise<ListBreakdown> {
  const found = await db.selectFrom('lists').select('id').where('id', '=', listId).executeTakeFirst();
  if (!found) throw new NotFoundError(`list ${listId}`);
  const ported = new Map<string, string>();
  const router = new Router(CARRIER_PROFILES, (msisdn) => ported.get(msisdn));
  const carriers: Record<string, number> = { viettel: 0, vnpt: 0, mobifone: 0 };
  let subscribers = 0;
  let optedOut = 0;
  let portedCount = 0;
  let after = '';
  for (;;) {
    const { rows } = await sql<{ msisdn: string; carrier: string | null; opted_out: boolean }>`
      SELECT s.msisdn, p.carrier, EXISTS (SELECT 1 FROM opt_outs o WHERE o.msisdn = s.msisdn) AS opted_out
      FROM subscribers s LEFT JOIN portability p ON p.msisdn = s.msisdn
      WHERE s.list_id = ${listId} AND s.msisdn > ${after}
      ORDER BY s.msisdn LIMIT ${ROW_BATCH}`.execute(db);
    if (rows.length === 0) break;
    ported.clear();
    for (const row of rows) {
      subscribers += 1;
      if (row.opted_out) optedOut += 1;
      if (row.carrier) ported.set(row.msisdn, row.carrier);
      const route = router.route(row.msisdn);
      if (route.ported) portedCount += 1;
      const name = route.unroutable ? route.carrierName : route.carrier;
      carriers[name] = (carriers[name] ?? 0) + 1;
    }
    after = rows[rows.length - 1]!.msisdn;
  }
  const { rows: communes } = await sql<{ province: string | null; commune: string | null; subscribers: number }>`
    SELECT province, commune, count(*)::int AS subscribers FROM subscribers WHERE list_id = ${listId}
    GROUP BY province, commune ORDER BY subscribers DESC, province, commune LIMIT ${COMMUNES_SHOWN}`.execute(db);
  return { listId, subscribers, optedOut, ported: portedCount, carriers, communes };
}

const carrierPreview = {
  type: 'object',
  properties: {
    carrier: { type: 'string' },
    sends: { type: 'boolean' },
    recipients: { type: 'integer' },
    ported: { type: 'integer' },
    sender: { type: ['string', 'null'] },
    encoding: { type: 'string' },
    text: { type: 'string' },
    stripped: { type: 'boolean' },
    replaced: { type: 'array', items: { type: 'string' } },
    partsPerMessage: { type: 'integer' },
    segments: { type: 'integer' },
    tps: { type: 'number' },
    etaSeconds: { type: 'number' },
  },
} as const;

const reachView = {
  type: 'object',
  properties: {
    campaignId: { type: 'string' },
    recipients: { type: 'integer' },
    segments: { type: 'integer', description: 'SMS billed: parts × recipients, all carriers' },
    etaSeconds: { type: 'number' },
    optedOut: { type: 'integer' },
    excluded: { type: 'integer', description: 'in an exclude list' },
    outsideArea: { type: 'integer' },
    invalidTotal: { type: 'integer' },
    unroutable: { type: 'object', additionalProperties: { type: 'integer' } },
    unroutableTotal: { type: 'integer' },
    carriers: { type: 'array', items: carrierPreview },
    notes: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
  },
} as const;

const FINAL_RUN_STATES = new Set(['completed', 'cancelled', 'failed']);
/** Twice a second, on a fixed cadence: the dashboard must change at least once a second while a run sends. */
const EVENT_INTERVAL_MS = 500;

/** The routes the console needs that the other resources did not have: reach preview and live run progress. */
export function consoleRoutes(reach: ReachPreview, runs: RunQueryService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const viewer = app.requireRole('viewer');
    const security = bearer;

    app.post<{ Params: { id: string } }>(
      '/campaigns/:id/preview',
      {
        onRequest: viewer,
        schema: {
          summary: 'Reach and cost of a stored campaign over the stored lists: recipients and segments per carrier, excluded, unroutable, ETA',
          tags: ['campaigns'],
          security,
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$' } } },
          response: { 200: reachView, 400: errorBody, ...authErrors, 404: errorBody },
        },
      },
      async (request) => {
        await app.scopes.assertCampaignVisible(principalOf(request), request.params.id);
        return reach.preview(request.params.id);
      },
    );

    app.get<{ Params: { id: string } }>(
      '/lists/:id/breakdown',
      {
        onRequest: viewer,
        schema: {
          summary: 'Who is in a list: subscribers per carrier (routed with portability, as the engine will) and per commune, opted out, ported',
          tags: ['audience'],
          security,
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 100 } } },
          response: {
            200: {
              type: 'object',
              properties: {
                listId: { type: 'string' },
                subscribers: { type: 'integer' },
                optedOut: { type: 'integer' },
                ported: { type: 'integer' },
                carriers: { type: 'object', additionalProperties: { type: 'integer' } },
                communes: { type: 'array', items: { type: 'object', properties: { province: { type: ['string', 'null'] }, commune: { type: ['string', 'null'] }, subscribers: { type: 'integer' } } } },
              },
            },
            400: errorBody,
            ...authErrors,
            404: errorBody,
          },
        },
      },
      async (request) => {
        // A scoped key sees a list only when none of its subscribers lies outside its areas (GET /v1/lists).
        if ((await app.scopes.filterLists(principalOf(request), [{ id: request.params.id }])).length === 0) throw new NotFoundError(`list '${request.params.id}'`);
        return reach.breakdown(request.params.id);
      },
    );

    app.get<{ Params: { id: number } }>(
      '/runs/:id/errors',
      {
        onRequest: viewer,
        schema: {
          summary: 'A run’s failures by carrier and error code (refused submit_sm statuses with their meaning, receipt error codes), most frequent first',
          tags: ['runs'],
          security,
          params: idParams,
          response: {
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  carrier: { type: ['string', 'null'] },
                  submitStatus: { type: ['integer', 'null'] },
                  errorCode: { type: ['string', 'null'] },
                  state: { type: 'string' },
                  count: { type: 'integer' },
                  name: { type: ['string', 'null'] },
                  description: { type: ['string', 'null'] },
                },
              },
            },
            400: errorBody,
            ...authErrors,
            404: errorBody,
          },
        },
      },
      async (request) => {
        await app.scopes.assertRunVisible(principalOf(request), request.params.id);
        await runs.get(request.params.id);
        return reach.errors(request.params.id);
      },
    );

    app.get<{ Params: { id: number } }>(
      '/runs/:id/events',
      {
        onRequest: viewer,
        schema: {
          summary: 'A run’s progress as server-sent events: one `status` event (the GET /v1/runs/:id body) every half second until the run is final',
          tags: ['runs'],
          security,
          params: idParams,
          response: { 200: { type: 'string', description: 'text/event-stream' }, 400: errorBody, ...authErrors, 404: errorBody },
        },
      },
      async (request, reply) => {
        await app.scopes.assertRunVisible(principalOf(request), request.params.id);
        const first = await runs.get(request.params.id);
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        let closed = false;
        raw.on('close', () => (closed = true));
        let status = first;
        // Ticks from the start, so the time a status read takes does not stretch the period.
        let next = Date.now();
        for (;;) {
          raw.write(`event: status\ndata: ${JSON.stringify(status)}\n\n`);
          if (FINAL_RUN_STATES.has(status.state) || closed) break;
          next += EVENT_INTERVAL_MS;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
          if (closed) break;
          try {
            status = await runs.get(request.params.id);
          } catch (error) {
            request.log.warn({ err: error, runId: request.params.id }, 'run events: status read failed');
            break;
          }
        }
        raw.end();
      },
    );
  };
}
