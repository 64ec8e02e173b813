/**
 * Stand-ins for the engine's RunLauncher and RunStatusReader (src/jobs/engine-contract.ts) until
 * the engine is wired into src/service.ts: the API works end to end, runs stay `scheduled`.
 * Tests use them too: they are our own interfaces, not mocks of PostgreSQL or the queue.
 */
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import { MESSAGE_STATES, type MessageState } from '../domain/message-state.js';
import type { CarrierProgress, RunLauncher, RunStatus, RunStatusReader } from '../jobs/engine-contract.js';
import type { Logger } from '../logger.js';
import type { CampaignRepository } from '../store/campaign.repository.js';
import type { MessageRepository } from '../store/message.repository.js';
import type { RunRepository } from '../store/run.repository.js';

/** Logs what it would enqueue; the scheduler's sweep of due runs starts them once an engine runs. */
export class LoggingRunLauncher implements RunLauncher {
  constructor(private readonly logger: Logger) {}

  async enqueueCompile(runId: number, options: { notBefore?: Date; priority?: string } = {}): Promise<void> {
    this.logger.warn({ component: 'launch', runId, notBefore: options.notBefore?.toISOString(), priority: options.priority }, 'no compile engine in this process; the run stays scheduled');
  }
}

const zeroCounts = (): Record<MessageState, number> => Object.fromEntries(MESSAGE_STATES.map((state) => [state, 0])) as Record<MessageState, number>;

/**
 * Status from a count of the run's messages by carrier and state: exact, but a scan of the run's
 * partition per call, which the engine's counter-based reader replaces (issue 8, item 7).
 */
export class CountingRunStatusReader implements RunStatusReader {
  constructor(
    private readonly deps: { runs: RunRepository; campaigns: CampaignRepository; messages: MessageRepository; clock?: () => Date },
  ) {}

  async get(runId: number): Promise<RunStatus | undefined> {
    const run = await this.deps.runs.get(runId);
    if (!run) return undefined;
    const version = await this.deps.campaigns.getVersion(run.campaign_version_id);
    if (!version) return undefined;
    const byCarrier = new Map<CarrierId, Record<MessageState, number>>();
    const totals = zeroCounts();
    let unroutable = 0;
    for (const row of await this.deps.messages.countsByCarrierAndState(runId)) {
      totals[row.state] += row.count;
      if (row.carrier === null) {
        unroutable += row.count;
        continue;
      }
      const counts = byCarrier.get(row.carrier) ?? zeroCounts();
      counts[row.state] += row.count;
      byCarrier.set(row.carrier, counts);
    }
    const carriers: CarrierProgress[] = CARRIER_IDS.filter((id) => byCarrier.has(id)).map((carrier) => {
      const counts = byCarrier.get(carrier) ?? zeroCounts();
      return { carrier, total: Object.values(counts).reduce((a, b) => a + b, 0), counts, submitRate: 0, etaSeconds: null };
    });
    return {
      runId: run.id,
      campaignId: version.campaign_id,
      campaignVersionId: version.id,
      contentHash: version.content_hash,
      state: run.state,
      priority: run.priority,
      error: run.error,
      audienceSize: run.audience_size,
      scheduledFor: run.scheduled_for.toISOString(),
      startedAt: run.started_at?.toISOString() ?? null,
      finishedAt: run.finished_at?.toISOString() ?? null,
      expiresAt: run.expires_at?.toISOString() ?? null,
      carriers,
      unroutable,
      totals,
      communes: [],
      asOf: (this.deps.clock?.() ?? new Date()).toISOString(),
    };
  }
}
