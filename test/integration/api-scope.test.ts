import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { campaignYaml } from '../factories.js';
import { startHardenedApi, type HardenedApi } from '../helpers/api-hard.js';
import { expectOneLine, runLoa } from '../helpers/cli.js';

const YAML = { 'content-type': 'application/yaml' };

describe('keys scoped to areas', () => {
  let api: HardenedApi;
  const scoped = () => api.headers('scoped');
  const admin = () => api.headers('admin');

  beforeAll(async () => {
    api = await startHardenedApi();
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  describe('making them', () => {
    it('POST /v1/keys takes areas, stores them sorted and shows them in the list', async () => {
      const response = await api.app.inject({ method: 'POST', url: '/v1/keys', headers: admin(), payload: { role: 'viewer', name: 'ninh-kieu', areas: ['92/31120', '92/31117', '92/31117'] } });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json()).toMatchObject({ role: 'viewer', areas: ['92/31117', '92/31120'] });
      const listed = (await api.app.inject({ url: '/v1/keys', headers: admin() })).json<Array<{ name: string; areas: string[] | null }>>();
      expect(listed.find((key) => key.name === 'ninh-kieu')?.areas).toEqual(['92/31117', '92/31120']);
      expect(listed.find((key) => key.name === 'hard-operator')?.areas).toBeNull();
      const audit = await api.database.store.db.selectFrom('audit_log').select('details').where('action', '=', 'api-key.create').where('subject', '=', `api-key:${response.json<{ id: number }>().id}`).executeTakeFirstOrThrow();
      expect(audit.details).toMatchObject({ areas: ['92/31117', '92/31120'] });
    });

    it.each([
      [{ role: 'admin', name: 'x', areas: ['92'] }, /admin key cannot be scoped/],
      [{ role: 'operator', name: 'x', areas: ['92/31117/9'] }, /'92\/31117\/9' is not PROVINCE or PROVINCE\/COMMUNE/],
      [{ role: 'operator', name: 'x', areas: [] }, /areas/],
      [{ role: 'operator', name: 'x', areas: [' , '] }, /at least one area/],
    ])('refuses %j with 400 naming areas', async (payload, message) => {
      const response = await api.app.inject({ method: 'POST', url: '/v1/keys', headers: admin(), payload });
      expect(response.statusCode).toBe(400);
      expect(JSON.stringify(response.json())).toMatch(/areas/);
      expect(JSON.stringify(response.json())).toMatch(message);
    });

    it('`loa keys create --areas` makes a scoped key in PostgreSQL; bad lists are usage errors', async () => {
      const env = { DATABASE_URL: api.database.url, LOA_LANG: 'en' };
      const made = await runLoa(['keys', 'create', '--role', 'operator', '--name', 'cli-scoped', '--areas', '92/31117,92/31120', '--json'], env);
      expect(made.code, made.stderr).toBe(0);
      const key = JSON.parse(made.stdout) as { token: string; areas: string[] };
      expect(key.areas).toEqual(['92/31117', '92/31120']);
      // The key works, and sees what its areas hold.
      const campaigns = await api.app.inject({ url: '/v1/campaigns', headers: { authorization: `Bearer ${key.token}` } });
      expect(campaigns.json<Array<{ id: string }>>().map((c) => c.id)).toEqual(['in-campaign']);

      const human = await runLoa(['keys', 'create', '--role', 'viewer', '--areas', '92'], { ...env, LOA_LANG: 'vi' });
      expect(human.code).toBe(0);
      expect(human.stdout).toContain('Chỉ trong các địa bàn: 92');

      for (const [args, pattern] of [
        [['--role', 'admin', '--areas', '92'], /--areas is for operator and viewer keys/],
        [['--role', 'operator', '--areas', '92/1/2'], /bad --areas: '92\/1\/2'/],
      ] as const) {
        const refused = await runLoa(['keys', 'create', ...args], env);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toMatch(pattern);
        expectOneLine(refused.stderr);
      }
    });
  });

  it('`loa keys list` shows each key\'s areas', async () => {
    const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const env = { LOA_URL: url, LOA_TOKEN: api.tokens.admin, LOA_LANG: 'en' };
    const listed = await runLoa(['keys', 'list'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/operator {2}"hard-scoped" .* {2}areas: 92\/31117/);
    expect(listed.stdout).not.toMatch(/"hard-operator".*areas/);
    const json = JSON.parse((await runLoa(['keys', 'list', '--json'], env)).stdout) as Array<{ name: string; areas: string[] | null }>;
    expect(json.find((key) => key.name === 'hard-scoped')?.areas).toEqual(['92/31117']);
  });

  describe('what a scoped key sees', () => {
    it('lists only the campaigns, runs, lists and screens inside its areas', async () => {
      const ids = async (url: string) => {
        const response = await api.app.inject({ url, headers: scoped() });
        expect(response.statusCode, response.body).toBe(200);
        const body = response.json<Array<{ id: unknown }> | { lists: Array<{ id: unknown }> }>();
        return (Array.isArray(body) ? body : body.lists).map((item) => item.id);
      };
      expect(await ids('/v1/campaigns')).toEqual(['in-campaign']);
      expect(await ids('/v1/runs')).toEqual([api.fixtures.inRun]);
      expect(await ids('/v1/lists')).toEqual(['in-list']);
      expect(await ids('/v1/screens')).toEqual(['in-led']);
      // An unscoped operator sees everything.
      const all = (await api.app.inject({ url: '/v1/campaigns', headers: api.headers('operator') })).json<Array<{ id: string }>>();
      expect(all.map((c) => c.id).sort()).toEqual(['in-campaign', 'out-campaign']);
    });

    it('answers 404 for things outside its areas, as if they did not exist', async () => {
      const f = api.fixtures;
      for (const url of [`/v1/campaigns/${f.outCampaign}`, `/v1/runs/${f.outRun}`, `/v1/runs/${f.outRun}/plays`, `/v1/screens/${f.outScreen}`]) {
        const response = await api.app.inject({ url, headers: scoped() });
        expect(response.statusCode, url).toBe(404);
      }
      const paused = await api.app.inject({ method: 'POST', url: `/v1/runs/${f.outRun}/cancel`, headers: scoped() });
      expect(paused.statusCode).toBe(404);
      expect((await api.app.inject({ url: `/v1/runs/${f.outRun}`, headers: admin() })).json()).toMatchObject({ state: expect.not.stringMatching(/cancelled/) });
      expect((await api.app.inject({ url: `/v1/runs/${f.inRun}`, headers: scoped() })).statusCode).toBe(200);
    });

    it('a campaign whose newest version leaves the areas leaves its view (its older runs too)', async () => {
      await api.app.inject({ method: 'PUT', url: '/v1/campaigns/moving', headers: { ...admin(), ...YAML }, payload: campaignYaml({ id: 'moving', audience: { lists: ['in-list'], areas: { province: ['92'], commune: ['31117'] } } }) });
      const run = (await api.app.inject({ method: 'POST', url: '/v1/campaigns/moving/launch', headers: admin() })).json<{ run: { id: number } }>().run.id;
      expect((await api.app.inject({ url: '/v1/campaigns/moving', headers: scoped() })).statusCode).toBe(200);
      await api.app.inject({ method: 'PUT', url: '/v1/campaigns/moving', headers: { ...admin(), ...YAML }, payload: campaignYaml({ id: 'moving', audience: { lists: ['in-list'], areas: { province: ['92'] } } }) });
      expect((await api.app.inject({ url: '/v1/campaigns/moving', headers: scoped() })).statusCode).toBe(404);
      // The run was of the version inside the areas: still the scoped key's to watch.
      expect((await api.app.inject({ url: `/v1/runs/${run}`, headers: scoped() })).statusCode).toBe(200);
    });
  });

  describe('what a scoped key may do', () => {
    it('launches a campaign inside its areas', async () => {
      const response = await api.app.inject({ method: 'POST', url: '/v1/campaigns/in-campaign/launch', headers: scoped() });
      expect(response.statusCode, response.body).toBe(201);
      const launched = await api.database.store.db.selectFrom('runs').select('launched_by').where('id', '=', response.json<{ run: { id: number } }>().run.id).executeTakeFirstOrThrow();
      expect(launched.launched_by).toMatch(/^key:\d+:hard-scoped$/);
    });

    it('is refused (403) a launch reaching outside, with the areas outside named, and nothing is created', async () => {
      const runsBefore = await api.database.store.db.selectFrom('runs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const response = await api.app.inject({ method: 'POST', url: '/v1/campaigns/out-campaign/launch', headers: scoped() });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: 'forbidden', message: expect.stringContaining("outside this key's areas: 92") });
      const runsAfter = await api.database.store.db.selectFrom('runs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      expect(runsAfter.n).toBe(runsBefore.n);
    });

    it('is refused a test launch to a list with subscribers outside, allowed one inside', async () => {
      const outside = await api.app.inject({ method: 'POST', url: '/v1/campaigns/in-campaign/launch', headers: scoped(), payload: { test: 'out-list' } });
      expect(outside.statusCode).toBe(403);
      expect(outside.json<{ message: string }>().message).toContain("list 'out-list'");
      const inside = await api.app.inject({ method: 'POST', url: '/v1/campaigns/in-campaign/launch', headers: scoped(), payload: { test: 'in-list' } });
      expect(inside.statusCode, inside.body).toBe(201);
    });

    it.each([
      ['a province-wide audience', { audience: { lists: ['in-list'], areas: { province: ['92'] } } }, '92'],
      ['no area at all', { audience: { lists: ['in-list'] } }, '(every province)'],
      ['another commune', { audience: { lists: ['in-list'], areas: { province: ['92'], commune: ['31117', '31120'] } } }, '92/31120'],
      [
        'screens elsewhere',
        { audience: { lists: ['in-list'], areas: { province: ['92'], commune: ['31117'] } }, screens: [{ targets: { areas: { province: ['91'] } }, text: { vi: 'Thông báo' }, duration: 10 }] },
        'screens[0]: 91',
      ],
    ])('is refused saving a campaign with %s (403 naming %s)', async (_name, overrides, named) => {
      const response = await api.app.inject({ method: 'PUT', url: '/v1/campaigns/scoped-made', headers: { ...scoped(), ...YAML }, payload: campaignYaml({ id: 'scoped-made', ...overrides }) });
      expect(response.statusCode, response.body).toBe(403);
      expect(response.json<{ message: string }>().message).toContain(named);
      expect(await api.database.store.db.selectFrom('campaigns').select('id').where('id', '=', 'scoped-made').executeTakeFirst()).toBeUndefined();
    });

    it('saves a campaign inside its areas, and may not overwrite one outside them', async () => {
      const inside = { audience: { lists: ['in-list'], areas: { province: ['92'], commune: ['31117'] } } };
      const created = await api.app.inject({ method: 'POST', url: '/v1/campaigns', headers: { ...scoped(), ...YAML }, payload: campaignYaml({ id: 'scoped-own', ...inside }) });
      expect(created.statusCode, created.body).toBe(201);
      const overwrite = await api.app.inject({ method: 'PUT', url: '/v1/campaigns/out-campaign', headers: { ...scoped(), ...YAML }, payload: campaignYaml({ id: 'out-campaign', ...inside }) });
      expect(overwrite.statusCode).toBe(403);
      expect(overwrite.json<{ message: string }>().message).toContain("campaign 'out-campaign' belongs to areas outside");
    });

    it('changes no department-wide register (imports, opt-outs, portability, list deletion)', async () => {
      const csv = { ...scoped(), 'content-type': 'text/csv' };
      for (const [method, url, payload] of [
        ['POST', '/v1/lists/in-list/import', 'msisdn,province,commune\n0960000005,92,31117\n'],
        ['DELETE', '/v1/lists/in-list', undefined],
        ['POST', '/v1/optouts/import', 'msisdn\n0960000001\n'],
        ['DELETE', '/v1/optouts/0960000001', undefined],
        ['POST', '/v1/portability/import', 'msisdn,carrier\n0960000001,Vinaphone\n'],
      ] as const) {
        const response = await api.app.inject({ method, url, headers: csv, ...(payload ? { payload } : {}) });
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        expect(response.json<{ message: string }>().message).toContain('whole department');
      }
      const subscribers = await api.database.store.db.selectFrom('subscribers').select('msisdn').where('list_id', '=', 'in-list').execute();
      expect(subscribers).toHaveLength(2);
    });
  });
});
