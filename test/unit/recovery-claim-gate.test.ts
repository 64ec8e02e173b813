import { describe, expect, it } from 'vitest';
import { ClaimGate } from '../../src/jobs/claim-gate.js';

describe(`${ClaimGate.name} exclusive (recovery of a claim whose reply was lost)`, () => {
  it('waits until no row is held, keeps claims waiting while the task runs, then lets them through', async () => {
    const sut = new ClaimGate(() => 10);
    await sut.acquire(4);
    const order: string[] = [];
    let finish!: () => void;
    const task = sut.exclusive(async () => {
      order.push(`task started with ${sut.held} held`);
      await new Promise<void>((resolve) => (finish = resolve));
      order.push('task done');
      return 7;
    });
    const claim = sut.acquire(2).then(() => order.push('claim'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    // 4 rows still held: the task waits, and so does the claim (it would fit, but the gate is closed).
    expect(order).toEqual([]);
    sut.release(4);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(order).toEqual(['task started with 0 held']);
    finish();
    expect(await task).toBe(7);
    await claim;
    expect(order).toEqual(['task started with 0 held', 'task done', 'claim']);
    expect(sut.held).toBe(2);
    expect(sut.peak).toBe(4);
  });

  it('reopens the gate when the task fails', async () => {
    const sut = new ClaimGate(() => 10);
    await expect(sut.exclusive(() => Promise.reject(new Error('PostgreSQL away')))).rejects.toThrow('PostgreSQL away');
    await sut.acquire(3);
    expect(sut.held).toBe(3);
  });
});
