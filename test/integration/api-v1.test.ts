import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { contentHash, parseCampaign } from '../../src/domain/campaign.js';
import { hashApiKey, type ApiRole } from '../../src/domain/api-key.js';
import type { CampaignPriority } from '../../src/store/database.js';
import type { RunLauncher } from '../../src/jobs/engine-contract.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { createRunStatusReader } from '../../src/jobs/engine.js';
import { simulatorCarriers } from '../../src/config.js';
import { AudienceRepository, feedOf, RunRepository } from '../../src/store/index.js';
import { campaignDocument, campaignYaml } from '../factories.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/** Our own RunLauncher interface, recording what the API asked of the engine. */
class RecordingLauncher implements RunLauncher {
  readonly calls: Array<{ runId: number; notBefore?: Date; priority?: CampaignPriority }> = [];
  /** Calls to refuse, as a queue that is down would. */
  failNext = 0;
  async enqueueCompile(runId: number, options: { notBefore?: Date; priority?: CampaignPriority } = {}): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('Redis connection is end');
    }
    this.calls.push({ runId, ...options });
  }
}

const YAML = { 'content-type': 'application/yaml' };
/** 10:00 on 26 Nov 2026 in Asia/Ho_Chi_Minh (UTC+7): outside the default quiet hours 22:00–07:00. */
const DAYTIME = new Date('2026-11-26T03:00:00Z');
/** 23:00 in Asia/Ho_Chi_Minh: inside them; they end at 07:00 the next morning, 00:00 UTC. */
const NIGHT = new Date('2026-11-26T16:00:00Z');
const NIGHT_ENDS = '2026-11-27T00:00:00.000Z';

describe('/v1 API', () => {
  let database: TestDatabase;
  let sut: FastifyInstance;
  let services: ApiServices;
  let launcher: RecordingLauncher;
  let now = DAYTIME;
  let logText = '';
  const tokens: Record<ApiRole, string> = { admin: '', operator: '', viewer: '' };
  const auth = (role: ApiRole) => ({ authorization: `Bearer ${tokens[role]}` });

  beforeAll(async () => {
    database = await createTestDatabase();
    launcher = new RecordingLauncher();
    const store = database.store;
    services = createApiServices(
      store,
      {
        launcher,
        statusReader: createRunStatusReader(store, { carriers: simulatorCarriers(2775) }),
      },
      { clock: () => now },
    );
    // Every line the app logs, at the most verbose level, to look for keys in it.
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logText += chunk.toString('utf8');
        callback();
      },
    });
    sut = await buildApp({ logger: createLogger('trace', destination), metrics: createMetricsRegistry(), checks: [], services });
    await sut.ready();
    for (const role of ['admin', 'operator', 'viewer'] as const) tokens[role] = (await services.apiKeys.create({ role, name: `test-${role}` }, 'test')).token;
  });

  afterAll(async () => {
    await sut.close();
    await database.drop();
  });

  beforeEach(() => {
    now = DAYTIME;
  });

  async function saveCampaign(overrides: Record<string, unknown> = {}): Promise<{ id: string; versionId: number; hash: string }> {
    const text = campaignYaml(overrides);
    const id = String(overrides.id ?? 'cantho-test');
    const response = await sut.inject({ method: 'PUT', url: `/v1/campaigns/${id}`, headers: { ...auth('operator'), ...YAML }, payload: text });
    expect(response.statusCode, response.body).toBeLessThan(300);
    const body = response.json<{ version: { id: number; contentHash: string } }>();
    return { id, versionId: body.version.id, hash: body.version.contentHash };
  }

  async function auditRows(action: string) {
    return database.store.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
  }

  describe('keys and roles', () => {
    it.each([
      ['GET', '/v1/runs'],
      ['GET', '/v1/campaigns'],
      ['POST', '/v1/campaigns'],
      ['POST', '/v1/campaigns/cantho-test/launch'],
      ['GET', '/v1/keys'],
    ] as const)('%s %s without a key answers 401', async (method, url) => {
      const response = await sut.inject({ method, url });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: 'unauthorized' });
    });

    it('answers 401 to a key it does not know and to a malformed header', async () => {
      expect((await sut.inject({ url: '/v1/runs', headers: { authorization: 'Bearer loa_nothing' } })).statusCode).toBe(401);
      expect((await sut.inject({ url: '/v1/runs', headers: { authorization: tokens.admin } })).statusCode).toBe(401);
    });

    it('lets a viewer read but not launch or create (403)', async () => {
      await saveCampaign();
      expect((await sut.inject({ url: '/v1/campaigns', headers: auth('viewer') })).statusCode).toBe(200);
      const launch = await sut.inject({ method: 'POST', url: '/v1/campaigns/cantho-test/launch', headers: auth('viewer') });
      expect(launch.statusCode).toBe(403);
      expect(launch.json()).toMatchObject({ error: 'forbidden' });
      const create = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: { ...auth('viewer'), ...YAML }, payload: campaignYaml({ id: 'viewer-made' }) });
      expect(create.statusCode).toBe(403);
    });

    it('keeps key management from an operator (403)', async () => {
      expect((await sut.inject({ url: '/v1/keys', headers: auth('operator') })).statusCode).toBe(403);
      expect((await sut.inject({ method: 'POST', url: '/v1/keys', headers: auth('operator'), payload: { role: 'admin', name: 'escalate' } })).statusCode).toBe(403);
      expect((await sut.inject({ method: 'DELETE', url: '/v1/keys/1', headers: auth('operator') })).statusCode).toBe(403);
    });

    it('creates a key for an admin, shows its token once, and a revoked key gets 401', async () => {
      const created = await sut.inject({ method: 'POST', url: '/v1/keys', headers: auth('admin'), payload: { role: 'viewer', name: 'dashboard' } });
      expect(created.statusCode).toBe(201);
      const key = created.json<{ id: number; token: string; role: string; name: string }>();
      expect(key).toMatchObject({ role: 'viewer', name: 'dashboard', token: expect.stringMatching(/^loa_/) });
      const stored = await database.store.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
      expect(stored.key_hash).toBe(hashApiKey(key.token));

      const listed = await sut.inject({ url: '/v1/keys', headers: auth('admin') });
      expect(listed.body).not.toContain(key.token);
      expect(listed.body).not.toContain(stored.key_hash);
      expect(listed.json()).toContainEqual(expect.objectContaining({ id: key.id, name: 'dashboard', role: 'viewer', revokedAt: null }));

      const headers = { authorization: `Bearer ${key.token}` };
      expect((await sut.inject({ url: '/v1/runs', headers })).statusCode).toBe(200);
      const revoked = await sut.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: auth('admin') });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().revokedAt).toEqual(expect.any(String));
      expect((await sut.inject({ url: '/v1/runs', headers })).statusCode).toBe(401);
      expect((await sut.inject({ method: 'DELETE', url: `/v1/keys/${key.id}`, headers: auth('admin') })).statusCode).toBe(404);

      const audit = [...(await auditRows('api-key.create')), ...(await auditRows('api-key.revoke'))].filter((row) => row.subject === `api-key:${key.id}`);
      expect(audit.map((row) => [row.action, row.actor])).toEqual([
        ['api-key.create', expect.stringMatching(/^key:\d+:test-admin$/)],
        ['api-key.revoke', expect.stringMatching(/^key:\d+:test-admin$/)],
      ]);
    });

    it('never writes a key or its hash to the log', async () => {
      for (const role of ['admin', 'operator', 'viewer'] as const) {
        await sut.inject({ url: '/v1/runs?limit=1', headers: auth(role) });
        await sut.inject({ method: 'POST', url: '/v1/keys', headers: auth(role), payload: { role: 'viewer', name: 'log-check' } });
      }
      await sut.inject({ url: '/v1/runs', headers: { authorization: 'Bearer loa_wrong_key_for_the_log' } });
      expect(logText).toContain('incoming request');
      for (const token of [...Object.values(tokens), 'loa_wrong_key_for_the_log']) {
        expect(logText).not.toContain(token);
        expect(logText).not.toContain(hashApiKey(token));
      }
      expect(logText).not.toMatch(/loa_[A-Za-z0-9_-]{20,}/);
    });
  });

  describe('campaigns', () => {
    it('creates from YAML, stores the version by content hash, and refuses a second POST of the id (409)', async () => {
      const text = campaignYaml({ id: 'post-yaml' });
      const created = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: { ...auth('operator'), ...YAML }, payload: text });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        campaign: { id: 'post-yaml', latestVersion: { contentHash: contentHash(parseCampaign(text)) } },
        version: { contentHash: contentHash(parseCampaign(text)), createdBy: expect.stringMatching(/^key:\d+:test-operator$/) },
        versionCreated: true,
      });
      const again = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: { ...auth('operator'), ...YAML }, payload: text });
      expect(again.statusCode).toBe(409);
    });

    it.each(['application/yaml; charset=utf-8', 'text/yaml', 'application/x-yaml'])('takes YAML sent as %s', async (contentType) => {
      const id = `yaml-${contentType.replace(/[^a-z]+/g, '-')}`.slice(0, 40).replace(/-$/, '');
      const response = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: { ...auth('operator'), 'content-type': contentType }, payload: campaignYaml({ id }) });
      expect(response.statusCode, response.body).toBe(201);
    });

    it('takes a JSON body through the same loader', async () => {
      const response = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('operator'), payload: campaignDocument({ id: 'post-json' }) });
      expect(response.statusCode).toBe(201);
      const bad = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('operator'), payload: campaignDocument({ id: 'post-json-bad', operators: ['viettel', 'gmobile'] }) });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().details).toContainEqual(expect.objectContaining({ path: 'operators[1]' }));
    });

    it('answers a YAML campaign with problems 400, naming each path with its line:column', async () => {
      const text = ['id: bad-campaign', 'name: Bad', 'message:', '  text: ""', '  sender: { viettel: "A&B" }', 'audience: { lists: [x] }', 'operators: [viettel]', 'validity: soon', ''].join('\n');
      const response = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: { ...auth('operator'), ...YAML }, payload: text });
      expect(response.statusCode).toBe(400);
      const body = response.json<{ error: string; details: Array<{ path: string; line: number; column: number; message: string }> }>();
      expect(body.error).toBe('validation_failed');
      expect(body.details).toContainEqual(expect.objectContaining({ path: 'message.sender.viettel', line: 5, column: 22 }));
      expect(body.details).toContainEqual(expect.objectContaining({ path: 'validity', line: 8, column: 11 }));
      const broken = await sut.inject({ method: 'POST', url: '/v1/campaigns', headers: { ...auth('operator'), ...YAML }, payload: 'id: x\nname: [unclosed\n' });
      expect(broken.statusCode).toBe(400);
      expect(broken.json().details[0]).toMatchObject({ path: '(document)', line: expect.any(Number), column: expect.any(Number) });
    });

    it('PUT stores a new version only when the document changed, and the id must match the URL', async () => {
      const first = await saveCampaign({ id: 'put-campaign' });
      const same = await sut.inject({ method: 'PUT', url: '/v1/campaigns/put-campaign', headers: { ...auth('operator'), ...YAML }, payload: campaignYaml({ id: 'put-campaign' }) });
      expect(same.statusCode).toBe(200);
      expect(same.json()).toMatchObject({ versionCreated: false, version: { id: first.versionId } });
      const changed = await saveCampaign({ id: 'put-campaign', name: 'Renamed' });
      expect(changed.versionId).toBeGreaterThan(first.versionId);
      const mismatch = await sut.inject({ method: 'PUT', url: '/v1/campaigns/other-id', headers: { ...auth('operator'), ...YAML }, payload: campaignYaml({ id: 'put-campaign' }) });
      expect(mismatch.statusCode).toBe(400);
      expect(mismatch.json().details).toEqual([{ path: 'id', message: "must be 'other-id' (the id in the URL)" }]);

      const got = await sut.inject({ url: '/v1/campaigns/put-campaign', headers: auth('viewer') });
      expect(got.json()).toMatchObject({ id: 'put-campaign', name: 'Renamed', latestVersion: { id: changed.versionId, contentHash: changed.hash, document: { name: 'Renamed' } } });
      const list = await sut.inject({ url: '/v1/campaigns', headers: auth('viewer') });
      expect(list.json()).toContainEqual(expect.objectContaining({ id: 'put-campaign', latestVersion: expect.objectContaining({ contentHash: changed.hash }) }));
      expect((await sut.inject({ url: '/v1/campaigns/no-such-campaign', headers: auth('viewer') })).statusCode).toBe(404);

      const audit = (await auditRows('campaign.save')).filter((row) => row.subject === 'campaign:put-campaign');
      expect(audit.map((row) => row.details)).toEqual([
        { versionId: first.versionId, contentHash: first.hash },
        { versionId: changed.versionId, contentHash: changed.hash },
      ]);
    });
  });

  describe('launch', () => {
    const launch = (id: string, options: { key?: string; body?: Record<string, unknown>; role?: ApiRole } = {}) =>
      sut.inject({
        method: 'POST',
        url: `/v1/campaigns/${id}/launch`,
        headers: { ...auth(options.role ?? 'operator'), ...(options.key ? { 'idempotency-key': options.key } : {}) },
        ...(options.body ? { payload: options.body } : {}),
      });

    it('answers 503 when the queue is down, and a retry with the same Idempotency-Key starts that run', async () => {
      await saveCampaign({ id: 'launch-queue-down' });
      launcher.failNext = 1;
      const refused = await launch('launch-queue-down', { key: 'queue-down' });
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ error: 'unavailable', message: expect.stringContaining('retry with the same Idempotency-Key') });

      const retried = await launch('launch-queue-down', { key: 'queue-down' });
      expect(retried.statusCode).toBe(200);
      expect(launcher.calls.filter((call) => call.runId === retried.json().run.id)).toHaveLength(1);
    });

    it('returns the same run for a retried Idempotency-Key (201, then 200), asking for the same compile job again', async () => {
      const campaign = await saveCampaign({ id: 'launch-twice', validity: 'PT6H' });
      const first = await launch('launch-twice', { key: 'retry-me' });
      expect(first.statusCode).toBe(201);
      const run = first.json().run as { id: number };
      expect(first.json()).toMatchObject({
        created: true,
        deferred: false,
        run: { campaignId: 'launch-twice', campaignVersionId: campaign.versionId, contentHash: campaign.hash, occurrenceId: 'now:retry-me', state: 'scheduled', scheduledFor: DAYTIME.toISOString(), expiresAt: '2026-11-26T09:00:00.000Z' },
      });
      const second = await launch('launch-twice', { key: 'retry-me' });
      expect(second.statusCode).toBe(200);
      expect(second.json()).toMatchObject({ created: false, run: { id: run.id } });
      // The compile job's id is the run's: the queue keeps one job however often it is asked.
      expect(launcher.calls.filter((call) => call.runId === run.id)).toEqual([
        { runId: run.id, priority: 'normal' },
        { runId: run.id, priority: 'normal' },
      ]);

      const other = await launch('launch-twice', { key: 'another-launch' });
      expect(other.statusCode).toBe(201);
      expect(other.json().run.id).not.toBe(run.id);

      const audit = (await auditRows('campaign.launch')).filter((row) => row.subject === 'campaign:launch-twice');
      expect(audit).toHaveLength(2);
      expect(audit[0]).toMatchObject({
        actor: expect.stringMatching(/^key:\d+:test-operator$/),
        details: { runId: run.id, versionId: campaign.versionId, contentHash: campaign.hash, idempotencyKey: 'retry-me', deferredByQuietHours: false, quietHoursOverridden: false, audienceSize: null },
      });
    });

    it('launches the version named, not only the latest', async () => {
      const older = await saveCampaign({ id: 'launch-version' });
      await saveCampaign({ id: 'launch-version', name: 'Newer' });
      const response = await launch('launch-version', { body: { versionId: older.versionId } });
      expect(response.json().run).toMatchObject({ campaignVersionId: older.versionId, contentHash: older.hash });
      expect((await launch('launch-twice', { body: { versionId: older.versionId } })).statusCode).toBe(404);
    });

    it('makes a normal campaign launched in its quiet hours wait for their end, and says so', async () => {
      await saveCampaign({ id: 'night-launch' });
      now = NIGHT;
      const response = await launch('night-launch', { key: 'night-1' });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({
        deferred: true,
        quietHours: { from: '22:00', to: '07:00', timeZone: 'Asia/Ho_Chi_Minh' },
        quietHoursOverridden: false,
        run: { scheduledFor: NIGHT_ENDS, expiresAt: '2026-11-28T00:00:00.000Z' },
      });
      const runId = response.json().run.id as number;
      expect(launcher.calls.find((call) => call.runId === runId)).toEqual({ runId, priority: 'normal', notBefore: new Date(NIGHT_ENDS) });
      // A retry still says the run is waiting.
      expect((await launch('night-launch', { key: 'night-1' })).json()).toMatchObject({ created: false, deferred: true });
    });

    it('follows the schedule’s own quiet hours and time zone', async () => {
      await saveCampaign({ id: 'night-schedule', schedule: { start: '2026-12-01T08:00:00', quietHours: { from: '23:30', to: '06:00' } } });
      now = NIGHT; // 23:00 local: before this campaign's quiet hours
      expect((await launch('night-schedule')).json()).toMatchObject({ deferred: false, run: { scheduledFor: NIGHT.toISOString() } });
    });

    it('starts at once with now: true inside quiet hours, and audits the override', async () => {
      await saveCampaign({ id: 'night-now' });
      now = NIGHT;
      const response = await launch('night-now', { key: 'night-now-1', body: { now: true } });
      expect(response.json()).toMatchObject({ deferred: false, quietHoursOverridden: true, run: { scheduledFor: NIGHT.toISOString() } });
      const runId = response.json().run.id as number;
      expect(launcher.calls.find((call) => call.runId === runId)).toEqual({ runId, priority: 'normal' });
      const audit = (await auditRows('campaign.launch')).find((row) => row.details.runId === runId);
      expect(audit?.details).toMatchObject({ quietHoursOverridden: true, deferredByQuietHours: false });
      // The scheduler's quiet-hours pause leaves this run alone.
      expect((await new RunRepository(database.store.db).get(runId))!.ignore_quiet_hours).toBe(true);
    });

    it('does not hold an urgent campaign for quiet hours', async () => {
      await saveCampaign({ id: 'night-urgent', priority: 'urgent' });
      now = NIGHT;
      const response = await launch('night-urgent');
      expect(response.json()).toMatchObject({ deferred: false, quietHours: null, run: { priority: 'urgent', scheduledFor: NIGHT.toISOString() } });
      expect(launcher.calls.find((call) => call.runId === response.json().run.id)).toMatchObject({ priority: 'urgent' });
    });

    it('sends a test launch to its list only, refusing a list that does not exist', async () => {
      await saveCampaign({ id: 'test-launch' });
      expect((await launch('test-launch', { body: { test: 'no-such-list' } })).statusCode).toBe(400);
      const audience = new AudienceRepository(database.store.db, database.store.pool);
      await audience.createList({ id: 'staff', name: 'Sở TTTT staff' });
      await audience.mergeSubscribers('staff', feedOf([{ msisdn: '84912345678', province: null, commune: null, attrs: {} }]));
      const response = await launch('test-launch', { key: 'k', body: { test: 'staff' } });
      expect(response.statusCode).toBe(201);
      expect(response.json().run).toMatchObject({ testList: 'staff', occurrenceId: 'test:k' });
      // The same key for the real launch is another run.
      expect((await launch('test-launch', { key: 'k' })).json()).toMatchObject({ created: true, run: { testList: null, occurrenceId: 'now:k' } });
      const audit = (await auditRows('campaign.launch-test')).find((row) => row.details.runId === response.json().run.id);
      expect(audit?.details).toMatchObject({ testList: 'staff', audienceSize: 1 });
    });

    it('answers 404 for a campaign that does not exist', async () => {
      expect((await launch('nobody-wrote-this')).statusCode).toBe(404);
    });
  });

  describe('runs', () => {
    it('lists runs newest first, filtered by state and campaign, and shows one run’s progress', async () => {
      await saveCampaign({ id: 'runs-list' });
      const ids: number[] = [];
      for (const key of ['a', 'b', 'c']) ids.push((await sut.inject({ method: 'POST', url: '/v1/campaigns/runs-list/launch', headers: { ...auth('operator'), 'idempotency-key': key } })).json().run.id);
      await new RunRepository(database.store.db).setState(ids[0]!, 'cancelled');

      const all = await sut.inject({ url: '/v1/runs?campaign=runs-list', headers: auth('viewer') });
      expect(all.json().map((run: { id: number }) => run.id)).toEqual([...ids].reverse());
      const limited = await sut.inject({ url: '/v1/runs?limit=1', headers: auth('viewer') });
      expect(limited.json()).toHaveLength(1);
      const cancelled = await sut.inject({ url: '/v1/runs?campaign=runs-list&state=cancelled', headers: auth('viewer') });
      expect(cancelled.json()).toEqual([expect.objectContaining({ id: ids[0], state: 'cancelled' })]);
      const twoStates = await sut.inject({ url: '/v1/runs?campaign=runs-list&state=cancelled&state=scheduled', headers: auth('viewer') });
      expect(twoStates.json()).toHaveLength(3);

      const status = await sut.inject({ url: `/v1/runs/${ids[1]}`, headers: auth('viewer') });
      expect(status.statusCode).toBe(200);
      expect(status.json()).toMatchObject({ runId: ids[1], campaignId: 'runs-list', state: 'scheduled', totals: { queued: 0, delivered: 0 }, asOf: expect.any(String) });
      // Not compiled yet: no carrier has a message.
      expect((status.json() as { carriers: Array<{ total: number }> }).carriers.every((carrier) => carrier.total === 0)).toBe(true);
      expect((await sut.inject({ url: '/v1/runs/999999', headers: auth('viewer') })).statusCode).toBe(404);
    });
  });

  describe('bad requests', () => {
    it.each([
      ['bad JSON', 400, 'POST', '/v1/campaigns', { 'content-type': 'application/json' }, '{"id":'],
      ['a JSON array', 400, 'POST', '/v1/campaigns', { 'content-type': 'application/json' }, '[1,2]'],
      ['JSON null', 400, 'POST', '/v1/campaigns', { 'content-type': 'application/json' }, 'null'],
      ['a YAML list', 400, 'POST', '/v1/campaigns', YAML, '- a\n- b\n'],
      ['an empty YAML body', 400, 'POST', '/v1/campaigns', YAML, ''],
      ['YAML aliases that expand without bound', 400, 'POST', '/v1/campaigns', YAML, 'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'],
      ['deeply nested YAML', 400, 'POST', '/v1/campaigns', YAML, `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`],
      ['deeply nested JSON', 400, 'POST', '/v1/campaigns', { 'content-type': 'application/json' }, `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
      ['an unknown media type', 415, 'POST', '/v1/campaigns', { 'content-type': 'application/xml' }, '<campaign/>'],
      ['a huge campaign', 413, 'POST', '/v1/campaigns', YAML, `id: huge\nname: "${'x'.repeat(300_000)}"\n`],
      ['a huge JSON launch body', 413, 'POST', '/v1/campaigns/cantho-test/launch', { 'content-type': 'application/json' }, JSON.stringify({ test: 'x'.repeat(2_000_000) })],
      ['a launch body of the wrong type', 400, 'POST', '/v1/campaigns/cantho-test/launch', { 'content-type': 'application/json' }, '{"now":"tomorrow"}'],
      ['an unknown launch field', 400, 'POST', '/v1/campaigns/cantho-test/launch', { 'content-type': 'application/json' }, '{"force":true}'],
      ['a launch body that is a string', 400, 'POST', '/v1/campaigns/cantho-test/launch', { 'content-type': 'application/json' }, '"now"'],
      ['an over-long Idempotency-Key', 400, 'POST', '/v1/campaigns/cantho-test/launch', { 'idempotency-key': 'k'.repeat(201) }, undefined],
      ['a campaign id with a slash', 400, 'GET', '/v1/campaigns/..%2Fetc', {}, undefined],
      ['a run id that is not a number', 400, 'GET', '/v1/runs/abc', {}, undefined],
      ['a run id past 2^53', 400, 'GET', '/v1/runs/99999999999999999999', {}, undefined],
      ['an unknown run state', 400, 'GET', '/v1/runs?state=sleeping', {}, undefined],
      ['a limit out of range', 400, 'GET', '/v1/runs?limit=100000', {}, undefined],
      ['a key id that is not a number', 400, 'DELETE', '/v1/keys/me', {}, undefined],
      ['a key role that does not exist', 400, 'POST', '/v1/keys', { 'content-type': 'application/json' }, '{"role":"root","name":"x"}'],
    ] as const)('%s answers %i, never 500', async (_what, status, method, url, headers, payload) => {
      const response = await sut.inject({ method, url, headers: { ...auth('admin'), ...headers }, ...(payload !== undefined ? { payload } : {}) });
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json()).toMatchObject({ error: expect.any(String) });
    });
  });

  describe('OpenAPI', () => {
    it('lists every /v1 route with its schemas and the bearer requirement', async () => {
      const doc = (await sut.inject('/docs/json')).json<{ paths: Record<string, Record<string, { security?: unknown; parameters?: Array<{ in: string; name: string }>; requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>> }>();
      const operations = Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/v1/'))
        .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      expect(operations).toEqual([
        'DELETE /v1/keys/{id}',
        'DELETE /v1/reports/areas/{id}',
        'DELETE /v1/reports/entries/{id}',
        'DELETE /v1/session',
        'GET /v1/approvals',
        'GET /v1/audit',
        'GET /v1/campaigns',
        'GET /v1/campaigns/{id}',
        'GET /v1/keys',
        'GET /v1/launch-approval-rule',
        'GET /v1/lists/{id}/breakdown',
        'GET /v1/reports/areas',
        'GET /v1/reports/daily',
        'GET /v1/reports/entries',
        'GET /v1/reports/runs/{id}',
        'GET /v1/runs',
        'GET /v1/runs/{id}',
        'GET /v1/runs/{id}/errors',
        'GET /v1/runs/{id}/events',
        'GET /v1/session',
        'GET /v1/users',
        'POST /v1/approvals/{id}/approve',
        'POST /v1/campaigns',
        'POST /v1/campaigns/{id}/approvals',
        'POST /v1/campaigns/{id}/launch',
        'POST /v1/campaigns/{id}/preview',
        'POST /v1/keys',
        'POST /v1/reports/entries',
        'POST /v1/runs/{id}/cancel',
        'POST /v1/runs/{id}/pause',
        'POST /v1/runs/{id}/resume',
        'POST /v1/session',
        'POST /v1/users',
        'PUT /v1/campaigns/{id}',
        'PUT /v1/launch-approval-rule',
        'PUT /v1/reports/areas/{id}',
      ]);
      // /v1/session is the console's sign-in (cookie sessions, src/api/session-auth.ts), not a bearer route.
      for (const [path, methods] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/v1/') && p !== '/v1/session')) {
        for (const [method, operation] of Object.entries(methods)) {
          expect(operation.security, `${method} ${path}`).toEqual([{ apiKey: [] }]);
          expect(operation.responses, `${method} ${path}`).toHaveProperty('401');
          expect(Object.keys(operation.responses).some((code) => code.startsWith('2')), `${method} ${path}`).toBe(true);
        }
      }
      expect(Object.keys(doc.paths['/v1/campaigns']!.post!.requestBody!.content)).toEqual(expect.arrayContaining(['application/json', 'application/yaml']));
      expect(doc.paths['/v1/campaigns/{id}/launch']!.post!.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'idempotency-key' }));
      expect(doc.paths['/v1/runs']!.get!.parameters).toContainEqual(expect.objectContaining({ in: 'query', name: 'state' }));
    });
  });
});
