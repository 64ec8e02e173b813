import { campaignOutside, placeWithin, type AreaScope, type ScopedCampaign } from '../domain/area-scope.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { AreaScopeRepository } from '../store/area-scope.repository.js';

/** Whoever made the request, as far as scopes go: `scope` null is the whole department. */
export interface Scoped {
  scope: AreaScope | null;
}

/**
 * The rule for keys scoped to areas (issue 12, item 5; README "Keys scoped to areas"):
 * a scoped key sees campaigns (and their runs) whose audience and screens items are confined to
 * its areas, the screens inside them and the lists with no subscriber outside them; anything
 * else is "not found" to it. It may save and launch only such campaigns: anything reaching
 * further is refused (403) with the areas outside named, never silently narrowed. Department-wide
 * registers (list imports, opt-outs, portability) are changed with unscoped keys only.
 * Every method is a no-op for an unscoped principal.
 */
export class AreaScopeService {
  constructor(private readonly repository: AreaScopeRepository) {}

  /** Campaign views (with `latestVersion.document` or not: looked up when absent) the principal may see. */
  async filterCampaigns<T extends { id: string }>(who: Scoped, campaigns: T[]): Promise<T[]> {
    const scope = who.scope;
    if (!scope) return campaigns;
    const latest = new Map<string, ScopedCampaign>();
    for (const version of (await this.repository.versionAreas()).sort((a, b) => a.id - b.id)) latest.set(version.campaignId, version.document);
    return campaigns.filter((campaign) => {
      const document = latest.get(campaign.id);
      return document !== undefined && campaignOutside(scope, document).length === 0;
    });
  }

  /** 404 for a campaign outside the scope, as if it did not exist. */
  async assertCampaignVisible(who: Scoped, campaignId: string): Promise<void> {
    if (!who.scope) return;
    const document = await this.repository.version(campaignId);
    if (!document || campaignOutside(who.scope, document).length > 0) throw new NotFoundError(`campaign '${campaignId}'`);
  }

  /** Saving: the document and the campaign it would become a version of must both be inside. */
  async assertCanSave(who: Scoped, campaignId: string, document: ScopedCampaign): Promise<void> {
    if (!who.scope) return;
    refuseOutside(who.scope, document, `campaign '${campaignId}'`);
    const existing = await this.repository.version(campaignId);
    if (existing && campaignOutside(who.scope, existing).length > 0) throw new ForbiddenError(`campaign '${campaignId}' belongs to areas outside this key's scope`);
  }

  /** Launching: the version launched (the latest unless named) and any test list must be inside. */
  async assertCanLaunch(who: Scoped, request: { campaignId: string; versionId?: number; testList?: string }): Promise<void> {
    if (!who.scope) return;
    const document = await this.repository.version(request.campaignId, request.versionId);
    // Not found stays the launch service's answer (it names what is missing).
    if (!document) return;
    refuseOutside(who.scope, document, `campaign '${request.campaignId}'`);
    if (request.testList !== undefined && !(await this.repository.listsWithin(who.scope, [request.testList])).has(request.testList)) {
      throw new ForbiddenError(`list '${request.testList}' has subscribers outside this key's areas`);
    }
  }

  /** Campaign version ids a scoped principal's run listing is limited to; undefined: no limit. */
  async visibleVersionIds(who: Scoped): Promise<number[] | undefined> {
    const scope = who.scope;
    if (!scope) return undefined;
    return (await this.repository.versionAreas()).filter((version) => campaignOutside(scope, version.document).length === 0).map((version) => version.id);
  }

  /** 404 for a run of a campaign version outside the scope. */
  async assertRunVisible(who: Scoped, runId: number): Promise<void> {
    if (!who.scope) return;
    const version = await this.repository.versionOfRun(runId);
    if (!version || campaignOutside(who.scope, version.document).length > 0) throw new NotFoundError(`run ${runId}`);
  }

  filterScreens<T extends { province: string | null; commune: string | null }>(who: Scoped, screens: T[]): T[] {
    const scope = who.scope;
    return scope ? screens.filter((screen) => placeWithin(scope, screen.province, screen.commune)) : screens;
  }

  assertScreenVisible(who: Scoped, screen: { id: string; province: string | null; commune: string | null }): void {
    if (who.scope && !placeWithin(who.scope, screen.province, screen.commune)) throw new NotFoundError(`screen '${screen.id}'`);
  }

  async filterLists<T extends { id: string }>(who: Scoped, lists: T[]): Promise<T[]> {
    if (!who.scope) return lists;
    const within = await this.repository.listsWithin(
      who.scope,
      lists.map((list) => list.id),
    );
    return lists.filter((list) => within.has(list.id));
  }

  /** Imports, opt-outs and portability apply to the whole department. */
  assertUnscoped(who: Scoped, what: string): void {
    if (who.scope) throw new ForbiddenError(`${what} applies to the whole department: use a key without --areas`);
  }
}

function refuseOutside(scope: AreaScope, document: ScopedCampaign, what: string): void {
  const outside = campaignOutside(scope, document);
  if (outside.length > 0) throw new ForbiddenError(`${what} reaches outside this key's areas: ${outside.slice(0, 20).join(', ')}${outside.length > 20 ? ', …' : ''}`);
}
