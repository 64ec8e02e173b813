import { validateCampaign, type Campaign } from '../domain/campaign.js';
import type { ClipRef } from '../loudspeakers/audio.service.js';
import type { LoudspeakerService } from '../loudspeakers/loudspeakers.service.js';
import type { PlaylistService, RunWindow } from '../screens/playlist.service.js';
import type { CampaignRepository } from '../store/campaign.repository.js';

/** What placing needs of a run: its window, and whether it is a test launch (which reaches no device). */
export interface PlacedRun extends RunWindow {
  campaign_version_id: number;
  test_list: string | null;
}

/**
 * The one step that puts a run's `screens:` and `loudspeakers:` items on the devices (issues 10
 * and 11), whoever created the run: a manual launch (LaunchService) or an occurrence of a
 * recurring campaign (the Scheduler). Idempotent per run — playlist_items is unique on
 * (run_id, entry) — so a retried launch or a scheduler that ticks again adds nothing, and an
 * item an operator's pause or cancel withdrew stays withdrawn.
 */
export class BroadcastPlacement {
  constructor(private readonly deps: { playlists: PlaylistService; loudspeakers: LoudspeakerService; campaigns: Pick<CampaignRepository, 'getVersion'> }) {}

  /**
   * Before a manual launch creates its run: every loudspeaker item rendered and fitted to its
   * targets' airtime, refused (ValidationError naming the item) when it cannot be. The clips go to place().
   */
  async check(campaign: Campaign): Promise<ClipRef[] | undefined> {
    return (campaign.loudspeakers?.length ?? 0) > 0 ? this.deps.loudspeakers.check(campaign) : undefined;
  }

  /**
   * The run's items on the devices. `campaign` defaults to the run's version; `clips` to the
   * items rendered again (the audio cache makes that a lookup). Screens first: they need no
   * rendering, so a speech engine that fails does not keep an alert off them.
   */
  async place(run: PlacedRun, campaign?: Campaign, clips?: ClipRef[]): Promise<void> {
    if (run.test_list !== null) return;
    const document = campaign ?? (await this.campaignOf(run));
    if (!document) return;
    await this.deps.playlists.createForRun(run, document);
    if ((document.loudspeakers?.length ?? 0) > 0) await this.deps.loudspeakers.createForRun(run, document, clips);
  }

  private async campaignOf(run: PlacedRun): Promise<Campaign | undefined> {
    const version = await this.deps.campaigns.getVersion(run.campaign_version_id);
    return version ? validateCampaign(version.document) : undefined;
  }
}
