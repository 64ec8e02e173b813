import { randomUUID } from 'node:crypto';
import { validateCampaign, validitySeconds, type Campaign, type QuietHours } from '../domain/campaign.js';
import { deferForQuietHours } from '../domain/schedule.js';
import { DEFAULT_TIME_ZONE } from '../domain/time-zone.js';
import { NotFoundError, UnavailableError, ValidationError } from '../errors.js';
import type { RunLauncher } from '../jobs/engine-contract.js';
import type { AuditRepository } from '../store/audit.repository.js';
import type { CampaignRepository } from '../store/campaign.repository.js';
import type { CampaignVersion, JsonObject } from '../store/database.js';
import type { RunRepository } from '../store/run.repository.js';
import type { BroadcastPlacement } from './broadcast-placement.js';
import { viewOfRun, type RunView } from './runs.service.js';

/**
 * Quiet hours of a campaign without a schedule: the Decree 91/2020 sending window is 07:00–22:00,
 * the same default campaign.schema.json gives a schedule's quietHours.
 */
export const DEFAULT_QUIET_HOURS: QuietHours = { from: '22:00', to: '07:00' };

export interface LaunchRequest {
  campaignId: string;
  /** Which version; default the latest. `loa launch FILE` names the version its file is. */
  versionId?: number;
  /** The client's Idempotency-Key: a retried request with the same key finds the same run. */
  idempotencyKey?: string;
  /** Start now even inside quiet hours (audited). */
  now?: boolean;
  /** Send to this list only (a test before the real launch). */
  testList?: string;
}

export interface LaunchResult {
  run: RunView;
  /** False when the Idempotency-Key had already launched this run: nothing new happened. */
  created: boolean;
  /** The run waits for the end of quiet hours (run.scheduledFor). */
  deferred: boolean;
  /** The quiet hours that applied (null: none, or an urgent campaign). */
  quietHours: (QuietHours & { timeZone: string }) | null;
  /** `now` started the run inside quiet hours. */
  quietHoursOverridden: boolean;
}

/** What the launch needs of the audience store: is the test list there, and how big is it. */
export interface ListLookup {
  getList(id: string): Promise<{ id: string } | undefined>;
  countSubscribers(listId: string): Promise<number>;
}

/**
 * A manual launch (POST /v1/campaigns/:id/launch): one run per (version, Idempotency-Key), the
 * compile job enqueued once, when the run is created. A crash (or Redis outage) between the
 * two leaves a `scheduled` run with no job, which the reconciler rebuilds from PostgreSQL
 * (DESIGN.md: Redis holds only work in flight); a retry with the same key returns that run.
 */
export class LaunchService {
  constructor(
    private readonly deps: {
      campaigns: CampaignRepository;
      runs: RunRepository;
      audit: AuditRepository;
      lists: ListLookup;
      launcher: RunLauncher;
      clock: () => Date;
      /** Screens and loudspeakers (issues 10, 11): items checked before the run exists, placed after. */
      broadcasts?: Pick<BroadcastPlacement, 'check' | 'place'>;
    },
  ) {}

  async launch(request: LaunchRequest, actor: string): Promise<LaunchResult> {
    const { runs, audit, launcher } = this.deps;
    const version = await this.versionToLaunch(request);
    const campaign = validateCampaign(version.document);
    let audienceSize: number | null = null;
    if (request.testList !== undefined) {
      if (!(await this.deps.lists.getList(request.testList))) {
        throw new ValidationError(`there is no list '${request.testList}'`, [{ path: 'test', message: `list '${request.testList}' does not exist` }]);
      }
      audienceSize = await this.deps.lists.countSubscribers(request.testList);
    }

    // An item no loudspeaker it targets can air is refused before any run exists (issue 11 item 2).
    const loudspeakerClips = this.deps.broadcasts && request.testList === undefined ? await this.deps.broadcasts.check(campaign) : undefined;

    const at = this.deps.clock();
    const quiet = quietHoursOf(campaign);
    const startAt = quiet ? deferForQuietHours(at, quiet, quiet.timeZone) : at;
    const inQuietHours = startAt.getTime() !== at.getTime();
    const deferred = inQuietHours && !request.now;
    const scheduledFor = deferred ? startAt : at;

    const key = request.idempotencyKey ?? randomUUID();
    const { run, created } = await runs.createIfAbsent({
      campaignVersionId: version.id,
      // A test launch and the real one never share a run, even under one key.
      occurrenceId: `${request.testList !== undefined ? 'test' : 'now'}:${key}`,
      scheduledFor,
      launchedBy: actor,
      priority: campaign.priority,
      expiresAt: new Date(scheduledFor.getTime() + validitySeconds(campaign) * 1000),
      testList: request.testList ?? null,
      // The officer sent it at night on purpose: quiet hours must not pause it halfway either.
      ignoreQuietHours: inQuietHours && request.now === true,
    });
    if (created) {
      // Audited before the engine hears of it: no run starts that the log does not name.
      const details: JsonObject = {
        runId: run.id,
        versionId: version.id,
        contentHash: version.content_hash,
        idempotencyKey: key,
        scheduledFor: scheduledFor.toISOString(),
        deferredByQuietHours: deferred,
        quietHoursOverridden: inQuietHours && request.now === true,
        testList: request.testList ?? null,
        audienceSize,
      };
      await audit.record({ actor, action: request.testList !== undefined ? 'campaign.launch-test' : 'campaign.launch', subject: `campaign:${campaign.id}`, details });
    }
    // Devices before the SMS queue: a queue that is down (503) does not keep an alert off them.
    // Idempotent per run (a retry adds nothing; withdrawn items stay withdrawn).
    await this.deps.broadcasts?.place(run, campaign, loudspeakerClips);
    if (run.state === 'scheduled') {
      // Also on a retry: the compile job's id is the run's, so enqueueing again is a no-op when the
      // first request got that far, and starts the run when the queue was down for it (503 below).
      const notBefore = run.scheduled_for.getTime() > at.getTime() ? { notBefore: run.scheduled_for } : {};
      await launcher.enqueueCompile(run.id, { priority: campaign.priority, ...notBefore }).catch((error: unknown) => {
        throw new UnavailableError(`run ${run.id} is created but could not be queued (${(error as Error).message}); retry with the same Idempotency-Key`);
      });
    }
    // A retry reports the run the first request created: still waiting, or not.
    const runDeferred = run.scheduled_for.getTime() > at.getTime();
    return {
      run: viewOfRun(run, { campaignId: campaign.id, contentHash: version.content_hash }),
      created,
      deferred: created ? deferred : runDeferred,
      quietHours: quiet,
      quietHoursOverridden: created ? inQuietHours && request.now === true : false,
    };
  }

  private async versionToLaunch(request: LaunchRequest): Promise<CampaignVersion> {
    const { campaigns } = this.deps;
    const campaign = await campaigns.get(request.campaignId);
    if (!campaign || campaign.archived) throw new NotFoundError(`campaign '${request.campaignId}'`);
    const version = request.versionId !== undefined ? await campaigns.getVersion(request.versionId) : await campaigns.latestVersion(request.campaignId);
    if (!version || version.campaign_id !== request.campaignId) {
      throw new NotFoundError(request.versionId !== undefined ? `version ${request.versionId} of campaign '${request.campaignId}'` : `a version of campaign '${request.campaignId}'`);
    }
    return version;
  }
}

/** The quiet hours a manual launch respects: the schedule's, else the default; none when urgent. */
export function quietHoursOf(campaign: Campaign): (QuietHours & { timeZone: string }) | null {
  if (campaign.priority === 'urgent') return null;
  const quiet = campaign.schedule ? campaign.schedule.quietHours : DEFAULT_QUIET_HOURS;
  return quiet ? { ...quiet, timeZone: campaign.schedule?.timezone ?? DEFAULT_TIME_ZONE } : null;
}
