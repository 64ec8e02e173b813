import type { Logger } from '../logger.js';

/** What a person is told about (LOA_ALERT_WEBHOOK gets it as the JSON body). */
export interface AlertEvent {
  /** `run.paused`, or `run.resumed` when the engine resumed a run by itself (a carrier bound again). */
  event: 'run.paused' | 'run.resumed';
  runId: number;
  /** The pause code: 'auto' (submit path), `auto:no-bind:<carrier>` (resumes when it binds), 'quiet-hours', 'operator'. */
  code: string;
  /** What a person reads: the submit path's reason, e.g. the SMPP status that stopped the run. */
  reason: string | null;
  at: string;
}

export interface AlertSink {
  /** Never waits for the delivery and never throws: the engine must not be held up by a webhook. */
  notify(event: AlertEvent): void;
}

export interface AlertWebhookOptions {
  /** Attempts per event (default 4). */
  attempts?: number;
  /** First retry after this many ms, doubling each time (default 1000). */
  backoffMs?: number;
  /** Per attempt (default 5000). */
  timeoutMs?: number;
  /** Events waiting at most; beyond it the oldest are dropped and logged (default 1000). */
  maxPending?: number;
}

/**
 * POSTs each event to a webhook at once, retrying with exponential back-off on a network error or
 * a non-2xx answer. Delivery runs in the background: `notify` returns immediately.
 */
export class AlertWebhook implements AlertSink {
  private pending = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly logger: Logger;

  constructor(
    private readonly url: string,
    logger: Logger,
    private readonly options: AlertWebhookOptions = {},
  ) {
    this.logger = logger.child({ component: 'alert-webhook' });
  }

  notify(event: AlertEvent): void {
    if (this.pending >= (this.options.maxPending ?? 1000)) {
      this.logger.error({ runId: event.runId, event: event.event }, 'alert dropped: too many undelivered alerts');
      return;
    }
    this.pending += 1;
    const delivery = this.deliver(event).finally(() => {
      this.pending -= 1;
      this.inFlight.delete(delivery);
    });
    this.inFlight.add(delivery);
  }

  /** Waits for the deliveries under way (tests, and a clean stop). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(event: AlertEvent): Promise<void> {
    const attempts = this.options.attempts ?? 4;
    let wait = this.options.backoffMs ?? 1000;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const response = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        await response.body?.cancel();
        if (response.ok) return;
        this.logger.warn({ runId: event.runId, status: response.status, attempt }, 'alert webhook refused the event');
      } catch (error) {
        this.logger.warn({ runId: event.runId, attempt, err: (error as Error).message }, 'alert webhook unreachable');
      }
      if (attempt < attempts) {
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
        wait *= 2;
      }
    }
    this.logger.error({ runId: event.runId, event: event.event }, 'alert not delivered after every attempt');
  }
}
