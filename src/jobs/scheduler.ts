import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { validateCampaign, type Campaign } from '../domain/campaign.js';
import type { CarrierId } from '../domain/carrier.js';
import { deferForQuietHours, expandOccurrences, formatLocalTime } from '../domain/schedule.js';
import type { Logger } from '../logger.js';
import { withinMs } from '../within.js';
import type { BroadcastPlacement, PlacedRun } from '../services/broadcast-placement.js';
import { quietHoursOf } from '../services/launch.service.js';
import { PAUSE_CODES } from '../domain/pause-codes.js';
import type { RunControlService } from '../services/run-control.service.js';
import type { AuditRepository } from '../store/audit.repository.js';
import type { CampaignPriority } from '../store/database.js';
import type { RunControlRepository } from '../store/run-control.repository.js';
import type { RunRepository } from '../store/run.repository.js';
import type { ScheduleRepository, SchedulerLease } from '../store/schedule.repository.js';
import type { RunLauncher } from './engine-contract.js';

export interface SchedulerOptions {
  /** The lease's length; a leader renews it every tick, a follower takes it over once it expired. */
  leaseMs?: number;
  /** How often it ticks (start()); tests call tick() themselves. */
  tickMs?: number;
  /** How far back a (re)started scheduler looks for occurrences it has not decided yet. */
  lookbackMs?: number;
  /** Who holds the lease, for people reading scheduler_leases; default host:pid:random. */
  holder?: string;
  /** Lease name: one active scheduler per name (tests give each scheduler group its own). */
  leaseName?: string;
  /** How long stop() waits for a tick under way (default 2000). */
  stopWaitMs?: number;
}

export interface TickResult {
  leader: boolean;
  token: number | null;
  launched: number[];
  skipped: string[];
  enqueued: number[];
  paused: number[];
  resumed: number[];
  /** A launch refused because a newer scheduler holds the lease (this one stops leading). */
  fenced: boolean;
}

const ACTOR = 'scheduler';

/**
 * The scheduler role (issue 9, item 1): one active scheduler across processes, by a PostgreSQL
 * lease with a fencing token that every launch write checks in the same statement
 * (ScheduleRepository.launch). On each tick the leader:
 * 1. launches each occurrence of every active campaign's latest version whose launch time
 *    (nominal, or the end of the quiet hours it fell into; urgent never deferred) has come, once
 *    per campaign; after downtime only while occurrence + validity has not passed, else it records
 *    it skipped ('expired');
 *    each run's screens and loudspeaker items placed (BroadcastPlacement) before its compile job;
 * 2. enqueues the compile job of every due `scheduled` run, its items placed first (a deferred
 *    manual launch whose job Redis lost, or a launch whose leader died before placing and
 *    queueing: both steps are idempotent);
 * 3. pauses running normal runs when their quiet hours begin, and resumes those it paused when
 *    they end (item 3);
 * 4. announces the submit path's automatic pauses (webhook, listeners).
 * Every time comes from `clock`.
 */
/** How long a tick waits for the workers' bind state (Redis) before leaving no-bind pauses for a later tick. */
const BIND_STATE_WAIT_MS = 1000;

export class Scheduler {
  private lease: SchedulerLease | undefined;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<TickResult> | null = null;
  private readonly logger: Logger;
  private readonly leaseMs: number;
  private readonly holder: string;
  private readonly leaseName: string;

  constructor(
    private readonly deps: {
      schedule: ScheduleRepository;
      runs: Pick<RunRepository, 'listDue'>;
      control: RunControlService;
      controlStore: Pick<RunControlRepository, 'listForQuietHours'>;
      audit: AuditRepository;
      launcher: RunLauncher;
      clock: () => Date;
      logger: Logger;
      /** Puts each run's screens and loudspeaker items on the devices before its compile job is queued. */
      broadcasts?: Pick<BroadcastPlacement, 'place'>;
      /** Work the leader starts after each tick, not awaited (the daily report's e-mail, issue 12). */
      afterTick?: ReadonlyArray<(now: Date) => Promise<unknown>>;
      /** Binds the workers hold per carrier (BindStateReader): runs paused for no bind resume when it is back. */
      carrierBinds?: () => Promise<Readonly<Record<CarrierId, { bound: number }>>>;
    },
    private readonly options: SchedulerOptions = {},
  ) {
    this.logger = deps.logger.child({ component: 'scheduler' });
    this.leaseMs = options.leaseMs ?? 15_000;
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.leaseName = options.leaseName ?? 'scheduler';
  }

  get token(): number | null {
    return this.lease?.token ?? null;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick().catch(() => undefined), this.options.tickMs ?? 1000);
  }

  /** Stops ticking and gives the lease up, so another scheduler takes over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A tick may wait on Redis while it is away (enqueue retries forever): stop without it. Its
    // writes are fenced and idempotent, so the next leader redoes whatever it did not finish.
    await Promise.race([this.ticking?.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, this.options.stopWaitMs ?? 2000).unref())]);
    if (this.lease) await this.deps.schedule.release(this.lease).catch(() => undefined);
    this.lease = undefined;
  }

  /** One pass; concurrent calls share it. */
  tick(): Promise<TickResult> {
    this.ticking ??= this.pass()
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'scheduler tick failed; the next one retries');
        throw error;
      })
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async pass(): Promise<TickResult> {
    const now = this.deps.clock();
    const result: TickResult = { leader: false, token: null, launched: [], skipped: [], enqueued: [], paused: [], resumed: [], fenced: false };
    this.lease = this.lease
      ? await this.deps.schedule.renew(this.lease, now, this.leaseMs)
      : await this.deps.schedule.acquire(this.leaseName, this.holder, now, this.leaseMs);
    if (!this.lease) return result;
    result.leader = true;
    result.token = this.lease.token;
    await this.launchOccurrences(now, this.lease, result);
    if (result.fenced) {
      this.logger.warn({ token: result.token }, 'another scheduler took the lease over; this one stops');
      this.lease = undefined;
      result.leader = false;
      return result;
    }
    await this.enqueueDue(now, result);
    await this.applyQuietHours(now, result);
    await this.deps.control.announceAutomaticPauses();
    await this.resumeWhereCarriersBound(result);
    for (const work of this.deps.afterTick ?? []) void work(now).catch((error: unknown) => this.logger.warn({ err: error }, 'after-tick work failed; the next tick retries'));
    return result;
  }

  private async launchOccurrences(now: Date, lease: SchedulerLease, result: TickResult): Promise<void> {
    const from = new Date(now.getTime() - (this.options.lookbackMs ?? 86_400_000));
    for (const version of await this.deps.schedule.latestScheduledVersions()) {
      let campaign: Campaign;
      try {
        campaign = validateCampaign(version.document);
      } catch (error) {
        this.logger.warn({ campaignId: version.campaignId, err: error }, 'stored campaign version no longer validates; not scheduled');
        continue;
      }
      // Occurrences whose launch time has come (the window's end is exclusive: now included), but
      // none from before the campaign existed: saving a daily 08:00 campaign at 10:00 must not
      // send today's 08:00 message late.
      const since = from < version.campaignCreatedAt ? version.campaignCreatedAt : from;
      const occurrences = expandOccurrences(campaign, { from: since, to: new Date(now.getTime() + 1) });
      const ids = occurrences.flatMap((o) => [o.id, ...o.skipped.map((s) => s.id)]);
      const decided = await this.deps.schedule.decided(campaign.id, ids);
      for (const occurrence of occurrences) {
        for (const folded of occurrence.skipped) {
          if (decided.has(folded.id)) continue;
          const outcome = await this.deps.schedule.skip(lease, { campaignId: campaign.id, occurrenceId: folded.id, nominal: folded.nominal, reason: folded.reason });
          if (outcome === 'fenced') return void (result.fenced = true);
          if (outcome === 'skipped') result.skipped.push(folded.id);
        }
        if (decided.has(occurrence.id)) continue;
        if (now.getTime() > occurrence.validUntil.getTime()) {
          // Found too late (the scheduler was down): its messages would be past their validity.
          const outcome = await this.deps.schedule.skip(lease, { campaignId: campaign.id, occurrenceId: occurrence.id, nominal: occurrence.nominal, reason: 'expired' });
          if (outcome === 'fenced') return void (result.fenced = true);
          if (outcome === 'skipped') {
            result.skipped.push(occurrence.id);
            await this.deps.audit.record({
              actor: ACTOR,
              action: 'occurrence.skip',
              subject: `campaign:${campaign.id}`,
              details: { occurrenceId: occurrence.id, reason: 'expired', validUntil: occurrence.validUntil.toISOString(), decidedAt: now.toISOString() },
            });
            this.logger.warn({ campaignId: campaign.id, occurrenceId: occurrence.id }, 'occurrence past its validity: skipped');
          }
          continue;
        }
        const launched = await this.deps.schedule.launch(lease, {
          campaignId: campaign.id,
          campaignVersionId: version.versionId,
          occurrenceId: occurrence.id,
          nominal: occurrence.nominal,
          scheduledFor: occurrence.launchAt,
          expiresAt: occurrence.validUntil,
          priority: campaign.priority,
        });
        if (launched === 'fenced') return void (result.fenced = true);
        if (launched === 'decided') continue;
        result.launched.push(launched.runId);
        await this.deps.audit.record({
          actor: ACTOR,
          action: 'campaign.launch',
          subject: `campaign:${campaign.id}`,
          details: {
            runId: launched.runId,
            versionId: version.versionId,
            occurrenceId: occurrence.id,
            scheduledFor: occurrence.launchAt.toISOString(),
            deferredByQuietHours: occurrence.deferred,
            late: now.getTime() > occurrence.launchAt.getTime(),
            token: lease.token,
          },
        });
        const run = { id: launched.runId, campaign_version_id: version.versionId, test_list: null, priority: campaign.priority, scheduled_for: occurrence.launchAt, expires_at: occurrence.validUntil };
        await this.placeAndEnqueue(run, result, campaign);
      }
    }
  }

  private async enqueueDue(now: Date, result: TickResult): Promise<void> {
    for (const run of await this.deps.runs.listDue(now)) {
      if (!result.enqueued.includes(run.id)) await this.placeAndEnqueue(run, result);
    }
  }

  /**
   * A run's items on the screens and loudspeakers, then its compile job. Placing before queueing
   * makes a crash between the two harmless: the run is still `scheduled`, so the next tick's
   * enqueueDue places (idempotently) and queues it. Items that cannot be placed (a recording
   * deleted, the speech engine broken) never hold the SMS back: the failure is logged and audited
   * and the run goes on (with PostgreSQL away the audit fails too, the tick with it, and the next
   * tick retries the run, still `scheduled`).
   */
  private async placeAndEnqueue(run: PlacedRun, result: TickResult, campaign?: Campaign): Promise<void> {
    try {
      await this.deps.broadcasts?.place(run, campaign);
    } catch (error) {
      this.logger.error({ runId: run.id, err: error }, 'run items cannot be placed on screens or loudspeakers; the SMS part goes on');
      await this.deps.audit.record({ actor: ACTOR, action: 'run.broadcast-failed', subject: `run:${run.id}`, details: { runId: run.id, error: (error as Error).message } });
    }
    await this.enqueue(run.id, run.priority, result);
  }

  private async enqueue(runId: number, priority: CampaignPriority, result: TickResult): Promise<void> {
    // Idempotent per job id: a compile job still in the queue is left as it is.
    await this.deps.launcher.enqueueCompile(runId, { priority });
    result.enqueued.push(runId);
  }

  /** Item 7: a run paused because a carrier had no bind goes on once a worker binds to it again. */
  private async resumeWhereCarriersBound(result: TickResult): Promise<void> {
    if (!this.deps.carrierBinds) return;
    try {
      // Bounded: with Redis away the read would wait for it (the connection queues commands), and a
      // tick that never ends holds every later tick and the scheduler's stop.
      const binds = await withinMs(this.deps.carrierBinds(), BIND_STATE_WAIT_MS, `bind state not read within ${BIND_STATE_WAIT_MS} ms`);
      result.resumed.push(...(await this.deps.control.resumeWhereCarriersBound((carrier) => binds[carrier].bound > 0, ACTOR)));
    } catch (error) {
      // Redis away: the bind state is unknown, so the runs stay paused until a tick can read it.
      this.logger.warn({ err: error }, 'bind state unreadable; runs paused for no bind are resumed on a later tick');
    }
  }

  /** Item 3: quiet hours pause a sending normal run when they begin and resume it when they end. */
  private async applyQuietHours(now: Date, result: TickResult): Promise<void> {
    for (const run of await this.deps.controlStore.listForQuietHours(PAUSE_CODES.quietHours)) {
      let quiet: ReturnType<typeof quietHoursOf>;
      try {
        quiet = quietHoursOf(validateCampaign(run.document));
      } catch {
        continue;
      }
      if (!quiet) continue;
      const endsAt = deferForQuietHours(now, quiet, quiet.timeZone);
      const inQuiet = endsAt.getTime() !== now.getTime();
      if (inQuiet && run.state !== 'paused') {
        const reason = `quiet hours ${quiet.from}–${quiet.to} (${quiet.timeZone}); resumes at ${formatLocalTime(endsAt, quiet.timeZone)}`;
        if (await this.deps.control.pauseAutomatically(run.id, PAUSE_CODES.quietHours, reason, ACTOR)) result.paused.push(run.id);
      } else if (!inQuiet && run.state === 'paused') {
        if (await this.deps.control.resumeAutomatically(run.id, PAUSE_CODES.quietHours, ACTOR)) result.resumed.push(run.id);
      }
    }
  }
}
