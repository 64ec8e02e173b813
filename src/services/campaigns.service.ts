import { CampaignValidationError, contentHash, parseCampaign, validateCampaign, type Campaign } from '../domain/campaign.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { AuditRepository } from '../store/audit.repository.js';
import type { CampaignRepository } from '../store/campaign.repository.js';
import type { Campaign as CampaignRow, CampaignVersion, JsonObject } from '../store/database.js';

export interface CampaignVersionView {
  id: number;
  contentHash: string;
  createdAt: string;
  createdBy: string;
}

export interface CampaignView {
  id: string;
  name: string;
  archived: boolean;
  createdAt: string;
  latestVersion: (CampaignVersionView & { document?: JsonObject }) | null;
}

export interface SavedCampaign {
  campaign: CampaignView;
  /** The version the saved document is (new, or the existing one with the same content hash). */
  version: CampaignVersionView;
  versionCreated: boolean;
}

/** A campaign document as it arrived: YAML/JSON text (keeps line:column) or a parsed JSON body. */
export type CampaignInput = { text: string } | { document: unknown };

function versionView(version: CampaignVersion): CampaignVersionView {
  return { id: version.id, contentHash: version.content_hash, createdAt: version.created_at.toISOString(), createdBy: version.created_by };
}

function campaignView(row: CampaignRow, version: CampaignVersion | undefined, withDocument: boolean): CampaignView {
  return {
    id: row.id,
    name: row.name,
    archived: row.archived,
    createdAt: row.created_at.toISOString(),
    latestVersion: version ? { ...versionView(version), ...(withDocument ? { document: version.document } : {}) } : null,
  };
}

/** A campaign is about six levels deep; validation (structuredClone, ajv) recurses and would overflow the stack on 100,000. */
const MAX_DOCUMENT_DEPTH = 32;

/** Iterative, so the check itself cannot overflow. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= limit) return true;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

/**
 * The one loader `loa validate` uses, as a ValidationError whose details name the JSON path and,
 * for text, `line:column`, so the HTTP answer points into the file the user sent.
 */
export function loadCampaign(input: CampaignInput): Campaign {
  if ('document' in input && nestedDeeperThan(input.document, MAX_DOCUMENT_DEPTH)) {
    throw new ValidationError('the campaign document is nested too deeply', [{ path: '(document)', message: `is nested deeper than ${MAX_DOCUMENT_DEPTH} levels` }]);
  }
  try {
    return 'text' in input ? parseCampaign(input.text) : validateCampaign(input.document);
  } catch (error) {
    if (!(error instanceof CampaignValidationError)) throw error;
    throw new ValidationError(
      `the campaign has ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}`,
      error.issues.map((issue) => ({
        path: issue.path || '(document)',
        message: issue.message,
        ...(issue.line !== undefined ? { line: issue.line, column: issue.column ?? 1 } : {}),
      })),
    );
  }
}

/** Campaigns and their versions, immutable by content hash; every new version is audited. */
export class CampaignService {
  constructor(
    private readonly campaigns: CampaignRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** POST /v1/campaigns: a new campaign; ConflictError when the id is taken (PUT updates). */
  async create(input: CampaignInput, actor: string): Promise<SavedCampaign> {
    const campaign = loadCampaign(input);
    if (await this.campaigns.get(campaign.id)) throw new ConflictError(`campaign '${campaign.id}' exists; PUT /v1/campaigns/${campaign.id} stores a new version`);
    return this.save(campaign, actor);
  }

  /** PUT /v1/campaigns/:id: creates or stores a new version; the document's id must be `id`. */
  async put(id: string, input: CampaignInput, actor: string): Promise<SavedCampaign & { campaignCreated: boolean }> {
    const campaign = loadCampaign(input);
    if (campaign.id !== id) throw new ValidationError(`the document's id '${campaign.id}' is not '${id}'`, [{ path: 'id', message: `must be '${id}' (the id in the URL)` }]);
    const existed = (await this.campaigns.get(id)) !== undefined;
    return { ...(await this.save(campaign, actor)), campaignCreated: !existed };
  }

  async get(id: string): Promise<CampaignView> {
    const row = await this.campaigns.get(id);
    if (!row) throw new NotFoundError(`campaign '${id}'`);
    return campaignView(row, await this.campaigns.latestVersion(id), true);
  }

  async list(options: { includeArchived?: boolean } = {}): Promise<CampaignView[]> {
    const rows = await this.campaigns.list(options);
    // A province has tens of campaigns, not thousands: one lookup each stays cheap.
    return Promise.all(rows.map(async (row) => campaignView(row, await this.campaigns.latestVersion(row.id), false)));
  }

  private async save(campaign: Campaign, actor: string): Promise<SavedCampaign> {
    const hash = contentHash(campaign);
    const row = await this.campaigns.upsert({ id: campaign.id, name: campaign.name });
    const { version, created } = await this.campaigns.saveVersion({ campaignId: campaign.id, contentHash: hash, document: campaign as unknown as JsonObject, createdBy: actor });
    if (created) {
      await this.audit.record({ actor, action: 'campaign.save', subject: `campaign:${campaign.id}`, details: { versionId: version.id, contentHash: hash } });
    }
    // Saving an older document again finds its old version, which is then not the latest:
    // `version` is the one this document is, and what `loa launch FILE` launches.
    return { campaign: campaignView(row, await this.campaigns.latestVersion(campaign.id), false), version: versionView(version), versionCreated: created };
  }
}
