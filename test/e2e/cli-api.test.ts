import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { RunRepository } from '../../src/store/run.repository.js';
import type { RunState } from '../../src/store/database.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { runLoaProcess as loa, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

const CAMPAIGN = 'campaigns/cantho-ncov-2020-02.yaml';

// Each `loa` invocation is a Node process compiling TypeScript through tsx: seconds apiece on a shared 2-core machine.
describe('loa CLI against a running service', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let url: string;
  const tokens = { admin: '', operator: '' };
  const as = (role: keyof typeof tokens, extra: Record<string, string> = {}) => ({ LOA_URL: url, LOA_TOKEN: tokens[role], ...extra });

  beforeAll(async () => {
    database = await createTestDatabase();
    service = startServiceProcess(['--role', 'api'], { DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOA_REDIS_PREFIX: testRedisPrefix() });
    url = `http://127.0.0.1:${await service.port()}`;
  });

  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    await database.drop();
  });

  /** Moves the newest run of the campaign through `states` once the CLI has launched it (the engine's part). */
  async function driveNewestRun(after: number, states: RunState[]): Promise<number> {
    const runs = new RunRepository(database.store.db);
    for (let attempt = 0; attempt < 300; attempt++) {
      const newest = await database.store.db.selectFrom('runs').select('id').where('id', '>', after).orderBy('id', 'desc').executeTakeFirst();
      if (newest) {
        for (const state of states) {
          await new Promise((resolve) => setTimeout(resolve, 300));
          await runs.setState(newest.id, state);
        }
        return newest.id;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the CLI never launched a run');
  }

  async function newestRunId(): Promise<number> {
    const row = await database.store.db.selectFrom('runs').select('id').orderBy('id', 'desc').executeTakeFirst();
    return row?.id ?? 0;
  }

  it('creates keys with DATABASE_URL only, printing each once as one JSON document', async () => {
    for (const role of ['admin', 'operator'] as const) {
      const result = await loa(['keys', 'create', '--role', role, '--name', `e2e-${role}`, '--json'], { DATABASE_URL: database.url });
      expect(result.code, result.stderr).toBe(0);
      const key = JSON.parse(result.stdout) as { token: string; id: number; role: string; name: string };
      expect(key).toMatchObject({ token: expect.stringMatching(/^loa_/), id: expect.any(Number), role, name: `e2e-${role}` });
      tokens[role] = key.token;
    }
    const audit = await database.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'api-key.create').execute();
    expect(audit).toHaveLength(2);
    expect(audit[0]?.actor).toMatch(/^cli:/);

    const listed = await loa(['keys', 'list', '--json'], as('admin'));
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'e2e-admin', role: 'admin' }), expect.objectContaining({ name: 'e2e-operator', role: 'operator' })]);
    expect(listed.stdout).not.toContain(tokens.admin);
    const refused = await loa(['keys', 'list', '--json'], as('operator'));
    expect(refused.code).not.toBe(0);
  });

  it('launches a campaign file, then shows its status and the run list, each as one JSON document', async () => {
    const launched = await loa(['launch', CAMPAIGN, '--now', '--json'], as('operator'));
    expect(launched.code, launched.stderr).toBe(0);
    const result = JSON.parse(launched.stdout) as { runId: number; created: boolean; campaign: { id: string; contentHash: string }; run: { state: string; occurrenceId: string } };
    expect(result).toMatchObject({ created: true, campaign: { id: 'cantho-ncov-2020-02' }, run: { state: 'scheduled', occurrenceId: expect.stringMatching(/^now:[0-9a-f-]{36}$/) } });
    const row = await database.store.db.selectFrom('runs').selectAll().where('id', '=', result.runId).executeTakeFirstOrThrow();
    expect(row.launched_by).toMatch(/^key:\d+:e2e-operator$/);
    const audit = await database.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'campaign.launch').execute();
    expect(audit.map((entry) => entry.details)).toContainEqual(expect.objectContaining({ runId: result.runId, contentHash: result.campaign.contentHash }));

    const status = await loa(['status', String(result.runId), '--json'], as('operator'));
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ runId: result.runId, campaignId: 'cantho-ncov-2020-02', state: 'scheduled', contentHash: result.campaign.contentHash });

    const runs = await loa(['runs', '--json'], as('operator'));
    expect(runs.code, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual([expect.objectContaining({ id: result.runId, campaignId: 'cantho-ncov-2020-02' })]);

    // A second launch of the same file is another run: each invocation has its own Idempotency-Key.
    const again = await loa(['launch', CAMPAIGN, '--now', '--json'], as('operator'));
    expect(JSON.parse(again.stdout)).toMatchObject({ created: true, campaign: { versionCreated: false } });
    expect((JSON.parse(again.stdout) as { runId: number }).runId).not.toBe(result.runId);
  });

  it('with --wait and no terminal prints plain lines, and exits 5 when the run is cancelled; so does loa status', async () => {
    const before = await newestRunId();
    const [result, runId] = await Promise.all([loa(['launch', CAMPAIGN, '--now', '--wait', '--interval', '200'], as('operator', { LOA_LANG: 'en' })), driveNewestRun(before, ['cancelled'])]);
    expect(result.code, result.stderr).toBe(EXIT.runFailed);
    expect(result.stdout).toContain(`Launched campaign cantho-ncov-2020-02: run ${runId}.`);
    expect(result.stdout).toContain(`Run ${runId} ended: cancelled.`);
    expect(result.stdout).toContain('Times are Vietnam time (Asia/Ho_Chi_Minh).');

    const status = await loa(['status', String(runId)], as('operator'));
    expect(status.code).toBe(EXIT.runFailed);
    expect(status.stdout).toContain('Trạng thái: đã hủy');
  });

  it('never writes a key to the service log', async () => {
    expect(service.output()).toContain('incoming request');
    for (const token of Object.values(tokens)) {
      expect(token).not.toBe('');
      expect(service.output()).not.toContain(token);
    }
  });
});
