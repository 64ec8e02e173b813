import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import { MESSAGE_STATES, type MessageState } from '../domain/message-state.js';
import type { RunCountRepository } from '../store/run-count.repository.js';
import type { ScreenRepository } from '../store/screen.repository.js';
import type { RunRepository } from '../store/run.repository.js';
import type { CarrierProgress, RunStatus, RunStatusReader } from './engine-contract.js';

const RATE_WINDOW_SECONDS = 10;

function zeroCounts(): Record<MessageState, number> {
  return Object.fromEntries(MESSAGE_STATES.map((state) => [state, 0])) as Record<MessageState, number>;
}

/**
 * GET /v1/runs/:id and `loa status`: the run row plus its counters (run_counts, summed), never a
 * scan of the run's messages, so a poll costs the same for 1,000 or 10 M recipients.
 */
export class RunStatusService implements RunStatusReader {
  constructor(
    private readonly deps: {
      runs: Pick<RunRepository, 'getWithVersion'>;
      counts: RunCountRepository;
      /** Segments/s the carrier grants (the ETA when nothing was sent in the last 10 s). */
      grantedTps: (carrier: CarrierId) => number;
      /** Proof of play (plays is indexed by item, playlist_items by run). */
      plays: Pick<ScreenRepository, 'playCounts' | 'campaignPlayCount'> & Partial<Pick<ScreenRepository, 'broadcastsByCommune'>>;
    },
  ) {}

  async get(runId: number): Promise<RunStatus | undefined> {
    const asOf = new Date().toISOString();
    const loaded = await this.deps.runs.getWithVersion(runId);
    if (!loaded) return undefined;
    const { run } = loaded;
    const [rows, communes, recent, plays, campaignPlays, broadcasts] = await Promise.all([
      this.deps.counts.byCarrierAndState(runId),
      this.deps.counts.byCommune(runId),
      this.deps.counts.submittedSince(runId, RATE_WINDOW_SECONDS),
      this.deps.plays.playCounts(runId),
      this.deps.plays.campaignPlayCount(loaded.campaignId),
      this.deps.plays.broadcastsByCommune?.(runId) ?? Promise.resolve([]),
    ]);
    const totals = zeroCounts();
    const perCarrier = new Map<CarrierId, { counts: Record<MessageState, number>; waitingSegments: number }>();
    for (const id of CARRIER_IDS) perCarrier.set(id, { counts: zeroCounts(), waitingSegments: 0 });
    for (const row of rows) {
      totals[row.state] += row.count;
      if (!row.carrier) continue;
      const entry = perCarrier.get(row.carrier)!;
      entry.counts[row.state] += row.count;
      if (row.state === 'queued' || row.state === 'submitting') entry.waitingSegments += row.segments;
    }
    const carriers: CarrierProgress[] = CARRIER_IDS.map((carrier) => {
      const entry = perCarrier.get(carrier)!;
      const total = Object.values(entry.counts).reduce((a, b) => a + b, 0);
      const submitRate = (recent[carrier] ?? 0) / RATE_WINDOW_SECONDS;
      const rate = submitRate > 0 ? submitRate : this.deps.grantedTps(carrier);
      const etaSeconds = entry.waitingSegments === 0 ? 0 : rate > 0 ? Math.ceil(entry.waitingSegments / rate) : null;
      return { carrier, total, counts: entry.counts, submitRate, etaSeconds };
    });
    const byArea = new Map<string, RunStatus['communes'][number]>();
    for (const row of communes) {
      const key = `${row.province ?? ''}\u0000${row.commune ?? ''}`;
      let area = byArea.get(key);
      if (!area) {
        area = { province: row.province, commune: row.commune, counts: {} };
        byArea.set(key, area);
      }
      area.counts[row.state] = row.count;
    }
    return {
      runId: run.id,
      campaignId: loaded.campaignId,
      campaignVersionId: run.campaign_version_id,
      contentHash: loaded.contentHash,
      state: run.state,
      priority: run.priority,
      error: run.error,
      pausedReason: run.state === 'paused' ? run.paused_reason : null,
      audienceSize: run.audience_size,
      scheduledFor: run.scheduled_for.toISOString(),
      startedAt: run.started_at?.toISOString() ?? null,
      finishedAt: run.finished_at?.toISOString() ?? null,
      expiresAt: run.expires_at?.toISOString() ?? null,
      carriers,
      unroutable: totals.unroutable,
      totals,
      communes: [...byArea.values()],
      screens: {
        plays: plays.reduce((n, screen) => n + screen.plays, 0),
        seconds: plays.reduce((n, screen) => n + screen.seconds, 0),
        campaignPlays,
        byScreen: plays.map(({ screenId, plays: count, seconds }) => ({ screenId, plays: count, seconds })),
      },
      loudspeakers: {
        broadcasts: broadcasts.reduce((n, commune) => n + commune.broadcasts, 0),
        minutes: broadcasts.reduce((n, commune) => n + commune.minutes, 0),
        byCommune: broadcasts,
      },
      asOf,
    };
  }
}
