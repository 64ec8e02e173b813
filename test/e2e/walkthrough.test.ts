import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { freePortRun, runLoaProcess as loa, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

/**
 * The README walkthrough, for real: `loa serve --role all` with its built-in simulated SMSCs, then
 * `loa keys create`, `loa audience import` of the sample file, `loa launch … --wait` and
 * `loa status`, each as its own process. Nothing stands in for the engine.
 */

describe('the README walkthrough against `loa serve --role all`', { timeout: 240_000 }, () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = startServiceProcess(['--role', 'all'], { DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOA_SIM_PORT: String(await freePortRun()), LOA_REDIS_PREFIX: testRedisPrefix() });
    env = { LOA_URL: `http://127.0.0.1:${await service.port()}`, DATABASE_URL: database.url };
    await service.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('all 3 carriers bound'));
  });

  afterAll(async () => {
    expect(await service.stop()).toBe(0);
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
