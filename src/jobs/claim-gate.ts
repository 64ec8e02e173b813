/**
 * How many message rows one process may hold in `submitting` for one carrier, across all the
 * submit jobs it runs at once (issue 8, item 5: "a crash leaves at most window × binds rows
 * ambiguous, not a batch"). SubmitWorker keeps two per carrier: one over every row held until its
 * result is written (3 × W), one over the rows not yet answered (W), released when decided.
 *
 * A row is held from the claim (queued → submitting) until the statement that moves it out of
 * `submitting` has committed, so the count covers the chunk being claimed, the parts waiting for a
 * window slot, the PDUs in flight and the outcomes decided but not yet written. A claim waits
 * (FIFO) until `held + chunk ≤ limit()`; `onWait` is called when it has to, so the result writers
 * write what they have at once instead of at their next tick (backpressure, not a timer).
 */
export class ClaimGate {
  private heldRows = 0;
  private peakRows = 0;
  /** exclusive() tasks running or waiting: claims wait meanwhile. */
  private blocked = 0;
  private readonly idle: Array<() => void> = [];
  private readonly waiters: Array<{ rows: number; resolve: () => void; reject: (error: unknown) => void; signal?: AbortSignal; onAbort?: () => void }> = [];

  constructor(
    private readonly limit: () => number,
    private readonly onWait: () => void = () => undefined,
  ) {}

  /** Rows held now. */
  get held(): number {
    return this.heldRows;
  }

  /** The most rows held at once since the gate was made (what the bound test reads). */
  get peak(): number {
    return this.peakRows;
  }

  /** Claims are waiting for room. */
  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** The bound now (it follows the binds this process holds). */
  get bound(): number {
    return this.limit();
  }

  /** Waits until `rows` more fit under the bound, then holds them. Rejects with the signal's reason on abort. */
  acquire(rows: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    // A chunk larger than the whole bound would wait forever: it may only run alone.
    if (this.waiters.length === 0 && this.fits(rows)) {
      this.take(rows);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = { rows, resolve, reject };
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal.reason ?? new Error('aborted'));
          this.wake();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.onWait();
    });
  }

  /** Rows no longer in `submitting` (their write committed, or the claim returned fewer). */
  release(rows: number): void {
    if (rows <= 0) return;
    this.heldRows = Math.max(0, this.heldRows - rows);
    if (this.heldRows === 0) for (const resolve of this.idle.splice(0)) resolve();
    this.wake();
  }

  /**
   * Runs `task` once this process holds no rows of the carrier, with every claim waiting until it
   * is done (issue 9, item 7): then any `submitting` row under this process's lease is one that no
   * job holds — a claim whose reply PostgreSQL never delivered — and may be put back safely.
   */
  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    this.blocked += 1;
    try {
      while (this.heldRows > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      return await task();
    } finally {
      this.blocked -= 1;
      this.wake();
    }
  }

  private fits(rows: number): boolean {
    if (this.blocked > 0) return false;
    return this.heldRows + rows <= this.limit() || this.heldRows === 0;
  }

  private take(rows: number): void {
    this.heldRows += rows;
    if (this.heldRows > this.peakRows) this.peakRows = this.heldRows;
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.rows)) {
      const waiter = this.waiters.shift()!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      this.take(waiter.rows);
      waiter.resolve();
    }
  }
}
