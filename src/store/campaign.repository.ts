import type { Kysely } from 'kysely';
import type { Campaign, CampaignVersion, Database, JsonObject } from './database.js';

export interface NewCampaignVersion {
  campaignId: string;
  /** Hash of the canonical document: the same document saved twice is one version. */
  contentHash: string;
  document: JsonObject;
  createdBy: string;
}

/** Campaigns and their immutable versions (a trigger refuses UPDATE on campaign_versions). */
export class CampaignRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates the campaign, or renames it and brings it back from the archive. */
  async upsert(campaign: { id: string; name: string }): Promise<Campaign> {
    return this.db
      .insertInto('campaigns')
      .values({ id: campaign.id, name: campaign.name })
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: campaign.name, archived: false }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async get(id: string): Promise<Campaign | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(options: { includeArchived?: boolean } = {}): Promise<Campaign[]> {
    let query = this.db.selectFrom('campaigns').selectAll().orderBy('id');
    if (!options.includeArchived) query = query.where('archived', '=', false);
    return query.execute();
  }

  /** Returns false when there is no such campaign. */
  async archive(id: string): Promise<boolean> {
    const result = await this.db.updateTable('campaigns').set({ archived: true }).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Stores a version unless one with the same content hash exists; returns the stored one. */
  async saveVersion(version: NewCampaignVersion): Promise<{ version: CampaignVersion; created: boolean }> {
    const inserted = await this.db
      .insertInto('campaign_versions')
      .values({
        campaign_id: version.campaignId,
        content_hash: version.contentHash,
        document: JSON.stringify(version.document),
        created_by: version.createdBy,
      })
      .onConflict((oc) => oc.columns(['campaign_id', 'content_hash']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { version: inserted, created: true };
    const existing = await this.db
      .selectFrom('campaign_versions')
      .selectAll()
      .where('campaign_id', '=', version.campaignId)
      .where('content_hash', '=', version.contentHash)
      .executeTakeFirstOrThrow();
    return { version: existing, created: false };
  }

  async getVersion(id: number): Promise<CampaignVersion | undefined> {
    return this.db.selectFrom('campaign_versions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async latestVersion(campaignId: string): Promise<CampaignVersion | undefined> {
    return this.db
      .selectFrom('campaign_versions')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
}
