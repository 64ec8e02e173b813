import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { freePortRun, startServiceProcess as launch } from '../helpers/processes.js';

describe('loa service process', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => {
    await database.drop();
  });

  it('migrates an empty database, binds the three simulated carriers, answers /health with 200 and exits 0 on SIGTERM', async () => {
    const simulatorPort = await freePortRun();
    const sut = launch(['--role', 'all'], {
      DATABASE_URL: database.url,
      PORT: '0',
      LOA_SIM_PORT: String(simulatorPort),
      LOA_REDIS_PREFIX: testRedisPrefix(),
    });
    try {
      const started = await sut.waitForLog((line) => line.msg === 'loa started');
      const bound = await sut.waitForLog((line) => line.component === 'carrier-binds' && line.carriers === 3);
      // Logged by the bind that completes the set: every carrier has one by then, and one may already have its second.
      expect(bound).toMatchObject({ simulated: true });
      for (const carrier of ['viettel', 'vnpt', 'mobifone']) expect((bound.binds as Record<string, number>)[carrier]).toBeGreaterThanOrEqual(1);
      // The worker publishes its binds through Redis (src/jobs/bind-state.ts): ok once all are seen.
      let health: unknown;
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const response = await fetch(`http://127.0.0.1:${String(started.port)}/health`);
        expect(response.status).toBe(200);
        health = await response.json();
        if ((health as { status: string }).status === 'ok') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const carrier = { bound: 2, allowed: 2, workers: 1 };
      expect(health).toEqual({ status: 'ok', checks: { postgres: { ok: true }, redis: { ok: true } }, carriers: { viettel: carrier, vnpt: carrier, mobifone: carrier } });
      const metrics = await (await fetch(`http://127.0.0.1:${String(started.port)}/metrics`)).text();
      expect(metrics).toMatch(/^loa_carrier_binds\{carrier="viettel",service="loa"\} 2$/m);
      expect(metrics).toMatch(/^loa_carrier_binds_allowed\{carrier="mobifone",service="loa"\} 2$/m);

      const applied = await database.store.pool.query<{ count: string }>('SELECT count(*) FROM schema_migrations');
      expect(Number(applied.rows[0]?.count)).toBeGreaterThan(0);

      sut.child.kill('SIGTERM');
      expect(await sut.exited).toBe(0);
      expect(sut.lines.some((line) => line.msg === 'stopped')).toBe(true);
      // Every bind was closed by an unbind of ours before the process left.
      const unbound = sut.lines.filter((line) => line.msg === 'carrier unbound');
      expect(new Set(unbound.map((line) => line.carrier))).toEqual(new Set(['viettel', 'vnpt', 'mobifone']));
    } finally {
      // A failed assertion must not leave the service running: its scheduler would hold this database's lease for the next test.
      if (sut.child.exitCode === null) {
        sut.child.kill('SIGKILL');
        await sut.exited;
      }
    }
  });

  it('with --role scheduler takes the scheduler lease, and gives it up on SIGTERM so another can lead at once', async () => {
    const sut = launch(['--role', 'scheduler'], { DATABASE_URL: database.url, LOA_REDIS_PREFIX: testRedisPrefix(), LOA_SCHEDULER_TICK_MS: '50', LOA_ALERT_WEBHOOK: 'http://127.0.0.1:9/hook' });
    expect(await sut.waitForLog((line) => line.msg === 'scheduler started')).toMatchObject({ alertWebhook: true, tickMs: 50 });
    await sut.waitForLog((line) => line.msg === 'loa started');
    let lease: { token: string; expires_at: Date } | undefined;
    for (let i = 0; i < 100 && !lease; i++) {
      lease = (await database.store.pool.query<{ token: string; expires_at: Date }>("SELECT token, expires_at FROM scheduler_leases WHERE name = 'scheduler'")).rows[0];
      if (!lease) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(lease?.expires_at.getTime()).toBeGreaterThan(Date.now());
    sut.child.kill('SIGTERM');
    expect(await sut.exited).toBe(0);
    const released = (await database.store.pool.query<{ expires_at: Date }>("SELECT expires_at FROM scheduler_leases WHERE name = 'scheduler'")).rows[0];
    expect(released!.expires_at.getTime()).toBeLessThan(Date.now());
  });

  it.each(['api', 'all'])('with --role %s and Redis unreachable, answers 503 naming Redis and still exits 0 on SIGTERM', async (role) => {
    // Port 1 on loopback refuses connections: a real outage, not a stub.
    const sut = launch(['--role', role], {
      DATABASE_URL: database.url,
      PORT: '0',
      REDIS_URL: 'redis://127.0.0.1:1',
      LOA_SIM_PORT: String(await freePortRun()),
    });
    try {
      const started = await sut.waitForLog((line) => line.msg === 'loa started');
      const response = await fetch(`http://127.0.0.1:${String(started.port)}/health`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
      expect(body.checks.postgres?.ok).toBe(true);
      expect(body.checks.redis?.ok).toBe(false);
      expect(body.checks.redis?.error).toMatch(/redis/i);
    } finally {
      sut.child.kill('SIGTERM');
    }
    expect(await sut.exited).toBe(0);
  });

  it('refuses a broken carriers file, naming the bad field, and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loa-carriers-'));
    const file = join(dir, 'carriers.yaml');
    writeFileSync(
      file,
      [
        'carriers:',
        '  viettel: { tps: 200, binds: [{ host: a, port: 99999, systemId: x, password: y }] }',
        '  vnpt: { tps: 100, binds: [{ host: b, port: 2775, systemId: x, password: y }] }',
        '  mobifone: { tps: 100, binds: [{ host: c, port: 2775, systemId: x, password: y }] }',
      ].join('\n'),
    );
    const sut = launch(['--role', 'api'], { DATABASE_URL: database.url, PORT: '0', LOA_CARRIERS: file });
    expect(await sut.exited).toBe(1);
    expect(sut.stderr()).toContain('carriers.viettel.binds[0].port');
  });

  it('says in one line that PostgreSQL is unreachable and exits non-zero', async () => {
    const sut = launch(['--role', 'api'], { DATABASE_URL: 'postgres://loa:secret@127.0.0.1:1/loa', PORT: '0', LOA_LANG: 'en' });
    expect(await sut.exited).toBe(3); // EXIT.unreachable
    expect(sut.stderr().trim()).toBe('loa: error: cannot reach PostgreSQL at postgres://loa:***@127.0.0.1:1/loa (ECONNREFUSED). Is it running? Check DATABASE_URL.');
  });

  it('refuses an unknown role', async () => {
    const sut = launch(['--role', 'everything'], { DATABASE_URL: database.url, LOA_LANG: 'en' });
    expect(await sut.exited).toBe(2); // EXIT.usage
    expect(sut.stderr().trim()).toBe("loa: error: --role must be one of api, worker, scheduler, all (got 'everything')");
  });
});
