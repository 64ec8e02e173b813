import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../../errors.js';
import { loadCampaign, type CampaignInput, type CampaignService } from '../../services/campaigns.service.js';
import type { LaunchService } from '../../services/launch.service.js';
import { principalOf } from '../auth.js';
import { actor } from './actor.js';
import { authErrors, bearer, errorBody, isoTime, runView } from '../schemas.js';

/** YAML media types (RFC 9512 and the older ones editors and curl users send). */
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
/** The largest campaign in campaigns/ is 3 KB; a message is at most a few SMS parts. */
const CAMPAIGN_BODY_LIMIT = 256 * 1024;

const campaignBody = {
  content: {
    'application/json': { schema: { type: 'object', description: 'a campaign document (campaigns/campaign.schema.json)' } },
    ...Object.fromEntries(YAML_TYPES.map((type) => [type, { schema: { type: 'string', description: 'a campaign file as YAML; errors name line:column' } }])),
  },
} as const;

const versionView = {
  type: 'object',
  properties: { id: { type: 'integer' }, contentHash: { type: 'string' }, createdAt: isoTime, createdBy: { type: 'string' } },
} as const;

const campaignView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    archived: { type: 'boolean' },
    createdAt: isoTime,
    latestVersion: {
      type: ['object', 'null'],
      properties: { ...versionView.properties, document: { type: 'object', additionalProperties: true } },
    },
  },
} as const;

const savedCampaign = {
  type: 'object',
  properties: { campaign: campaignView, version: versionView, versionCreated: { type: 'boolean' }, campaignCreated: { type: 'boolean' } },
} as const;

const campaignParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$' } },
} as const;

const launchBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    versionId: { type: 'integer', minimum: 1, description: 'the version to launch; default the latest' },
    now: { type: 'boolean', description: 'start now even inside the quiet hours (audited)' },
    test: { type: 'string', minLength: 1, maxLength: 100, description: 'send to this list only' },
  },
} as const;

const launchResult = {
  type: 'object',
  properties: {
    run: runView,
    created: { type: 'boolean', description: 'false: this Idempotency-Key had launched the run already' },
    deferred: { type: 'boolean', description: 'the run waits for the end of the quiet hours (run.scheduledFor)' },
    quietHours: {
      type: ['object', 'null'],
      properties: { from: { type: 'string' }, to: { type: 'string' }, timeZone: { type: 'string' } },
    },
    quietHoursOverridden: { type: 'boolean' },
  },
} as const;

/** The body as the loader takes it: YAML text keeps line:column; a JSON body is already parsed. */
function campaignInput(request: FastifyRequest): CampaignInput {
  const body = request.body;
  if (typeof body === 'string') return { text: body };
  if (body !== null && typeof body === 'object') return { document: body };
  throw new ValidationError('send a campaign document as application/json or application/yaml', [{ path: '(document)', message: 'is missing' }]);
}

export function campaignRoutes(campaigns: CampaignService, launches: LaunchService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const viewer = app.requireRole('viewer');
    const operator = app.requireRole('operator');
    const tags = ['campaigns'];
    /** A key scoped to areas saves only campaigns inside them (parsed once more, for such keys only). */
    async function assertCanSave(request: FastifyRequest, input: CampaignInput, id?: string): Promise<void> {
      const principal = principalOf(request);
      if (!principal.scope) return;
      const campaign = loadCampaign(input);
      await app.scopes.assertCanSave(principal, id ?? campaign.id, campaign);
    }
    // The raw text, not a parsed object: parseCampaign reports problems at line:column of what was sent.
    app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: CAMPAIGN_BODY_LIMIT }, (_request, body, done) => done(null, body));

    app.post(
      '/campaigns',
      {
        onRequest: operator,
        bodyLimit: CAMPAIGN_BODY_LIMIT,
        schema: { summary: 'Create a campaign from a YAML or JSON document', tags, security: bearer, body: campaignBody, response: { 201: savedCampaign, 400: errorBody, ...authErrors, 409: errorBody } },
      },
      async (request, reply) => {
        const input = campaignInput(request);
        await assertCanSave(request, input);
        return reply.status(201).send(await campaigns.create(input, actor(request)));
      },
    );

    app.put<{ Params: { id: string } }>(
      '/campaigns/:id',
      {
        onRequest: operator,
        bodyLimit: CAMPAIGN_BODY_LIMIT,
        schema: {
          summary: 'Create or update a campaign: a changed document is a new immutable version (by content hash)',
          tags,
          security: bearer,
          params: campaignParams,
          body: campaignBody,
          response: { 200: savedCampaign, 201: savedCampaign, 400: errorBody, ...authErrors },
        },
      },
      async (request, reply) => {
        const input = campaignInput(request);
        await assertCanSave(request, input, request.params.id);
        const saved = await campaigns.put(request.params.id, input, actor(request));
        return reply.status(saved.campaignCreated ? 201 : 200).send(saved);
      },
    );

    app.get<{ Querystring: { archived?: boolean } }>(
      '/campaigns',
      {
        onRequest: viewer,
        schema: {
          summary: 'List campaigns with their latest version',
          tags,
          security: bearer,
          querystring: { type: 'object', additionalProperties: false, properties: { archived: { type: 'boolean', default: false } } },
          response: { 200: { type: 'array', items: campaignView }, 400: errorBody, ...authErrors },
        },
      },
      async (request) => app.scopes.filterCampaigns(principalOf(request), await campaigns.list({ includeArchived: request.query.archived === true })),
    );

    app.get<{ Params: { id: string } }>(
      '/campaigns/:id',
      { onRequest: viewer, schema: { summary: 'A campaign with its latest version (document and content hash)', tags, security: bearer, params: campaignParams, response: { 200: campaignView, 400: errorBody, ...authErrors, 404: errorBody } } },
      async (request) => {
        await app.scopes.assertCampaignVisible(principalOf(request), request.params.id);
        return campaigns.get(request.params.id);
      },
    );

    app.post<{ Params: { id: string }; Body: { versionId?: number; now?: boolean; test?: string } | null; Headers: { 'idempotency-key'?: string } }>(
      '/campaigns/:id/launch',
      {
        onRequest: operator,
        schema: {
          summary: 'Launch a campaign: creates a run and starts it, or schedules it for the end of the quiet hours',
          description: 'Send an Idempotency-Key header: a retried request with the same key returns the same run (201 first, 200 after).',
          tags,
          security: bearer,
          params: campaignParams,
          headers: {
            type: 'object',
            properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' } },
          },
          body: launchBody,
          response: { 200: launchResult, 201: launchResult, 400: errorBody, ...authErrors, 404: errorBody },
        },
      },
      async (request, reply) => {
        const body = request.body ?? {};
        await app.scopes.assertCanLaunch(principalOf(request), {
          campaignId: request.params.id,
          ...(body.versionId !== undefined ? { versionId: body.versionId } : {}),
          ...(body.test !== undefined ? { testList: body.test } : {}),
        });
        const result = await launches.launch(
          {
            campaignId: request.params.id,
            ...(body.versionId !== undefined ? { versionId: body.versionId } : {}),
            ...(request.headers['idempotency-key'] !== undefined ? { idempotencyKey: request.headers['idempotency-key'] } : {}),
            ...(body.now !== undefined ? { now: body.now } : {}),
            ...(body.test !== undefined ? { testList: body.test } : {}),
          },
          actor(request),
        );
        return reply.status(result.created ? 201 : 200).send(result);
      },
    );
  };
}
