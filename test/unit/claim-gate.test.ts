import { describe, expect, it } from 'vitest';
import { ClaimGate } from '../../src/jobs/claim-gate.js';

describe(ClaimGate.name, () => {
  it('holds rows up to the bound, queues claims beyond it in order, and asks for writes when one waits', async () => {
    let asked = 0;
    const sut = new ClaimGate(() => 10, () => (asked += 1));
    await sut.acquire(6);
    const order: string[] = [];
    const a = sut.acquire(7).then(() => order.push('a'));
    const b = sut.acquire(2).then(() => order.push('b'));
    await Promise.resolve();
    expect(sut.held).toBe(6);
    expect(sut.waiting).toBe(true);
    expect(asked).toBe(2);
    sut.release(2);
    await Promise.resolve();
    // FIFO: b would fit (4 + 2 ≤ 10) but waits behind a (4 + 7 > 10).
    expect(order).toEqual([]);
    sut.release(4);
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(sut.held).toBe(9);
    expect(sut.peak).toBe(9);
    expect(sut.waiting).toBe(false);
  });

  it('rejects a waiting claim on abort and lets the next one through', async () => {
    const sut = new ClaimGate(() => 4);
    await sut.acquire(4);
    const abort = new AbortController();
    const first = sut.acquire(3, abort.signal);
    const second = sut.acquire(1);
    abort.abort(new Error('stop'));
    await expect(first).rejects.toThrow('stop');
    sut.release(1);
    await second;
    expect(sut.held).toBe(4);
  });

  it('lets a chunk larger than the bound through alone rather than never', async () => {
    const sut = new ClaimGate(() => 2);
    await sut.acquire(5);
    expect(sut.held).toBe(5);
  });
});
