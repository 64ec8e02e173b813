import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { runLoaProcess as loa, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

/**
 * The console's routes from the command line: `loa users`, `loa reach` and `loa approvals`
 * against `loa serve --role api`, each as its own process (nothing possible only in the browser).
 */
describe('the console’s routes from the loa CLI', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let url: string;
  const tokens = { admin: '', first: '', second: '' };
  const as = (who: keyof typeof tokens, extra: Record<string, string> = {}) => ({ LOA_URL: url, LOA_TOKEN: tokens[who], ...extra });

  beforeAll(async () => {
    database = await createTestDatabase();
    service = startServiceProcess(['--role', 'api'], { DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOA_REDIS_PREFIX: testRedisPrefix() });
    url = `http://127.0.0.1:${await service.port()}`;
    for (const [who, role] of [['admin', 'admin'], ['first', 'operator'], ['second', 'operator']] as const) {
      const key = await loa(['keys', 'create', '--role', role, '--name', `cli-${who}`, '--json'], { DATABASE_URL: database.url });
      expect(key.code, key.stderr).toBe(0);
      tokens[who] = (JSON.parse(key.stdout) as { token: string }).token;
    }
    const imported = await loa(['audience', 'import', 'cantho-subscribers', 'examples/cantho-subscribers.csv', '--json'], as('first'));
    expect(imported.code, imported.stderr).toBe(0);
    const saved = await fetch(`${url}/v1/campaigns/cantho-ncov-2020-02`, { method: 'PUT', headers: { authorization: `Bearer ${tokens.first}`, 'content-type': 'application/yaml' }, body: await import('node:fs/promises').then((fs) => fs.readFile('campaigns/cantho-ncov-2020-02.yaml', 'utf8')) });
    expect(saved.status).toBe(201);
  });

  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    await database.drop();
  });

  it('adds accounts (admin only) and lists them', async () => {
    const refused = await loa(['users', 'add', 'lan', '--role', 'operator'], as('first'));
    expect(refused.code).toBe(EXIT.refused);
    const added = await loa(['users', 'add', 'lan', '--role', 'operator'], as('admin', { LOA_LANG: 'vi' }));
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('Đã thêm tài khoản #1 "lan" (vai trò operator).');
    const listed = await loa(['users', 'list', '--json'], as('admin'));
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'lan', role: 'operator', disabled: false })]);
    const twice = await loa(['users', 'add', 'lan', '--role', 'viewer'], as('admin'));
    expect(twice.code).toBe(EXIT.invalidInput);
    expect(twice.stderr).toContain('exists already');
  });

  it('shows the reach of a stored campaign, the same figures as the API', async () => {
    const shown = await loa(['reach', 'cantho-ncov-2020-02', '--json'], as('first'));
    expect(shown.code, shown.stderr).toBe(0);
    const reach = JSON.parse(shown.stdout) as { recipients: number; segments: number };
    const api = (await (await fetch(`${url}/v1/campaigns/cantho-ncov-2020-02/preview`, { method: 'POST', headers: { authorization: `Bearer ${tokens.first}` } })).json()) as { recipients: number; segments: number };
    expect(reach).toMatchObject({ recipients: api.recipients, segments: api.segments });
    expect(reach.recipients).toBeGreaterThan(200);
    const human = await loa(['reach', 'cantho-ncov-2020-02'], as('first', { LOA_LANG: 'vi' }));
    expect(human.stdout).toContain(`Tổng: ${reach.recipients} người nhận, ${reach.segments} tin SMS`);
  });

  it('asks for and grants an approval the rule requires, and the launch with it goes through', async () => {
    const rule = await fetch(`${url}/v1/launch-approval-rule`, { method: 'PUT', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ above: 10 }) });
    expect(rule.status).toBe(200);
    const held = await loa(['launch', 'campaigns/cantho-ncov-2020-02.yaml', '--now', '--json'], as('first'));
    expect(held.code).toBe(EXIT.invalidInput);
    expect(held.stderr).toContain('approval_required');
    const asked = await loa(['approvals', 'request', 'cantho-ncov-2020-02', '--json'], as('first'));
    expect(asked.code, asked.stderr).toBe(0);
    const { id } = JSON.parse(asked.stdout) as { id: number };
    const self = await loa(['approvals', 'approve', String(id)], as('first'));
    expect(self.code).toBe(EXIT.refused);
    const approved = await loa(['approvals', 'approve', String(id), '--json'], as('second'));
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ id, approvedBy: expect.stringMatching(/cli-second$/) });
    const listed = await loa(['approvals', 'list'], as('first', { LOA_LANG: 'vi' }));
    expect(listed.stdout).toContain(`#${id}  cantho-ncov-2020-02`);
    const badId = await loa(['launch', 'campaigns/cantho-ncov-2020-02.yaml', '--approval', 'abc'], as('first', { LOA_LANG: 'en' }));
    expect(badId.code).toBe(EXIT.invalidInput);
    expect(badId.stderr).toContain('"abc" is not an id');
    const launched = await loa(['launch', 'campaigns/cantho-ncov-2020-02.yaml', '--now', '--approval', String(id), '--json'], as('first'));
    expect(launched.code, launched.stderr).toBe(0);
    expect((JSON.parse(launched.stdout) as { runId: number }).runId).toBeGreaterThan(0);
    // An approval is good for one launch: the same id again is refused.
    const again = await loa(['launch', 'campaigns/cantho-ncov-2020-02.yaml', '--now', '--approval', String(id), '--json'], as('first'));
    expect(again.code).toBe(EXIT.invalidInput);
    expect(again.stderr).toContain(`approval ${id} is not an approved, unused approval`);
  });
});
