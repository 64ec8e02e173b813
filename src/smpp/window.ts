/**
 * The PDUs of one SMPP connection still waiting for their response, keyed by sequence number,
 * each with a deadline. The `smpp` package keeps response callbacks without a timeout and never
 * calls them when the socket closes; this map is how Loa notices both.
 *
 * Every entry gets the same timeout, so insertion order is deadline order and expiry only looks
 * at the oldest entries.
 */
export class PduWindow<T> {
  private readonly entries = new Map<number, { value: T; deadline: number }>();

  constructor(
    /** Most entries held at once. */
    readonly limit: number,
    readonly timeoutMs: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`window limit must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get isFull(): boolean {
    return this.entries.size >= this.limit;
  }

  /** Adds an entry; false (nothing added) when the window is full or the sequence number is taken. */
  add(sequence: number, value: T, now: number): boolean {
    if (this.isFull || this.entries.has(sequence)) return false;
    this.entries.set(sequence, { value, deadline: now + this.timeoutMs });
    return true;
  }

  /** Removes and returns the entry answered by a response; undefined for a late or unknown one. */
  take(sequence: number): T | undefined {
    const entry = this.entries.get(sequence);
    if (!entry) return undefined;
    this.entries.delete(sequence);
    return entry.value;
  }

  /** Removes and returns every entry whose deadline has passed. */
  takeExpired(now: number): T[] {
    const expired: T[] = [];
    for (const [sequence, entry] of this.entries) {
      if (entry.deadline > now) break;
      this.entries.delete(sequence);
      expired.push(entry.value);
    }
    return expired;
  }

  /** Milliseconds until the oldest entry expires (undefined when empty). */
  msUntilNextExpiry(now: number): number | undefined {
    for (const entry of this.entries.values()) return Math.max(0, entry.deadline - now);
    return undefined;
  }

  /** Removes and returns every entry (the connection is gone). */
  takeAll(): T[] {
    const all = [...this.entries.values()].map((entry) => entry.value);
    this.entries.clear();
    return all;
  }
}
