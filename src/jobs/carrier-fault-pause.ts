import type { CarrierId } from '../domain/carrier.js';
import { noBindPause } from '../domain/pause-codes.js';
import type { Logger } from '../logger.js';
import type { PartOutcome } from '../smpp/submitter-types.js';
import type { RunRepository } from '../store/run.repository.js';
import type { RunState } from '../store/database.js';

const SENDING: readonly RunState[] = ['compiling', 'running'];

/**
 * The human reason when an outcome says the carrier, not the message, is at fault: no bind for
 * the carrier's noBindTimeoutMs, or the SMSC answering ESME_RSYSERR to everything (issue 9 items
 * 7 and 8). Null for every other outcome.
 */
export function carrierFaultOf(outcome: PartOutcome): string | null {
  if (outcome.outcome !== 'unsent') return null;
  if (outcome.reason !== 'no-bind' && outcome.reason !== 'smsc-failing') return null;
  return outcome.detail ?? outcome.reason;
}

/**
 * Pauses a run, once, for a carrier fault. The reason goes to runs.error (GET /v1/runs/:id,
 * `loa status`); the scheduler's announceAutomaticPauses tells LOA_ALERT_WEBHOOK. An SMSC failing
 * everything (0x08) is left for a person (paused_reason 'auto'); no bind is a code naming the
 * carrier (noBindPause), so the scheduler resumes the run once a worker binds to it again. The
 * parts themselves come back `unsent` and are requeued: the resume sends them.
 */
export class CarrierFaultPause {
  private pausing: Promise<void> | null = null;

  constructor(
    private readonly runId: number,
    private readonly carrier: CarrierId,
    private readonly runs: Pick<RunRepository, 'setState'>,
    private readonly logger: Logger,
  ) {}

  /** Starts the pause on the first fault seen; later ones are the same fault. */
  onOutcome(outcome: PartOutcome): void {
    const reason = carrierFaultOf(outcome);
    if (reason === null || this.pausing) return;
    this.logger.error({ runId: this.runId, reason }, 'carrier fault; pausing the run');
    const pausedReason = outcome.outcome === 'unsent' && outcome.reason === 'no-bind' ? noBindPause.pending(this.carrier) : null;
    this.pausing = this.runs.setState(this.runId, 'paused', { from: SENDING, error: reason, pausedReason }).then(
      () => undefined,
      (error: unknown) => this.logger.error({ runId: this.runId, err: error }, 'could not pause the run for a carrier fault'),
    );
  }

  /** Resolves once a pause started is written (never rejects). */
  settled(): Promise<void> {
    return this.pausing ?? Promise.resolve();
  }
}
