import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { CarrierOutageRepository } from '../store/carrier-outage.repository.js';
import type { BindStateReader } from './bind-state.js';

/** Longest a stop waits for a check in progress. */
const STOP_WAIT_MS = 1_000;

/** What this process last wrote (or found) for a carrier. */
type Known = 'bound' | 'outage' | 'unknown';

/**
 * Turns the deployment's bind state (the sum over every live worker that BindStateReader reads from
 * Redis) into durable outage periods for the daily report. Each worker runs one, on a timer beside
 * its bind-state publisher, never on the submit path: a carrier with no bound session anywhere for
 * `graceMs` gets an open carrier_outages row from the moment it was first seen unbound, closed
 * when any worker is bound again. A start-up (binds not up yet) shorter than the grace leaves no
 * row. With no live worker at all nobody observes, so an open outage stays open until one binds.
 */
export class CarrierOutageRecorder {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly known = new Map<CarrierId, Known>(CARRIER_IDS.map((id) => [id, 'unknown']));
  private readonly unboundSince = new Map<CarrierId, Date>();

  constructor(
    private readonly deps: {
      reader: BindStateReader;
      outages: CarrierOutageRepository;
      /** This worker (its bind-lease owner), recorded for support. */
      worker: string;
      logger: Logger;
      everyMs?: number;
      graceMs?: number;
      clock?: () => number;
    },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.deps.everyMs ?? 1_000);
    this.timer.unref();
  }

  /**
   * Stops the timer and waits for a check in progress (an open outage stays open: others may see
   * it end), for at most `STOP_WAIT_MS`: with Redis away a read waits for it to come back, and a
   * shutdown must not.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]).finally(() => clearTimeout(timer));
  }

  /** One look at the bind state; a failed read or write is tried again at the next look. */
  check(): Promise<void> {
    this.running ??= this.checkOnce()
      .catch((error: unknown) => this.deps.logger.warn({ component: 'carrier-outages', err: error }, 'carrier outages not recorded'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    const { reader, outages, worker, logger } = this.deps;
    const snapshot = await reader.read();
    const now = new Date((this.deps.clock ?? Date.now)());
    for (const id of CARRIER_IDS) {
      const state = snapshot.carriers[id];
      // A carrier configured with no binds is never "without a bind"; no live worker, nobody to tell.
      if (state.allowed === 0 || state.workers === 0) continue;
      if (state.bound > 0) {
        this.unboundSince.delete(id);
        if (this.known.get(id) === 'bound') continue;
        if (await outages.close(id, now, worker)) logger.info({ component: 'carrier-outages', carrier: id }, 'carrier outage ended');
        this.known.set(id, 'bound');
        continue;
      }
      const since = this.unboundSince.get(id) ?? now;
      this.unboundSince.set(id, since);
      if (this.known.get(id) === 'outage' || now.getTime() - since.getTime() < (this.deps.graceMs ?? 10_000)) continue;
      if (await outages.open(id, since, worker)) logger.warn({ component: 'carrier-outages', carrier: id, since }, 'carrier outage: no bind in any worker');
      this.known.set(id, 'outage');
    }
  }
}
