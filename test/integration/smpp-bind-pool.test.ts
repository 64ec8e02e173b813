import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { CarrierConfig } from '../../src/config.js';
import { normalizeMessageId } from '../../src/domain/receipt.js';
import { createRedis } from '../../src/jobs/redis.js';
import { carrierConfigFor } from '../../src/sim/fixtures.js';
import { SmscSimulator } from '../../src/sim/smsc-simulator.js';
import { BindPool } from '../../src/smpp/bind-pool.js';
import { CollectingSink, eventually, numberIn, submitterFor, testLogger as logger, testParts, useCleanups } from '../helpers/smpp.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const credentials = { systemId: 'loa-pool', password: 'secret' };
const prefix = `loa-test-smpp-pool-${randomUUID()}`;
const LEASE_MS = 1_500;

function parts(count: number, registeredDelivery = 0) {
  return testParts(count, { registeredDelivery, destination: (i) => numberIn('8496', i), shortMessage: (i) => Buffer.from(`pool ${i}`, 'latin1') });
}

/**
 * A real second worker process: the same BindPool code in a child Node process with its own
 * Redis connection. It prints one JSON line per bind change.
 */
function spawnWorker(carrier: CarrierConfig, keyPrefix: string): { child: ChildProcess; bound: () => number; exited: Promise<void> } {
  const code = `
    const { Redis } = await import('ioredis');
    const { BindPool } = await import(${JSON.stringify(new URL('src/smpp/bind-pool.ts', `file://${repoRoot}`).href)});
    const { CARRIER_PROFILES } = await import(${JSON.stringify(new URL('adapters/carriers/index.ts', `file://${repoRoot}`).href)});
    const { createLogger } = await import(${JSON.stringify(new URL('src/logger.ts', `file://${repoRoot}`).href)});
    const options = JSON.parse(process.env.LOA_TEST_WORKER);
    const redis = new Redis(options.redisUrl);
    const pool = new BindPool({
      carrier: options.carrier, redis, prefix: options.prefix,
      receiptSink: { accept() {}, unreadable() {} }, logger: createLogger('silent'), leaseMs: options.leaseMs,
    });
    const report = () => process.stdout.write(JSON.stringify({ bound: pool.boundCount }) + '\\n');
    pool.on('bound', report);
    pool.on('unbound', report);
    await pool.start();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, LOA_TEST_WORKER: JSON.stringify({ redisUrl, carrier, prefix: keyPrefix, leaseMs: LEASE_MS }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let bound = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      bound = (JSON.parse(line) as { bound: number }).bound;
    } catch {
      // not ours
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL' && stderr) process.stderr.write(`worker: ${stderr}\n`);
      resolve();
    }),
  );
  return { child, bound: () => bound, exited };
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([promise, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms))]);
}

describe(BindPool.name, () => {
  const cleanups = useCleanups();
  const clients: Redis[] = [];

  function redisClient(): Redis {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  afterAll(async () => {
    const redis = redisClient();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    for (const client of clients) client.disconnect();
  });

  /** A TCP proxy in front of Redis that a test cuts (down) to make Redis unreachable for real. */
  async function redisProxy(): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(redisUrl);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    target.hostname = '127.0.0.1';
    target.port = String(await proxy.listen());
    cleanups.push(() => proxy.close());
    return { proxy, url: target.toString() };
  }

  /** A client made as the worker makes its own (it retries every command for ever), through the proxy. */
  function workerRedis(url: string): Redis {
    const client = createRedis(url, 'loa-test-worker');
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  async function simulator(options: Partial<ConstructorParameters<typeof SmscSimulator>[0]> = {}): Promise<SmscSimulator> {
    const sim = new SmscSimulator({ carrier: 'viettel', ...credentials, ...options });
    await sim.listen();
    cleanups.push(() => sim.close());
    return sim;
  }

  function pool(carrier: CarrierConfig, keyPrefix: string, options: Partial<ConstructorParameters<typeof BindPool>[0]> = {}): BindPool {
    const sut = new BindPool({
      carrier,
      redis: redisClient(),
      prefix: keyPrefix,
      receiptSink: new CollectingSink(),
      logger,
      leaseMs: LEASE_MS,
      ...options,
    });
    cleanups.push(() => sut.stop());
    return sut;
  }

  it('never lets two worker processes hold more binds than allowed, and takes over after one is killed', async () => {
    // The simulator does not refuse extra binds here: it measures them.
    const sim = await simulator({ maxBinds: 0 });
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 2, tps: 200 });
    const keyPrefix = `${prefix}:${randomUUID()}`;
    const worker = spawnWorker(carrier, keyPrefix);
    cleanups.push(async () => {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
    });
    await eventually(() => worker.bound() === 2, 15_000, 'the child worker to bind twice');

    const sut = pool(carrier, keyPrefix);
    await sut.start();
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(sut.boundCount).toBe(0);
    expect(sut.heldCount).toBe(0);
    expect(sim.stats.currentBinds).toBe(2);

    worker.child.kill('SIGKILL');
    await worker.exited;
    await eventually(() => sut.boundCount === 2, LEASE_MS * 4, 'takeover of both binds');

    expect(sim.stats.maxConcurrentBinds).toBe(2);
    expect(Math.max(...sim.bindTimeline.map((point) => point.binds))).toBeLessThanOrEqual(2);
    expect(sim.stats.bindsRefused).toBe(0);
    expect(sim.stats.bindsAccepted).toBe(4);

    const submitter = submitterFor('viettel', sut, sut.tpsPerBind, { messageIdFormat: sut.messageIdFormats.submit });
    const summary = await submitter.run([parts(40)], { beforeSend: async (batch) => batch, onResult: () => {} });
    submitter.dispose();
    expect(summary).toMatchObject({ parts: 40, submitted: 40 });
    expect(new Set(sim.submits.map((record) => record.connection)).size).toBe(2);
  });

  it('shares the slots between processes and closes a bind whose lease is taken away', async () => {
    const sim = await simulator({ maxBinds: 0 });
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 2 });
    const keyPrefix = `${prefix}:${randomUUID()}`;
    const a = pool(carrier, keyPrefix, { maxLocalBinds: 1 });
    const b = pool(carrier, keyPrefix, { maxLocalBinds: 1 });
    await a.start();
    await b.start();
    await eventually(() => a.boundCount === 1 && b.boundCount === 1, 5_000, 'one bind each');
    const lost: number[] = [];
    a.on('lease-lost', (slot) => lost.push(slot));

    const redis = redisClient();
    const keys = await redis.keys(`${keyPrefix}:bind:viettel:*`);
    const owners = await Promise.all(keys.map(async (key) => [key, await redis.get(key)] as const));
    const aKey = owners.find(([, owner]) => owner === a.owner)![0];
    await redis.set(aKey, 'intruder', 'PX', 60_000);

    await eventually(() => a.boundCount === 0, LEASE_MS * 2, 'a to close its bind');
    expect(lost).toHaveLength(1);
    expect(b.boundCount).toBe(1);
    await eventually(() => sim.stats.currentBinds === 1, 1_000, 'the SMSC to see one bind');
    expect(sim.stats.maxConcurrentBinds).toBe(2);

    await redis.del(aKey);
    await eventually(() => a.boundCount === 1, LEASE_MS * 3, 'a to bind again');
    expect(Math.max(...sim.bindTimeline.map((point) => point.binds))).toBeLessThanOrEqual(2);
  });

  it('closes its binds before their leases expire when Redis is unreachable, so another process can take over safely', async () => {
    const sim = await simulator({ maxBinds: 0 });
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 1 });
    const keyPrefix = `${prefix}:${randomUUID()}`;
    const cutOff = redisClient();
    const a = new BindPool({ carrier, redis: cutOff, prefix: keyPrefix, receiptSink: new CollectingSink(), logger, leaseMs: LEASE_MS });
    cleanups.push(() => a.stop());
    await a.start();
    await eventually(() => a.boundCount === 1, 5_000, 'a bound');
    const b = pool(carrier, keyPrefix);
    await b.start();

    cutOff.disconnect();
    await eventually(() => b.boundCount === 1, LEASE_MS * 4, 'b to take over');
    expect(a.boundCount).toBe(0);
    expect(Math.max(...sim.bindTimeline.map((point) => point.binds))).toBe(1);
  });

  it('unbinds everything and releases its leases on stop()', async () => {
    const sim = await simulator();
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 3 });
    const keyPrefix = `${prefix}:${randomUUID()}`;
    const sut = pool(carrier, keyPrefix);
    const bound: string[] = [];
    sut.on('bound', (session) => bound.push(session.id));
    await sut.start();
    await eventually(() => sut.boundCount === 3, 5_000, 'three binds');
    expect(bound.sort()).toEqual(['viettel/0', 'viettel/1', 'viettel/2']);

    await sut.stop();
    expect(sut.boundCount).toBe(0);
    expect(await redisClient().keys(`${keyPrefix}:*`)).toEqual([]);
    await eventually(() => sim.stats.currentBinds === 0, 1_000, 'the SMSC to see no binds');
  });

  it('hands receipts from a transmitter+receiver pair to the sink, read from the text and normalised to the submit ids', async () => {
    // This SMSC also labels its ASCII receipt text as UCS-2 (data_coding 8), as some do.
    const sim = await simulator({
      messageIds: { submit: 'dec', receipt: 'hex' },
      receipts: { delayMs: { min: 0, max: 20 }, outcomes: { delivered: 1, undeliverable: 1, expired: 0, rejected: 0 }, dataCoding: 8, style: 'text' },
    });
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 1, bindMode: 'transmitter+receiver', messageId: { submit: 'dec', receipt: 'hex' } });
    const sink = new CollectingSink();
    const sut = pool(carrier, `${prefix}:${randomUUID()}`, { receiptSink: sink });
    await sut.start();
    await eventually(() => sut.boundCount === 1 && sim.stats.currentBinds === 2, 5_000, 'transmitter and receiver');

    const submitter = submitterFor('viettel', sut, 1_000, { messageIdFormat: sut.messageIdFormats.submit });
    const ids: string[] = [];
    const summary = await submitter.run([parts(60, 1)], {
      beforeSend: async (batch) => batch,
      onResult: (_, outcome) => {
        if (outcome.outcome === 'submitted') ids.push(outcome.messageId);
      },
    });
    submitter.dispose();
    expect(summary.submitted).toBe(60);
    await eventually(() => sink.receipts.length === 60, 5_000, 'receipts');

    expect(new Set(sink.receipts.map((receipt) => receipt.messageId))).toEqual(new Set(ids));
    expect(new Set(sim.submits.map((record) => normalizeMessageId(record.messageId, 'dec')))).toEqual(new Set(ids));
    const receivers = new Set(sim.submits.map((record) => record.connection));
    expect(receivers.size).toBe(1);
    expect(new Set(sink.receipts.map((receipt) => receipt.state))).toEqual(new Set(['delivered', 'undeliverable']));
    expect(sink.receipts.every((receipt) => receipt.carrier === 'viettel' && receipt.raw.startsWith('id:'))).toBe(true);
  });

  it('strips control characters from receipts, NUL padding included, before the sink sees them', async () => {
    const sim = await simulator();
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 1, messageId: { submit: 'hex', receipt: 'hex' } });
    const sink = new CollectingSink();
    const sut = pool(carrier, `${prefix}:${randomUUID()}`, { receiptSink: sink });
    await sut.start();
    await eventually(() => sut.boundCount === 1, 5_000, 'a bind');

    const text = 'id:1A2B sub:001 dlvrd:000 submit date:2501011200 done date:2501011201 stat:UNDELIV err:0\u000112 text:Canh bao\u0000\u0000\u0000';
    expect(sim.sendDeliverSm({ esmClass: 0x04, shortMessage: Buffer.from(text, 'latin1') })).toBe(1);
    sim.sendDeliverSm({ esmClass: 0x04, receiptedMessageId: '\u0002FF', messageState: 2, shortMessage: Buffer.from('\u0000\u0000', 'latin1') });
    await eventually(() => sink.receipts.length === 2, 2_000, 'two receipts');

    // eslint-disable-next-line no-control-regex -- what PostgreSQL text must not get
    const control = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
    for (const receipt of sink.receipts) {
      for (const value of [receipt.raw, receipt.messageId, receipt.error ?? '']) expect(value).not.toMatch(control);
    }
    expect(sink.receipts[0]).toMatchObject({
      messageId: normalizeMessageId('1A2B', 'hex'),
      state: 'undeliverable',
      error: '012',
      raw: 'id:1A2B sub:001 dlvrd:000 submit date:2501011200 done date:2501011201 stat:UNDELIV err:012 text:Canh bao',
    });
    expect(sink.receipts[1]).toMatchObject({ messageId: normalizeMessageId('FF', 'hex'), state: 'delivered', raw: '' });
  });

  it('hands a receipt it cannot read to the sink as unreadable, after acknowledging it', async () => {
    const sim = await simulator();
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 1 });
    const sink = new CollectingSink();
    const sut = pool(carrier, `${prefix}:${randomUUID()}`, { receiptSink: sink });
    await sut.start();
    await eventually(() => sut.boundCount === 1, 5_000, 'a bind');

    const before = new Date();
    sim.sendDeliverSm({ esmClass: 0x04, shortMessage: Buffer.from('garbled\u0000 receipt\u0007 stat:DELIVRD', 'latin1') });
    await eventually(() => sink.unreadables.length === 1, 2_000, 'the unreadable receipt');

    expect(sink.receipts).toHaveLength(0);
    expect(sink.unreadables[0]).toMatchObject({ carrier: 'viettel', raw: 'garbled receipt stat:DELIVRD', reason: expect.stringMatching(/no message id/) });
    expect(sink.unreadables[0]!.receivedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    await eventually(() => sim.responses.get('deliver_sm_resp') === 1, 1_000, 'deliver_sm_resp');
  });

  it('starts without waiting for an unreachable Redis, and binds once Redis answers', async () => {
    const sim = await simulator();
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 1 });
    const { proxy, url } = await redisProxy();
    const redis = workerRedis(url);
    proxy.down();
    const sut = pool(carrier, `${prefix}:${randomUUID()}`, { redis });

    expect(await within(sut.start().then(() => 'started'), 5_000)).toBe('started');
    expect(sut.boundCount).toBe(0);

    proxy.up();
    // A SET NX that timed out may still land once Redis is back: that lease is waited out, never bound on.
    await eventually(() => sut.boundCount === 1, 10_000, 'a bind once Redis answers');
    expect(sim.stats.maxConcurrentBinds).toBe(1);
  });

  it('keeps renewing its leases while stop() drains a slow bind, so no other process binds before it has unbound', async () => {
    const sim = await simulator({ maxBinds: 0, latencyMs: 2 * LEASE_MS });
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 1 });
    const keyPrefix = `${prefix}:${randomUUID()}`;
    const a = pool(carrier, keyPrefix, { session: { timeouts: { drainMs: 10_000 } } });
    await a.start();
    await eventually(() => a.boundCount === 1, 5_000, 'a bound');
    const inFlight = a.sessions[0]!.submit(parts(1)[0]!.pdu);
    await eventually(() => sim.stats.received === 1, 1_000, 'the SMSC to get the submit');
    const b = pool(carrier, keyPrefix);
    await b.start();

    await a.stop();
    expect((await inFlight).kind).toBe('ok');
    await eventually(() => b.boundCount === 1, LEASE_MS * 4, 'b to take over');
    expect(Math.max(...sim.bindTimeline.map((point) => point.binds))).toBe(1);
  });

  it('stops with Redis gone: a graceful close that would outlive the lease is cut short before the lease expires', async () => {
    const sim = await simulator({ maxBinds: 0, latencyMs: 10_000 });
    const carrier = carrierConfigFor(sim, credentials, { id: 'viettel', count: 1 });
    const keyPrefix = `${prefix}:${randomUUID()}`;
    const { proxy, url } = await redisProxy();
    const a = pool(carrier, keyPrefix, { redis: workerRedis(url), session: { timeouts: { drainMs: 10_000 } } });
    await a.start();
    await eventually(() => a.boundCount === 1, 5_000, 'a bound');
    const inFlight = a.sessions[0]!.submit(parts(1)[0]!.pdu);
    await eventually(() => sim.stats.received === 1, 1_000, 'the SMSC to get the submit');
    const b = pool(carrier, keyPrefix);
    await b.start();

    proxy.down();
    expect(await within(a.stop().then(() => 'stopped'), 8_000)).toBe('stopped');
    expect(await inFlight).toEqual({ kind: 'ambiguous', reason: 'connection-lost' });
    await eventually(() => b.boundCount === 1, LEASE_MS * 4, 'b to take over');
    expect(Math.max(...sim.bindTimeline.map((point) => point.binds))).toBe(1);
  });
});
