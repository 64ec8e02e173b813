import type { CarrierId } from '../domain/carrier.js';

/**
 * Urgent before normal on one carrier, within one worker process (issue 9, item 2).
 *
 * Every submit job of a carrier shares the process's binds and their token buckets (the carrier's
 * grant), and the Submitter sends parts in the order they were handed to it. A normal batch keeps
 * up to a few windows of parts claimed and waiting, so an urgent batch arriving behind them would
 * wait seconds at 100 TPS. So while an urgent submit job of the carrier runs here, the normal ones
 * give way: each stops its round (its parts not yet sent come back unsent and return to `queued`;
 * the PDUs in flight finish), waits until no urgent job of the carrier is left, and then claims
 * again from the start of its range. Normal jobs in other processes go on with their own binds:
 * an urgent batch there gets the same treatment, and the urgent queue lane (queues.ts) has slots of
 * its own in every process, so urgent batches never wait behind normal ones anywhere.
 */
export class UrgentFirst {
  private readonly running = new Map<CarrierId, number>();
  private readonly yielders = new Map<CarrierId, Set<() => void>>();
  private readonly idleWaiters = new Map<CarrierId, Set<() => void>>();

  /**
   * @param lingerMs how long after the last urgent job of a carrier ended the normal ones wait
   *   before claiming again: an urgent run's next batch usually follows at once.
   */
  constructor(private readonly lingerMs = 100) {}

  /** An urgent job of `carrier` starts: normal jobs of the carrier give way now. Call the result when it ends. */
  enter(carrier: CarrierId): () => void {
    this.running.set(carrier, (this.running.get(carrier) ?? 0) + 1);
    for (const giveWay of [...(this.yielders.get(carrier) ?? [])]) giveWay();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const count = (this.running.get(carrier) ?? 1) - 1;
      this.running.set(carrier, count);
      if (count === 0) for (const wake of [...(this.idleWaiters.get(carrier) ?? [])]) wake();
    };
  }

  /** Urgent jobs of `carrier` running in this process now. */
  urgentRunning(carrier: CarrierId): number {
    return this.running.get(carrier) ?? 0;
  }

  /** `giveWay` is called each time an urgent job of `carrier` starts, until the returned function is called. */
  onUrgent(carrier: CarrierId, giveWay: () => void): () => void {
    let set = this.yielders.get(carrier);
    if (!set) this.yielders.set(carrier, (set = new Set()));
    set.add(giveWay);
    return () => set.delete(giveWay);
  }

  /** Resolves once no urgent job of `carrier` has run for lingerMs (at once when none runs), or on abort. */
  async whenIdle(carrier: CarrierId, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.urgentRunning(carrier) > 0) {
      await new Promise<void>((resolve) => {
        let set = this.idleWaiters.get(carrier);
        if (!set) this.idleWaiters.set(carrier, (set = new Set()));
        const done = (): void => {
          set.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        set.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
      if (signal.aborted) return;
      await new Promise<void>((resolve) => setTimeout(resolve, this.lingerMs));
    }
  }
}
