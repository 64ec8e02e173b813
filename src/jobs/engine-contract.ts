/**
 * What the API, the CLI and the engine's two halves (send path, receipt path) agree on. The
 * engine implements these; the API and the CLI only use them.
 */
import type { CarrierId } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';
import type { CampaignPriority, RunState } from '../store/database.js';

/** Starts a launched run: the API calls it after it created the run row (RunRepository.createIfAbsent). */
export interface RunLauncher {
  /**
   * Enqueues the run's compile job (idempotent per run). `notBefore`: not before this time (a
   * normal campaign launched in its quiet hours waits for them to end).
   */
  enqueueCompile(runId: number, options?: { notBefore?: Date; priority?: CampaignPriority }): Promise<void>;
}

export interface CarrierProgress {
  carrier: CarrierId;
  /** Messages routed to this carrier. */
  total: number;
  /** Every state present, 0 when none. */
  counts: Record<MessageState, number>;
  /** Segments submitted per second over the last 10 s. */
  submitRate: number;
  /** Seconds until every queued message is submitted at submitRate (or the throttle when idle); null when unknown. */
  etaSeconds: number | null;
}

/** GET /v1/runs/:id and `loa status`: cheap at any run size (counters, not scans). */
export interface RunStatus {
  runId: number;
  campaignId: string;
  campaignVersionId: number;
  contentHash: string;
  state: RunState;
  priority: CampaignPriority;
  /** Why the run is paused or failed. */
  error: string | null;
  /** Who paused it: 'operator', 'quiet-hours' (resumed when they end), 'auto' (the submit path), 'auto:no-bind:<carrier>' (resumed once it binds); null when not paused. */
  pausedReason: string | null;
  audienceSize: number | null;
  scheduledFor: string;
  startedAt: string | null;
  finishedAt: string | null;
  expiresAt: string | null;
  carriers: CarrierProgress[];
  /** Recipients on another network (not sent). */
  unroutable: number;
  /** All carriers together, every state present. */
  totals: Record<MessageState, number>;
  /** Per area, only states present. */
  communes: Array<{ province: string | null; commune: string | null; counts: Partial<Record<MessageState, number>> }>;
  /** Proof of play on screens: this run's plays per screen, and the campaign's plays over all its runs. */
  screens: { plays: number; seconds: number; campaignPlays: number; byScreen: Array<{ screenId: string; plays: number; seconds: number }> };
  /** Proof of broadcast on commune loudspeakers (issue 11): broadcasts and minutes per commune, from plays. */
  loudspeakers?: { broadcasts: number; minutes: number; byCommune: Array<{ province: string | null; commune: string | null; broadcasts: number; minutes: number }> };
  /** When these counts were read: late responses and receipts may still move ambiguous/unknown after completion. */
  asOf: string;
}

export interface RunStatusReader {
  get(runId: number): Promise<RunStatus | undefined>;
}

/**
 * The submit path tells the receipt path which PDUs timed out (SubmitPart outcome `ambiguous`
 * with `late`), so a submit_sm_resp that arrives after its time-out (BindPool 'late-response')
 * turns that message from `ambiguous` into `submitted` with its SMSC id.
 */
export interface LateResponseTracker {
  expect(carrier: CarrierId, late: { connection: number; sequence: number }, ref: { runId: number; messageId: number; part: number }): void;
}
