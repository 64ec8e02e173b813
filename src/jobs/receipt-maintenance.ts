import type { Logger } from '../logger.js';
import type { AudioClipRepository, AudioRetentionResult } from '../store/audio-clip.repository.js';
import type { MaintenanceResult, ReceiptRepository } from '../store/receipt.repository.js';

/** How long an audio clip no valid broadcast uses keeps its sound (LOA_AUDIO_RETENTION_DAYS). */
export const DEFAULT_AUDIO_RETENTION_DAYS = 30;

export interface ReceiptMaintenanceOptions {
  /** A finished run's messages (phone numbers included) are dropped this many days after it ended; null keeps them. */
  retentionDays: number | null;
  /** Audio clips unused this many days lose their sound (AudioClipRepository.expire); default 30, null keeps them. */
  audioRetentionDays?: number | null;
  /** Daily partitions made ahead of need (so no write waits for one). */
  daysAhead?: number;
  /** How often the parked sweep runs. */
  sweepEveryMs?: number;
  /** How often retention and partitions run. */
  maintainEveryMs?: number;
}

/**
 * Housekeeping of the receipt path that must not depend on autovacuum (README, Retention): the
 * parked sweep (receipts that overtook their submit_sm_resp) every second, and hourly the
 * daily partitions ahead, parked receipts past the receipt window kept as unmatched, and
 * retention by dropping partitions — never by DELETE, which with autovacuum off only bloats.
 * Then the loudspeakers' audio clips no valid broadcast uses lose their sound (a few rows, vacuumed
 * at once).
 */
export class ReceiptMaintenance {
  private sweepTimer: NodeJS.Timeout | null = null;
  private maintainTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> | null = null;
  private maintaining: Promise<unknown> | null = null;
  private readonly logger: Logger;

  constructor(
    private readonly receipts: Pick<ReceiptRepository, 'maintain' | 'matchParked'>,
    logger: Logger,
    private readonly options: ReceiptMaintenanceOptions,
    /** The loudspeakers' audio cache (issue 11), kept in check by the same hourly pass. */
    private readonly audio?: Pick<AudioClipRepository, 'expire'>,
  ) {
    this.logger = logger.child({ component: 'receipt-maintenance' });
  }

  /** Partitions, unmatched receipts and retention, then the audio clips' retention, once. */
  async run(now: Date = new Date()): Promise<MaintenanceResult & { audio?: AudioRetentionResult }> {
    const retentionMs = this.options.retentionDays === null ? null : this.options.retentionDays * 86_400_000;
    const result = await this.receipts.maintain(now, {
      daysAhead: this.options.daysAhead ?? 7,
      runsFinishedBefore: retentionMs === null ? null : new Date(now.getTime() - retentionMs),
    });
    const dropped = result.droppedSegmentDays.length + result.droppedParkedDays.length + result.droppedRuns.length;
    if (dropped > 0 || result.unmatched > 0) this.logger.info({ ...result, created: undefined }, 'receipt retention');
    const audioDays = this.options.audioRetentionDays === undefined ? DEFAULT_AUDIO_RETENTION_DAYS : this.options.audioRetentionDays;
    if (!this.audio || audioDays === null) return result;
    const audio = await this.audio.expire(new Date(now.getTime() - audioDays * 86_400_000), now);
    if (audio.deleted + audio.emptied > 0) this.logger.info({ ...audio, retentionDays: audioDays }, 'audio clip retention');
    return { ...result, audio };
  }

  /** The parked sweep, once. */
  sweep(): Promise<unknown> {
    this.sweeping ??= this.receipts
      .matchParked()
      .then((result) => {
        if (result.applied > 0) this.logger.debug(result, 'parked receipts matched');
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'parked sweep failed; will retry'))
      .finally(() => {
        this.sweeping = null;
      });
    return this.sweeping;
  }

  /** Runs both periodically (the first maintenance at once) until stop(). */
  start(): void {
    if (this.sweepTimer) return;
    const maintain = (): void => {
      this.maintaining ??= this.run()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'receipt maintenance failed; will retry'))
        .finally(() => {
          this.maintaining = null;
        });
    };
    this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepEveryMs ?? 1_000);
    this.maintainTimer = setInterval(maintain, this.options.maintainEveryMs ?? 3_600_000);
    this.sweepTimer.unref();
    this.maintainTimer.unref();
    maintain();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    this.sweepTimer = null;
    this.maintainTimer = null;
    await Promise.all([this.sweeping, this.maintaining]);
  }
}
