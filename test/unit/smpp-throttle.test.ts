import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/smpp/backoff.js';
import { TokenBucket } from '../../src/smpp/token-bucket.js';
import { PduWindow } from '../../src/smpp/window.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Takes every token available at each 1 ms step for `ms` and returns how many were taken. */
function drain(sut: TokenBucket, clock: ReturnType<typeof manualClock>, ms: number): number {
  let taken = 0;
  for (let step = 0; step < ms; step++) {
    while (sut.tryTake()) taken += 1;
    clock.advance(1);
  }
  return taken;
}

describe(TokenBucket.name, () => {
  it.each([
    [10, 1_000],
    [100, 1_000],
    [1_000, 1_000],
    [5_000, 2_000],
  ])('at %d segments/s never gives more than rate·t + burst over %d ms', (rate, ms) => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate, now: clock.now });
    const taken = drain(sut, clock, ms);
    const burst = Math.max(1, rate / 100);
    expect(taken).toBeLessThanOrEqual(Math.floor((rate * ms) / 1000 + burst));
    expect(taken).toBeGreaterThanOrEqual(Math.floor((rate * ms) / 1000) - 1);
  });

  it('starts with a full burst and no more', () => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate: 1_000, burst: 5, now: clock.now });
    let taken = 0;
    while (sut.tryTake()) taken += 1;
    expect(taken).toBe(5);
    clock.advance(60_000);
    taken = 0;
    while (sut.tryTake()) taken += 1;
    expect(taken).toBe(5);
  });

  it('says how long until the next token', () => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate: 100, burst: 1, now: clock.now });
    expect(sut.msUntilAvailable()).toBe(0);
    expect(sut.tryTake()).toBe(true);
    expect(sut.msUntilAvailable()).toBeCloseTo(10, 5);
    clock.advance(4);
    expect(sut.msUntilAvailable()).toBeCloseTo(6, 5);
  });

  it('decreases multiplicatively on throttling, once per congestion event', () => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate: 1_000, decreaseFactor: 0.5, decreaseCooldownMs: 500, now: clock.now });
    expect(sut.onThrottled()).toBe(true);
    expect(sut.rate).toBe(500);
    // The rest of the window comes back 0x58 at the same moment: same event.
    expect(sut.onThrottled()).toBe(false);
    expect(sut.rate).toBe(500);
    clock.advance(500);
    expect(sut.onThrottled()).toBe(true);
    expect(sut.rate).toBe(250);
  });

  it('never falls below the floor', () => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate: 1_000, decreaseFactor: 0.1, minRateShare: 0.05, decreaseCooldownMs: 0, increasePerSecond: 0.000001, now: clock.now });
    for (let i = 0; i < 10; i++) sut.onThrottled();
    expect(sut.rate).toBeCloseTo(50, 3);
  });

  it('recovers additively up to the grant and not beyond', () => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate: 1_000, decreaseFactor: 0.5, increasePerSecond: 100, decreaseCooldownMs: 1_000, now: clock.now });
    sut.onThrottled();
    clock.advance(1_000);
    expect(sut.rate).toBe(500);
    clock.advance(2_000);
    expect(sut.rate).toBeCloseTo(700, 5);
    clock.advance(60_000);
    expect(sut.rate).toBe(1_000);
  });

  it('pauses on queue-full: nothing for the pause, no burst piled up after it', () => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate: 1_000, burst: 10, now: clock.now });
    sut.pause(200);
    expect(sut.isPaused).toBe(true);
    expect(sut.tryTake()).toBe(false);
    expect(sut.msUntilAvailable()).toBeCloseTo(200, 5);
    clock.advance(199);
    expect(sut.tryTake()).toBe(false);
    clock.advance(3);
    expect(sut.isPaused).toBe(false);
    let taken = 0;
    while (sut.tryTake()) taken += 1;
    expect(taken).toBeLessThanOrEqual(2);
  });

  it('applies a new grant, clamping the current rate', () => {
    const clock = manualClock();
    const sut = new TokenBucket({ rate: 1_000, now: clock.now });
    sut.setGrant(200);
    expect(sut.grant).toBe(200);
    expect(sut.rate).toBe(200);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses rate %s', (rate) => {
    expect(() => new TokenBucket({ rate })).toThrow(RangeError);
  });
});

describe(PduWindow.name, () => {
  it('holds at most its limit', () => {
    const sut = new PduWindow<string>(2, 1_000);
    expect(sut.add(1, 'a', 0)).toBe(true);
    expect(sut.add(2, 'b', 0)).toBe(true);
    expect(sut.isFull).toBe(true);
    expect(sut.add(3, 'c', 0)).toBe(false);
    expect(sut.size).toBe(2);
  });

  it('refuses a sequence number already outstanding', () => {
    const sut = new PduWindow<string>(5, 1_000);
    sut.add(7, 'a', 0);
    expect(sut.add(7, 'b', 0)).toBe(false);
    expect(sut.take(7)).toBe('a');
  });

  it('hands an entry to its response once', () => {
    const sut = new PduWindow<string>(5, 1_000);
    sut.add(1, 'a', 0);
    expect(sut.take(1)).toBe('a');
    expect(sut.take(1)).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('expires entries in deadline order and only those due', () => {
    const sut = new PduWindow<string>(10, 100);
    sut.add(1, 'a', 0);
    sut.add(2, 'b', 50);
    sut.add(3, 'c', 80);
    expect(sut.takeExpired(99)).toEqual([]);
    expect(sut.msUntilNextExpiry(99)).toBe(1);
    expect(sut.takeExpired(150)).toEqual(['a', 'b']);
    expect(sut.size).toBe(1);
    expect(sut.takeAll()).toEqual(['c']);
    expect(sut.msUntilNextExpiry(0)).toBeUndefined();
  });

  it.each([0, -1, 1.5])('refuses limit %s', (limit) => {
    expect(() => new PduWindow(limit, 1)).toThrow(RangeError);
  });
});

describe(backoffDelay.name, () => {
  const policy = { baseMs: 100, maxMs: 5_000 };

  it.each([
    [0, 50, 100],
    [1, 100, 200],
    [3, 400, 800],
    [10, 2_500, 5_000],
  ])('attempt %d waits between %d and %d ms', (attempt, low, high) => {
    expect(backoffDelay(attempt, policy, () => 0)).toBe(low);
    expect(backoffDelay(attempt, policy, () => 0.999999)).toBeLessThanOrEqual(high);
    expect(backoffDelay(attempt, policy, () => 0.999999)).toBeGreaterThan(high - 1);
  });

  it('spreads retries (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
