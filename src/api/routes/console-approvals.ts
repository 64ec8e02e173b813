import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sql, type Kysely } from 'kysely';
import { validateCampaign } from '../../domain/campaign.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import type { AuditRepository } from '../../store/audit.repository.js';
import type { Database } from '../../store/database.js';
import { authErrors, bearer, errorBody, idParams, isoTime } from '../schemas.js';
import { principalOf } from '../auth.js';
import { actor } from './actor.js';

/**
 * The approval rule (issue 13): when an admin has set one, a launch whose audience is above
 * `above` recipients needs another person's approval first. Enforced on the launch route itself
 * (a hook), so the API and the CLI obey it as the console does. An admin's urgent launch may
 * skip it; that is audited. Test sends are never held.
 */
export const APPROVAL_HEADER = 'x-launch-approval';

interface ApprovalRow {
  id: number;
  campaign_id: string;
  recipients: number;
  requested_by: string;
  requested_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
  used_at: Date | null;
}

function view(row: ApprovalRow) {
  return {
    id: Number(row.id),
    campaignId: row.campaign_id,
    recipients: row.recipients,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at.toISOString(),
    approvedBy: row.approved_by,
    approvedAt: row.approved_at?.toISOString() ?? null,
    usedAt: row.used_at?.toISOString() ?? null,
  };
}

export class LaunchApprovals {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditRepository,
  ) {}

  async rule(): Promise<number | null> {
    const { rows } = await sql<{ above: number }>`SELECT above FROM launch_approval_rule`.execute(this.db);
    return rows[0]?.above ?? null;
  }

  async setRule(above: number | null, by: string): Promise<void> {
    if (above === null) await sql`DELETE FROM launch_approval_rule`.execute(this.db);
    else await sql`INSERT INTO launch_approval_rule (above, updated_by) VALUES (${above}, ${by}) ON CONFLICT (singleton) DO UPDATE SET above = EXCLUDED.above, updated_by = EXCLUDED.updated_by, updated_at = now()`.execute(this.db);
    await this.audit.record({ actor: by, action: 'launch-approval.rule', subject: 'launch-approval-rule', details: { above } });
  }

  /** Recipients of the campaign's latest version: its lists less opt-outs and exclude lists (areas not applied: an upper bound). */
  async recipients(campaignId: string): Promise<{ recipients: number; priority: string }> {
    const { rows } = await sql<{ document: unknown }>`SELECT v.document FROM campaign_versions v WHERE v.campaign_id = ${campaignId} ORDER BY v.id DESC LIMIT 1`.execute(this.db);
    if (!rows[0]) throw new NotFoundError(`campaign ${campaignId}`);
    const campaign = validateCampaign(rows[0].document);
    const { lists, exclude, ignoreOptOuts } = campaign.audience;
    const { rows: counted } = await sql<{ n: number }>`
      SELECT count(DISTINCT s.msisdn)::int AS n FROM subscribers s
      WHERE s.list_id = ANY(${lists}::text[])
        AND (${ignoreOptOuts} OR NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.msisdn = s.msisdn))
        AND NOT EXISTS (SELECT 1 FROM subscribers x WHERE x.list_id = ANY(${exclude}::text[]) AND x.msisdn = s.msisdn)`.execute(this.db);
    return { recipients: counted[0]?.n ?? 0, priority: campaign.priority };
  }

  async request(campaignId: string, by: string) {
    const { recipients } = await this.recipients(campaignId);
    const { rows } = await sql<ApprovalRow>`INSERT INTO launch_approvals (campaign_id, recipients, requested_by) VALUES (${campaignId}, ${recipients}, ${by}) RETURNING *`.execute(this.db);
    await this.audit.record({ actor: by, action: 'launch-approval.request', subject: `campaign:${campaignId}`, details: { approvalId: Number(rows[0]!.id), recipients } });
    return view(rows[0]!);
  }

  async list() {
    const { rows } = await sql<ApprovalRow>`SELECT * FROM launch_approvals WHERE used_at IS NULL ORDER BY id DESC LIMIT 100`.execute(this.db);
    return rows.map(view);
  }

  /** The campaign an approval request is for. */
  async campaignOf(id: number): Promise<string> {
    const { rows } = await sql<{ campaign_id: string }>`SELECT campaign_id FROM launch_approvals WHERE id = ${id}`.execute(this.db);
    if (!rows[0]) throw new NotFoundError(`approval request ${id}`);
    return rows[0].campaign_id;
  }

  async approve(id: number, by: string) {
    const { rows } = await sql<ApprovalRow>`SELECT * FROM launch_approvals WHERE id = ${id}`.execute(this.db);
    const row = rows[0];
    if (!row) throw new NotFoundError(`approval request ${id}`);
    if (row.requested_by === by) throw new ForbiddenError('the approval must come from another person than the one who asked');
    if (row.approved_by !== null) throw new ConflictError(`approval request ${id} is approved already`);
    const { rows: updated } = await sql<ApprovalRow>`UPDATE launch_approvals SET approved_by = ${by}, approved_at = now() WHERE id = ${id} AND approved_by IS NULL RETURNING *`.execute(this.db);
    if (!updated[0]) throw new ConflictError(`approval request ${id} is approved already`);
    await this.audit.record({ actor: by, action: 'launch-approval.approve', subject: `campaign:${row.campaign_id}`, details: { approvalId: id, requestedBy: row.requested_by } });
    return view(updated[0]);
  }

  /** Called before a launch: passes, or throws 409 naming what is needed. Uses up the approval it accepts. */
  async check(request: FastifyRequest<{ Params: { id: string }; Body: { test?: string } | null }>): Promise<void> {
    if (request.body?.test !== undefined) return;
    const above = await this.rule();
    if (above === null) return;
    const campaignId = request.params.id;
    const { recipients, priority } = await this.recipients(campaignId);
    if (recipients <= above) return;
    const who = actor(request);
    if (priority === 'urgent' && request.principal?.role === 'admin') {
      await this.audit.record({ actor: who, action: 'launch-approval.skipped', subject: `campaign:${campaignId}`, details: { recipients, above } });
      return;
    }
    const header = request.headers[APPROVAL_HEADER];
    const approvalId = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
    if (approvalId === undefined) throw new ConflictError(`approval_required: ${recipients} recipients is above the rule's ${above}; ask another operator to approve (POST /v1/campaigns/${campaignId}/approvals) and send ${APPROVAL_HEADER}`);
    const { rows } = await sql<ApprovalRow>`UPDATE launch_approvals SET used_at = now() WHERE id = ${approvalId} AND campaign_id = ${campaignId} AND approved_by IS NOT NULL AND used_at IS NULL RETURNING *`.execute(this.db);
    if (!rows[0]) throw new ConflictError(`approval ${approvalId} is not an approved, unused approval of campaign ${campaignId}`);
  }
}

const approvalView = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    campaignId: { type: 'string' },
    recipients: { type: 'integer' },
    requestedBy: { type: 'string' },
    requestedAt: isoTime,
    approvedBy: { type: ['string', 'null'] },
    approvedAt: { type: ['string', 'null'], format: 'date-time' },
    usedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/** The hook on POST /v1/campaigns/:id/launch (fastify-plugin: it must reach the campaigns plugin's route). */
export const launchApprovalGate = fp<{ approvals: LaunchApprovals }>(async (app, options) => {
  app.addHook('preHandler', async (request) => {
    if (request.method === 'POST' && request.routeOptions.url === '/v1/campaigns/:id/launch') {
      await options.approvals.check(request as FastifyRequest<{ Params: { id: string }; Body: { test?: string } | null }>);
    }
  });
});

export function approvalRoutes(approvals: LaunchApprovals) {
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['campaigns'];
    const operator = app.requireRole('operator');
    app.get('/launch-approval-rule', { onRequest: app.requireRole('viewer'), schema: { summary: 'The approval rule: launches above `above` recipients need a second person (null: no rule)', tags, security: bearer, response: { 200: { type: 'object', properties: { above: { type: ['integer', 'null'] } } }, ...authErrors } } }, async () => ({
      above: await approvals.rule(),
    }));
    app.put<{ Body: { above: number | null } }>(
      '/launch-approval-rule',
      {
        onRequest: app.requireRole('admin'),
        schema: { summary: 'Set or clear the approval rule', tags, security: bearer, body: { type: 'object', required: ['above'], additionalProperties: false, properties: { above: { type: ['integer', 'null'], minimum: 0 } } }, response: { 200: { type: 'object', properties: { above: { type: ['integer', 'null'] } } }, 400: errorBody, ...authErrors } },
      },
      async (request) => {
        await approvals.setRule(request.body.above, actor(request));
        return { above: request.body.above };
      },
    );
    app.post<{ Params: { id: string } }>(
      '/campaigns/:id/approvals',
      { onRequest: operator, schema: { summary: 'Ask for a second person’s approval to launch this campaign', tags, security: bearer, params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$' } } }, response: { 201: approvalView, 400: errorBody, ...authErrors, 404: errorBody } } },
      async (request, reply) => {
        await app.scopes.assertCampaignVisible(principalOf(request), request.params.id);
        return reply.status(201).send(await approvals.request(request.params.id, actor(request)));
      },
    );
    app.get('/approvals', { onRequest: app.requireRole('viewer'), schema: { summary: 'Approval requests not used by a launch yet, newest first', tags, security: bearer, response: { 200: { type: 'array', items: approvalView }, ...authErrors } } }, async (request) => {
      // A key scoped to areas sees the requests of the campaigns it sees.
      const requests = await approvals.list();
      const visible = new Set((await app.scopes.filterCampaigns(principalOf(request), requests.map((a) => ({ id: a.campaignId })))).map((c) => c.id));
      return requests.filter((a) => visible.has(a.campaignId));
    });
    app.post<{ Params: { id: number } }>(
      '/approvals/:id/approve',
      { onRequest: operator, schema: { summary: 'Approve a launch someone else asked for', tags, security: bearer, params: idParams, response: { 200: approvalView, 400: errorBody, ...authErrors, 404: errorBody, 409: errorBody } } },
      async (request) => {
        await app.scopes.assertCampaignVisible(principalOf(request), await approvals.campaignOf(request.params.id));
        return approvals.approve(request.params.id, actor(request));
      },
    );
  };
}
