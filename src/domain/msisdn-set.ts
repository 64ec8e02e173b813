/**
 * A set of normalised Vietnamese MSISDNs for deduplicating audiences in bounded memory.
 *
 * Keys are the 9 national digits (< 1e9). Up to SWITCH_AT numbers a Set<number> is smallest
 * (small integers are unboxed; ~30 bytes per entry, so 1M numbers ≈ 30 MB). Beyond that it
 * moves to a bitset over the whole 9-digit space: a fixed 125 MB however many numbers, where a
 * Set would keep growing (and V8 caps a Set at 2^24 entries, below a big province's audience).
 */
import { msisdnKey } from './msisdn.js';

const KEY_SPACE = 1_000_000_000;
export const SWITCH_AT = 4_000_000;

export class MsisdnSet {
  private small: Set<number> | null = new Set<number>();
  private bits: Uint32Array | null = null;
  private count = 0;

  constructor(private readonly switchAt = SWITCH_AT) {}

  get size(): number {
    return this.count;
  }

  /** Whether the set holds the bitset (for reports and tests). */
  get dense(): boolean {
    return this.bits !== null;
  }

  /** Adds a normalised MSISDN (84XXXXXXXXX); false when it was already there. */
  add(msisdn: string): boolean {
    return this.addKey(msisdnKey(msisdn));
  }

  has(msisdn: string): boolean {
    const key = msisdnKey(msisdn);
    if (this.small) return this.small.has(key);
    const bits = this.bits as Uint32Array;
    return ((bits[key >>> 5] ?? 0) & (1 << (key & 31))) !== 0;
  }

  /** Adds a key from msisdnKey; false when it was already there. */
  addKey(key: number): boolean {
    if (!Number.isInteger(key) || key < 0 || key >= KEY_SPACE) throw new RangeError(`MSISDN key out of range: ${key}`);
    if (this.small) {
      if (this.small.has(key)) return false;
      this.small.add(key);
      this.count++;
      if (this.small.size >= this.switchAt) this.densify();
      return true;
    }
    const bits = this.bits as Uint32Array;
    const word = key >>> 5;
    const mask = 1 << (key & 31);
    const current = bits[word] ?? 0;
    if (current & mask) return false;
    bits[word] = current | mask;
    this.count++;
    return true;
  }

  private densify(): void {
    const bits = new Uint32Array(Math.ceil(KEY_SPACE / 32));
    for (const key of this.small as Set<number>) bits[key >>> 5] = (bits[key >>> 5] ?? 0) | (1 << (key & 31));
    this.bits = bits;
    this.small = null;
  }
}
