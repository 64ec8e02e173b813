import type { CarrierId } from '../domain/carrier.js';
import { noBindPause, PAUSE_CODES } from '../domain/pause-codes.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuditRepository } from '../store/audit.repository.js';
import type { CampaignPriority, Run, RunState } from '../store/database.js';
import type { RunControlRepository } from '../store/run-control.repository.js';
import type { RunRepository } from '../store/run.repository.js';
import type { AlertEvent, AlertSink } from './alert-webhook.js';

/**
 * Told of every pause, resume and cancel, whoever made it (an operator, quiet hours, the submit
 * path). Screens plug in here after the merge: PlaylistService.withdrawRun / restoreRun.
 * A listener that throws is logged and does not undo the change.
 */
export interface RunControlListener {
  onPaused?(runId: number): void | Promise<void>;
  onResumed?(runId: number): void | Promise<void>;
  onCancelled?(runId: number): void | Promise<void>;
}

/** Enqueues a resumed run's batches again (JobQueues.resume). */
export interface RunResumer {
  resume(runId: number, options?: { priority?: CampaignPriority }): Promise<void>;
}

const PAUSABLE: readonly RunState[] = ['compiling', 'running'];
const CANCELLABLE: readonly RunState[] = ['scheduled', 'compiling', 'running', 'paused'];

/**
 * Pause, resume and cancel: state changes the engine notices (the submit worker re-reads its run's
 * state every `stateCheckMs` and stops claiming; what is in the window finishes). Each is audited.
 */
export class RunControlService {
  private readonly listeners: RunControlListener[] = [];
  private readonly logger: Logger;

  constructor(
    private readonly deps: {
      runs: Pick<RunRepository, 'get' | 'setState'>;
      control: RunControlRepository;
      audit: AuditRepository;
      resumer: RunResumer;
      alerts?: AlertSink;
      clock?: () => Date;
      logger: Logger;
    },
  ) {
    this.logger = deps.logger.child({ component: 'run-control' });
  }

  addListener(listener: RunControlListener): void {
    this.listeners.push(listener);
  }

  /** An operator's pause (`POST /v1/runs/:id/pause`, `loa pause`). */
  async pause(runId: number, actor: string): Promise<Run> {
    const run = await this.transition(runId, 'paused', PAUSABLE, { error: `paused by ${actor}`, pausedReason: PAUSE_CODES.operator });
    await this.deps.audit.record({ actor, action: 'run.pause', subject: `run:${runId}`, details: { runId } });
    await this.tell('onPaused', runId);
    return run;
  }

  /** Back to running, whatever paused it, and its batches enqueued again. */
  async resume(runId: number, actor: string): Promise<Run> {
    const before = await this.deps.runs.get(runId);
    const run = await this.transition(runId, 'running', ['paused'], { error: null, pausedReason: null });
    await this.deps.audit.record({ actor, action: 'run.resume', subject: `run:${runId}`, details: { runId, pausedReason: before?.paused_reason ?? null, pausedFor: before?.error ?? null } });
    await this.deps.resumer.resume(runId, { priority: run.priority });
    await this.tell('onResumed', runId);
    return run;
  }

  /** Final: the run's remaining queued messages become `cancelled`; what is in flight settles. */
  async cancel(runId: number, actor: string): Promise<Run> {
    const run = await this.transition(runId, 'cancelled', CANCELLABLE, { error: `cancelled by ${actor}` });
    const cancelled = await this.deps.control.cancelQueued(runId);
    await this.deps.audit.record({ actor, action: 'run.cancel', subject: `run:${runId}`, details: { runId, cancelledMessages: cancelled } });
    await this.tell('onCancelled', runId);
    return run;
  }

  /**
   * An automatic pause (quiet hours): `code` is kept so that only the one that paused a run
   * resumes it. Returns false when the run was not sending (nothing changed).
   */
  async pauseAutomatically(runId: number, code: string, reason: string, actor: string): Promise<boolean> {
    const run = await this.deps.runs.setState(runId, 'paused', { from: PAUSABLE, error: reason, pausedReason: code });
    if (!run) return false;
    await this.deps.audit.record({ actor, action: 'run.pause', subject: `run:${runId}`, details: { runId, code, reason } });
    this.alert('run.paused', runId, code, reason);
    await this.tell('onPaused', runId);
    return true;
  }

  /** Resumes a run only if it is still paused with `code` (an operator may have resumed or cancelled it). */
  async resumeAutomatically(runId: number, code: string, actor: string): Promise<boolean> {
    const run = await this.deps.runs.setState(runId, 'running', { from: ['paused'], error: null, pausedReason: null, onlyPausedReason: code });
    if (!run) return false;
    await this.deps.audit.record({ actor, action: 'run.resume', subject: `run:${runId}`, details: { runId, code } });
    await this.deps.resumer.resume(runId, { priority: run.priority });
    await this.tell('onResumed', runId);
    return true;
  }

  /**
   * The submit path's pauses (stop-run status, repeated failures, no bind) are state changes made
   * deep in a worker; this finds the ones nobody has announced yet, marks them 'auto' (or
   * `auto:no-bind:<carrier>`) and tells a person (LOA_ALERT_WEBHOOK) and the listeners. Called on
   * the scheduler's tick.
   */
  async announceAutomaticPauses(): Promise<number> {
    const paused = await this.deps.control.claimUnannouncedPauses();
    for (const run of paused) {
      this.logger.warn({ runId: run.id, reason: run.error }, 'run paused automatically');
      await this.deps.audit.record({ actor: 'engine', action: 'run.pause', subject: `run:${run.id}`, details: { runId: run.id, code: run.pausedReason, reason: run.error } });
      this.alert('run.paused', run.id, run.pausedReason, run.error);
      await this.tell('onPaused', run.id);
    }
    return paused.length;
  }

  /**
   * Resumes the runs paused because a carrier had no bind, once `bound(carrier)` says a worker
   * holds one again (issue 9 item 7: the SMSC is back, the run goes on), and tells the webhook.
   * Returns the runs resumed.
   */
  async resumeWhereCarriersBound(bound: (carrier: CarrierId) => boolean, actor: string): Promise<number[]> {
    const resumed: number[] = [];
    for (const run of await this.deps.control.listNoBindPauses()) {
      const carrier = noBindPause.carrierOf(run.pausedReason);
      if (!carrier || !bound(carrier)) continue;
      if (!(await this.resumeAutomatically(run.id, run.pausedReason, actor))) continue;
      this.logger.info({ runId: run.id, carrier }, 'carrier bound again; run resumed');
      this.alert('run.resumed', run.id, run.pausedReason, `${carrier} bound again`);
      resumed.push(run.id);
    }
    return resumed;
  }

  private alert(event: AlertEvent['event'], runId: number, code: string, reason: string | null): void {
    this.deps.alerts?.notify({ event, runId, code, reason, at: (this.deps.clock?.() ?? new Date()).toISOString() });
  }

  private async transition(runId: number, to: RunState, from: readonly RunState[], set: { error: string | null; pausedReason?: string | null }): Promise<Run> {
    const run = await this.deps.runs.setState(runId, to, { from, error: set.error, ...(set.pausedReason !== undefined ? { pausedReason: set.pausedReason } : {}) });
    if (run) return run;
    const current = await this.deps.runs.get(runId);
    if (!current) throw new NotFoundError(`run ${runId}`);
    throw new ConflictError(`run ${runId} is ${current.state}; it cannot become ${to} (allowed from: ${from.join(', ')})`);
  }

  private async tell(event: keyof RunControlListener, runId: number): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener[event]?.(runId);
      } catch (error) {
        this.logger.warn({ runId, event, err: error }, 'run control listener failed');
      }
    }
  }
}
