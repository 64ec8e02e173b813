export interface TokenBucketOptions {
  /** Granted segments per second for this bind: the bucket never refills faster. */
  rate: number;
  /** Tokens that may pile up while idle; at least 1. Default: 1 % of the rate (a burst of 10 ms). */
  burst?: number;
  /** Multiplicative decrease applied to the current rate on ESME_RTHROTTLED. */
  decreaseFactor?: number;
  /** The rate never falls below this share of the grant. */
  minRateShare?: number;
  /** Additive recovery towards the grant, in segments/s gained per second without throttling. Default: grant/10. */
  increasePerSecond?: number;
  /**
   * Throttles within this period after a decrease are the same congestion event (every PDU of
   * the window in flight gets 0x58 together) and do not decrease again.
   */
  decreaseCooldownMs?: number;
  /** Monotonic clock in milliseconds. */
  now?: () => number;
}

/**
 * Token bucket of one bind, counted in segments (one submit_sm each, retries included), with
 * AIMD on top: ESME_RTHROTTLED (0x58) cuts the rate multiplicatively, time without throttling
 * adds back linearly up to the grant; ESME_RMSGQFUL (0x14) pauses the bucket. The engine owns
 * the bucket; an SMPP session never throttles by itself (CONVENTIONS.md, Shape 4).
 */
export class TokenBucket {
  private readonly now: () => number;
  private readonly decreaseFactor: number;
  private readonly minRateShare: number;
  private readonly increasePerSecond: number;
  private readonly decreaseCooldownMs: number;
  private grantRate: number;
  private currentRate: number;
  private burst: number;
  private tokens: number;
  private lastRefill: number;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;

  constructor(options: TokenBucketOptions) {
    assertRate(options.rate);
    this.now = options.now ?? (() => performance.now());
    this.decreaseFactor = options.decreaseFactor ?? 0.7;
    this.minRateShare = options.minRateShare ?? 0.05;
    this.increasePerSecond = options.increasePerSecond ?? options.rate / 10;
    this.decreaseCooldownMs = options.decreaseCooldownMs ?? 1000;
    if (!(this.decreaseFactor > 0 && this.decreaseFactor < 1)) throw new RangeError('decreaseFactor must be in (0, 1)');
    this.grantRate = options.rate;
    this.currentRate = options.rate;
    this.burst = Math.max(1, options.burst ?? options.rate / 100);
    this.tokens = this.burst;
    this.lastRefill = this.now();
  }

  /** The granted rate (segments/s). */
  get grant(): number {
    return this.grantRate;
  }

  /** Tokens the bucket holds at most (the largest count tryTake can ever succeed with). */
  get burstTokens(): number {
    return this.burst;
  }

  /** The rate in force now, after AIMD (segments/s). */
  get rate(): number {
    this.refill();
    return this.currentRate;
  }

  get isPaused(): boolean {
    return this.now() < this.pausedUntil;
  }

  /** A new grant (e.g. the carrier's TPS changed); the current rate is clamped to it. */
  setGrant(rate: number, burst?: number): void {
    assertRate(rate);
    this.refill();
    this.grantRate = rate;
    this.currentRate = Math.min(this.currentRate, rate);
    this.burst = Math.max(1, burst ?? rate / 100);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Takes `count` tokens if they are there. */
  tryTake(count = 1): boolean {
    this.refill();
    // EPSILON: a sum of fractional refills (0.1 + 0.1 + …) falls just short of a whole token.
    if (this.now() < this.pausedUntil || this.tokens < count - EPSILON) return false;
    this.tokens -= count;
    return true;
  }

  /** Milliseconds until `count` tokens can be taken (0 when they can now). */
  msUntilAvailable(count = 1): number {
    this.refill();
    const now = this.now();
    if (now < this.pausedUntil) return this.pausedUntil - now + (count > 1 ? ((count - 1) / this.currentRate) * 1000 : 0);
    const missing = count - EPSILON - this.tokens;
    return missing <= 0 ? 0 : (missing / this.currentRate) * 1000;
  }

  /** ESME_RTHROTTLED: multiplicative decrease, once per congestion event. Returns whether the rate changed. */
  onThrottled(): boolean {
    this.refill();
    const now = this.now();
    if (now - this.lastDecrease < this.decreaseCooldownMs) return false;
    this.lastDecrease = now;
    this.currentRate = Math.max(this.grantRate * this.minRateShare, this.currentRate * this.decreaseFactor);
    this.tokens = Math.min(this.tokens, 0);
    return true;
  }

  /** ESME_RMSGQFUL: nothing leaves this bind for `ms`; no tokens accumulate meanwhile. */
  pause(ms: number): void {
    this.refill();
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.tokens = 0;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.lastRefill;
    if (elapsed <= 0) return;
    this.lastRefill = now;
    if (now < this.pausedUntil) {
      this.tokens = 0;
      return;
    }
    // Tokens accrue only from the end of a pause.
    const accruing = Math.min(elapsed, now - this.pausedUntil);
    // Recovery counts only time past the cool-down that follows a decrease.
    const recovering = Math.min(accruing, now - (this.lastDecrease + this.decreaseCooldownMs));
    if (this.currentRate < this.grantRate && recovering > 0) {
      this.currentRate = Math.min(this.grantRate, this.currentRate + (this.increasePerSecond * recovering) / 1000);
    }
    this.tokens = Math.min(this.burst, this.tokens + (this.currentRate * accruing) / 1000);
  }
}

const EPSILON = 1e-9;

function assertRate(rate: number): void {
  if (!(Number.isFinite(rate) && rate > 0)) throw new RangeError(`rate must be a positive number, got ${rate}`);
}
