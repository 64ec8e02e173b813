import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';

/**
 * The README walkthrough, for real: `loa serve --role all` with its built-in simulated SMSCs, then
 * `loa keys create`, `loa audience import` of the sample file, `loa launch … --wait` and
 * `loa status`, each as its own process. Nothing stands in for the engine.
 */

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...extra };
}

function loa(args: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: baseEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Three consecutive free ports for the built-in simulators (LOA_SIM_PORT and the next two). */
async function freePortRun(): Promise<number> {
  const listen = (port: number) =>
    new Promise<ReturnType<typeof createServer> | null>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const servers = await Promise.all([base, base + 1, base + 2].map(listen));
    await Promise.all(servers.map((server) => (server ? new Promise((resolve) => server.close(resolve)) : undefined)));
    if (servers.every(Boolean)) return base;
  }
  throw new Error('no three consecutive free ports');
}

function startService(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; port: Promise<number>; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--role', 'all'], { env: baseEnv({ LOG_LEVEL: 'info', ...env }) });
  let output = '';
  let bound = false;
  let port: number | undefined;
  const ready = new Promise<number>((resolve, reject) => {
    const check = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      for (const line of output.split('\n')) {
        if (line.includes('"loa started"')) port = (JSON.parse(line) as { port: number }).port;
        if (line.includes('all 3 carriers bound (simulated SMSCs)')) bound = true;
      }
      if (port !== undefined && bound) resolve(port);
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('exit', () => reject(new Error(`service exited: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, port: ready, exited, output: () => output };
}

describe('the README walkthrough against `loa serve --role all`', { timeout: 240_000 }, () => {
  let database: TestDatabase;
  let service: ReturnType<typeof startService>;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = startService({ DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOA_SIM_PORT: String(await freePortRun()), LOA_REDIS_PREFIX: testRedisPrefix() });
    env = { LOA_URL: `http://127.0.0.1:${await service.port}`, DATABASE_URL: database.url };
  });

  afterAll(async () => {
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    await database.drop();
  });

  it('imports the sample audience, launches with --wait until completed, and every count adds up to the audience', async () => {
    const key = await loa(['keys', 'create', '--role', 'operator', '--name', 'walkthrough', '--json'], { DATABASE_URL: database.url });
    expect(key.code, key.stderr).toBe(0);
    env.LOA_TOKEN = (JSON.parse(key.stdout) as { token: string }).token;

    const imported = await loa(['audience', 'import', 'cantho-subscribers', 'examples/cantho-subscribers.csv', '--json'], env);
    expect(imported.code, imported.stderr).toBe(0);
    const summary = JSON.parse(imported.stdout) as { loaded: number; rejected: number };
    expect(summary.loaded).toBeGreaterThan(200);
    expect(summary.rejected).toBeGreaterThan(0);

    const launched = await loa(['launch', 'campaigns/cantho-ncov-2020-02.yaml', '--now', '--wait', '--json', '--interval', '250'], env);
    expect(launched.code, launched.stderr).toBe(0);
    const { runId, status } = JSON.parse(launched.stdout) as { runId: number; status: RunStatus };
    expect(status.state).toBe('completed');

    const shown = await loa(['status', String(runId), '--json'], env);
    expect(shown.code, shown.stderr).toBe(0);
    const final = JSON.parse(shown.stdout) as RunStatus;
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    // Every recipient is counted exactly once, in one state, and they add up to the audience.
    expect(final.audienceSize).toBeGreaterThan(200);
    expect(sum(final.totals)).toBe(final.audienceSize);
    expect(final.carriers.reduce((n, carrier) => n + carrier.total, 0) + final.unroutable).toBe(final.audienceSize);
    // Completed means final: nothing is left to send or waiting for an answer.
    for (const state of ['queued', 'submitting', 'submitted'] as const) expect(final.totals[state]).toBe(0);
    expect(final.totals.delivered).toBeGreaterThan(0);
    // The same numbers PostgreSQL holds.
    const rows = await database.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', runId).executeTakeFirstOrThrow();
    expect(rows.n).toBe(final.audienceSize);

    const human = await loa(['status', String(runId)], { ...env, LOA_LANG: 'vi' });
    expect(human.stdout).toContain('Trạng thái: hoàn tất');
  });
});
