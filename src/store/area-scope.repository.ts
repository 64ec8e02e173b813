import { sql, type Kysely } from 'kysely';
import type { AreaScope, ScopedCampaign } from '../domain/area-scope.js';
import type { Database } from './database.js';

/** What a scoped key may see, read from the campaign versions and the subscribers (issue 12, item 5). */
export class AreaScopeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every version's areas (a province has hundreds of versions, not millions: filtered in the domain). */
  async versionAreas(): Promise<Array<{ id: number; campaignId: string; document: ScopedCampaign }>> {
    const rows = await this.db
      .selectFrom('campaign_versions')
      .select(['id', 'campaign_id', sql<ScopedCampaign>`jsonb_build_object('audience', document->'audience', 'screens', document->'screens')`.as('document')])
      .execute();
    return rows.map((row) => ({ id: row.id, campaignId: row.campaign_id, document: row.document }));
  }

  async versionOfRun(runId: number): Promise<{ campaignId: string; document: ScopedCampaign } | undefined> {
    const row = await this.db
      .selectFrom('runs')
      .innerJoin('campaign_versions', 'campaign_versions.id', 'runs.campaign_version_id')
      .select(['campaign_versions.campaign_id', 'campaign_versions.document'])
      .where('runs.id', '=', runId)
      .executeTakeFirst();
    return row ? { campaignId: row.campaign_id, document: row.document as ScopedCampaign } : undefined;
  }

  async version(campaignId: string, versionId?: number): Promise<ScopedCampaign | undefined> {
    let query = this.db.selectFrom('campaign_versions').select('document').where('campaign_id', '=', campaignId);
    query = versionId !== undefined ? query.where('id', '=', versionId) : query.orderBy('id', 'desc').limit(1);
    return (await query.executeTakeFirst())?.document as ScopedCampaign | undefined;
  }

  /** Of `listIds`, those without a subscriber outside the scope (a subscriber without a province is outside). */
  async listsWithin(scope: AreaScope, listIds: readonly string[]): Promise<Set<string>> {
    if (listIds.length === 0) return new Set();
    const { rows } = await sql<{ id: string }>`SELECT l.id FROM lists l
      WHERE l.id = ANY(${[...listIds]}::text[])
        AND NOT EXISTS (
          SELECT 1 FROM subscribers s
          WHERE s.list_id = l.id
            AND (s.province IS NULL OR NOT (
              s.province = ANY(${[...scope.provinces]}::text[])
              OR (s.province, s.commune) IN (SELECT * FROM unnest(${scope.communes.map((c) => c.province)}::text[], ${scope.communes.map((c) => c.commune)}::text[]))
            ))
        )`.execute(this.db);
    return new Set(rows.map((row) => row.id));
  }
}
