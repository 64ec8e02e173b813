import { describe, expect, it } from 'vitest';
import { loadCarriersConfig } from '../../src/config.js';
import { jobId, queueOf, QUEUE_NAMES, submitQueuesOf } from '../../src/jobs/queues.js';
import { UrgentFirst } from '../../src/jobs/urgent-first.js';

describe(UrgentFirst.name, () => {
  it('tells the normal jobs of a carrier to give way when an urgent one starts, and only those', () => {
    const sut = new UrgentFirst(0);
    const gaveWay: string[] = [];
    const stopViettel = sut.onUrgent('viettel', () => gaveWay.push('viettel'));
    sut.onUrgent('vnpt', () => gaveWay.push('vnpt'));
    const leave = sut.enter('viettel');
    expect(gaveWay).toEqual(['viettel']);
    expect(sut.urgentRunning('viettel')).toBe(1);
    stopViettel();
    sut.enter('viettel')();
    expect(gaveWay).toEqual(['viettel']);
    leave();
    leave();
    expect(sut.urgentRunning('viettel')).toBe(0);
  });

  it('lets normal jobs go on once no urgent job of the carrier has run for the linger time', async () => {
    const sut = new UrgentFirst(30);
    const abort = new AbortController();
    await sut.whenIdle('viettel', abort.signal); // none running: at once
    const first = sut.enter('viettel');
    const second = sut.enter('viettel');
    let idle = false;
    const waiting = sut.whenIdle('viettel', abort.signal).then(() => (idle = true));
    first();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(idle).toBe(false);
    second();
    // A next urgent batch right after the last one ended: still not idle.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const third = sut.enter('viettel');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(idle).toBe(false);
    third();
    await waiting;
    expect(idle).toBe(true);
  });

  it('stops waiting when the job is aborted', async () => {
    const sut = new UrgentFirst(0);
    sut.enter('mobifone');
    const abort = new AbortController();
    const waiting = sut.whenIdle('mobifone', abort.signal);
    abort.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('queue lanes', () => {
  it('puts urgent jobs in lanes of their own, with the same job ids', () => {
    const payload = { runId: 7, carrier: 'vnpt' as const, fromId: 1, toId: 10 };
    expect(queueOf('submit', payload)).toBe('submit-vnpt');
    expect(queueOf('submit', payload, 'urgent')).toBe('submit-vnpt-urgent');
    expect(queueOf('compile', { runId: 7 }, 'urgent')).toBe('compile-urgent');
    expect(jobId('submit', payload)).toBe('run-7.vnpt.1-10');
    expect(submitQueuesOf('vnpt')).toEqual(['submit-vnpt', 'submit-vnpt-urgent']);
    expect(QUEUE_NAMES).toEqual(expect.arrayContaining(['compile', 'compile-urgent', 'submit-viettel-urgent', 'submit-mobifone']));
  });
});

describe('LOA_WORKER_MAX_BINDS', () => {
  it('caps one worker’s binds per carrier when set, and is refused naming the variable when not a count', () => {
    expect(loadCarriersConfig({}).workerMaxBinds).toBeNull();
    expect(loadCarriersConfig({ LOA_WORKER_MAX_BINDS: '2' }).workerMaxBinds).toBe(2);
    expect(() => loadCarriersConfig({ LOA_WORKER_MAX_BINDS: '0' })).toThrow(/LOA_WORKER_MAX_BINDS/);
    expect(() => loadCarriersConfig({ LOA_WORKER_MAX_BINDS: 'two' })).toThrow(/LOA_WORKER_MAX_BINDS/);
  });
});
