import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, type ApiRole } from '../../src/domain/api-key.js';
import { ApiKeyRepository } from '../../src/store/api-key.repository.js';
import { createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { runLoaProcess as loa, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

describe('loa audience, lists, optout and portability against a running service', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let env: Record<string, string>;

  async function key(role: ApiRole): Promise<string> {
    const token = generateApiKey();
    await new ApiKeyRepository(database.store.db).create({ name: `e2e-${role}`, keyHash: hashApiKey(token), role });
    return token;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    service = startServiceProcess(['--role', 'api'], { DATABASE_URL: database.url, PORT: '0', LOA_REDIS_PREFIX: testRedisPrefix() });
    env = { LOA_URL: `http://127.0.0.1:${await service.port()}`, LOA_TOKEN: await key('operator'), LOA_LANG: 'en' };
  });

  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    await database.drop();
  });

  it('imports the sample audience with --json: good rows loaded, bad rows by line and reason', async () => {
    const { code, stdout, stderr } = await loa(['audience', 'import', 'cantho-subscribers', 'examples/cantho-subscribers.csv', '--json'], env);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      list: { id: 'cantho-subscribers', subscribers: 300 },
      rows: 306,
      loaded: 301,
      rejected: 5,
      duplicates: 1,
      inserted: 300,
      rejectedByReason: { letters: 1, 'scientific-notation': 1, landline: 1, 'too-short': 1, 'field-count': 1 },
      rejectedLines: [
        { line: 303, reason: 'letters' },
        { line: 304, reason: 'scientific-notation', value: '9.60000001E+8' },
        { line: 305, reason: 'landline' },
        { line: 306, reason: 'too-short' },
        { line: 307, reason: 'field-count' },
      ],
    });
    const audit = await database.store.db.selectFrom('audit_log').selectAll().where('subject', '=', 'list:cantho-subscribers').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor).toMatch(/^key:\d+:e2e-operator$/);

    // Again: nothing changes.
    const again = JSON.parse((await loa(['audience', 'import', 'cantho-subscribers', 'examples/cantho-subscribers.csv', '--json'], env)).stdout) as Record<string, unknown>;
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 300, removed: 0 });
  });

  it('prints a readable summary, lists the lists, manages opt-outs and portability', async () => {
    const human = await loa(['audience', 'import', 'cantho-subscribers', 'examples/cantho-subscribers.csv'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('examples/cantho-subscribers.csv → list cantho-subscribers: rows read 306, loaded 301, rejected 5');
    expect(human.stdout).toContain('examples/cantho-subscribers.csv:304: scientific-notation: the spreadsheet turned this number into 9.60000001E+8');

    const optOuts = await loa(['optout', 'import', 'examples/opt-outs.csv', '--json'], env);
    expect(JSON.parse(optOuts.stdout)).toMatchObject({ loaded: 2, inserted: 2, optOuts: 2 });
    const removed = await loa(['optout', 'remove', '0970000001'], env);
    expect(removed).toMatchObject({ code: 0, stdout: 'Removed 84970000001 from the opt-out register.\n' });

    const portability = await loa(['portability', 'import', 'examples/portability.csv', '--json'], env);
    expect(JSON.parse(portability.stdout)).toMatchObject({ loaded: 2, entries: 2 });

    const lists = await loa(['lists', '--json'], env);
    expect(JSON.parse(lists.stdout)).toMatchObject({ lists: [{ id: 'cantho-subscribers', subscribers: 300 }], optOuts: 1 });
    const deleted = await loa(['lists', 'delete', 'cantho-subscribers', '--json'], env);
    expect(JSON.parse(deleted.stdout)).toEqual({ id: 'cantho-subscribers', deleted: true, subscribers: 300 });
    const vietnamese = await loa(['lists'], { ...env, LOA_LANG: 'vi' });
    expect(vietnamese.stdout).toContain('Chưa có danh sách nào');
  });

  it('exits 4 with a viewer key or no key, and 1 for a file it cannot read', async () => {
    const viewer = await loa(['audience', 'import', 'cantho-subscribers', 'examples/cantho-subscribers.csv', '--json'], { ...env, LOA_TOKEN: await key('viewer') });
    expect(viewer.code).toBe(4);
    expect(viewer.stdout).toBe('');
    expect(viewer.stderr).toContain('operator');
    const none = await loa(['lists'], { ...env, LOA_TOKEN: '' });
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('LOA_TOKEN');
    const missing = await loa(['optout', 'import', 'examples/nope.csv'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('examples/nope.csv');
  });
});
