import { validateCampaign, validitySeconds } from '../domain/campaign.js';
import type { Logger } from '../logger.js';
import type { CompileCursor } from '../store/compile.repository.js';
import type { MessageRepository } from '../store/message.repository.js';
import type { RunCountRepository } from '../store/run-count.repository.js';
import type { RunRepository } from '../store/run.repository.js';

export interface RunSweeperOptions {
  intervalMs?: number;
  /** Messages moved to unknown per statement. */
  expireChunk?: number;
  /** How often run_counts is VACUUMed after compaction. */
  vacuumEveryMs?: number;
}

/**
 * Completion, on a timer, for every running run:
 * - messages with no final receipt past submitted_at + the campaign's validity → `unknown`, in chunks;
 * - the run → `completed` once its compile is done and the counters show no message left in a
 *   non-final state (a completed run stays completed: a late receipt may still move counts,
 *   which is why status says `asOf`);
 * - the run's counter deltas are compacted, and run_counts vacuumed now and then.
 */
export class RunSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastVacuum = Date.now();
  private readonly validity = new Map<number, number>();
  private readonly logger: Logger;

  constructor(
    private readonly deps: {
      runs: Pick<RunRepository, 'listByState' | 'getWithVersion' | 'setState'>;
      messages: Pick<MessageRepository, 'expireOverdue'>;
      counts: RunCountRepository;
      logger: Logger;
    },
    private readonly options: RunSweeperOptions = {},
  ) {
    this.logger = deps.logger.child({ component: 'run-sweeper' });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.sweep(), this.options.intervalMs ?? 2_000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over the running runs; concurrent calls share it. */
  sweep(): Promise<void> {
    this.running ??= this.pass()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'sweep failed; next pass retries'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const runs = await this.deps.runs.listByState(['running']);
    for (const run of runs) {
      const validity = await this.validityOf(run.id);
      const chunk = this.options.expireChunk ?? 10_000;
      let moved = 0;
      // Nothing can be overdue before the run has been sending for its validity: skip the scan.
      const due = run.started_at !== null && run.started_at.getTime() + validity * 1000 < Date.now();
      for (let n = due ? chunk : 0; n === chunk && due; moved += n) n = await this.deps.messages.expireOverdue(run.id, validity, chunk);
      if (moved > 0) this.logger.info({ runId: run.id, moved }, 'messages without a receipt within validity → unknown');
      await this.deps.counts.compact(run.id);
      const compiled = (run.progress.compile as CompileCursor | undefined)?.done === true;
      if (compiled && (await this.deps.counts.unfinished(run.id)) === 0) {
        if (await this.deps.runs.setState(run.id, 'completed', { from: ['running'] })) {
          this.logger.info({ runId: run.id }, 'run completed');
          await this.deps.counts.compact(run.id, 0);
          this.validity.delete(run.id);
        }
      }
    }
    if (Date.now() - this.lastVacuum >= (this.options.vacuumEveryMs ?? 60_000)) {
      this.lastVacuum = Date.now();
      await this.deps.counts.vacuum();
    }
  }

  private async validityOf(runId: number): Promise<number> {
    let seconds = this.validity.get(runId);
    if (seconds === undefined) {
      const loaded = await this.deps.runs.getWithVersion(runId);
      seconds = loaded ? validitySeconds(validateCampaign(loaded.document)) : 86_400;
      this.validity.set(runId, seconds);
    }
    return seconds;
  }
}
