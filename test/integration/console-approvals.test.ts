import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { simulatorCarriers } from '../../src/config.js';
import type { RunLauncher } from '../../src/jobs/engine-contract.js';
import { createRunStatusReader } from '../../src/jobs/engine.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { AudienceRepository, feedOf } from '../../src/store/index.js';
import { campaignYaml } from '../factories.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

/** Our own RunLauncher interface, recording which runs the API started. */
const started: number[] = [];
const launcher: RunLauncher = { enqueueCompile: async (runId) => void started.push(runId) };
/** 10:00 in Vietnam: outside the default quiet hours. */
const DAYTIME = new Date('2026-11-26T03:00:00Z');

describe('the approval rule for large launches', () => {
  let database: TestDatabase;
  let services: ApiServices;
  let sut: FastifyInstance;
  const keys: Record<'admin' | 'first' | 'second', string> = { admin: '', first: '', second: '' };
  const as = (who: keyof typeof keys, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${keys[who]}`, ...extra });
  const launch = (who: keyof typeof keys, campaign: string, extra: Record<string, string> = {}, body: object = {}) =>
    sut.inject({ method: 'POST', url: `/v1/campaigns/${campaign}/launch`, headers: as(who, extra), payload: body });

  beforeAll(async () => {
    database = await createTestDatabase();
    services = createApiServices(database.store, { launcher, statusReader: createRunStatusReader(database.store, { carriers: simulatorCarriers(2775) }) }, { clock: () => DAYTIME });
    sut = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
    await sut.ready();
    keys.admin = (await services.apiKeys.create({ role: 'admin', name: 'chief' }, 'test')).token;
    keys.first = (await services.apiKeys.create({ role: 'operator', name: 'first-operator' }, 'test')).token;
    keys.second = (await services.apiKeys.create({ role: 'operator', name: 'second-operator' }, 'test')).token;
    const audience = new AudienceRepository(database.store.db, database.store.pool);
    await audience.createList({ id: 'cantho-subscribers', name: 'Cần Thơ' });
    await audience.mergeSubscribers('cantho-subscribers', feedOf(['84912000001', '84912000002', '84912000003', '84982000004'].map((msisdn) => ({ msisdn, province: '92', commune: null, attrs: {} }))));
    await audience.createList({ id: 'staff', name: 'staff' });
    await audience.mergeSubscribers('staff', feedOf([{ msisdn: '84912000001', province: null, commune: null, attrs: {} }]));
    for (const [id, priority] of [['big-normal', 'normal'], ['big-urgent', 'urgent']] as const) {
      const saved = await sut.inject({ method: 'PUT', url: `/v1/campaigns/${id}`, headers: as('admin', { 'content-type': 'application/yaml' }), payload: campaignYaml({ id, priority }) });
      expect(saved.statusCode).toBe(201);
    }
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('changes nothing while no rule is set', async () => {
    expect((await sut.inject({ method: 'GET', url: '/v1/launch-approval-rule', headers: as('first') })).json()).toEqual({ above: null });
    const response = await launch('first', 'big-normal', { 'idempotency-key': 'no-rule' });
    expect(response.statusCode).toBe(201);
  });

  it('holds a launch above the rule until another person approves it, and an approval serves once', async () => {
    expect((await sut.inject({ method: 'PUT', url: '/v1/launch-approval-rule', headers: as('first'), payload: { above: 3 } })).statusCode).toBe(403);
    expect((await sut.inject({ method: 'PUT', url: '/v1/launch-approval-rule', headers: as('admin'), payload: { above: 3 } })).json()).toEqual({ above: 3 });

    const before = started.length;
    const held = await launch('first', 'big-normal');
    expect(held.statusCode).toBe(409);
    expect(held.json<{ message: string }>().message).toContain('approval_required: 4 recipients');
    expect(started.length).toBe(before);
    // A test send to a short list is never held.
    expect((await launch('first', 'big-normal', { 'idempotency-key': 'test-send' }, { test: 'staff' })).statusCode).toBe(201);

    const asked = await sut.inject({ method: 'POST', url: '/v1/campaigns/big-normal/approvals', headers: as('first') });
    expect(asked.statusCode).toBe(201);
    const approval = asked.json<{ id: number; recipients: number }>();
    expect(approval.recipients).toBe(4);
    // Not approved yet, then not by the one who asked.
    expect((await launch('first', 'big-normal', { 'x-launch-approval': String(approval.id) })).statusCode).toBe(409);
    expect((await sut.inject({ method: 'POST', url: `/v1/approvals/${approval.id}/approve`, headers: as('first') })).statusCode).toBe(403);
    const approved = await sut.inject({ method: 'POST', url: `/v1/approvals/${approval.id}/approve`, headers: as('second') });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ approvedBy: expect.stringMatching(/^key:\d+:second-operator$/) });

    const launched = await launch('first', 'big-normal', { 'x-launch-approval': String(approval.id), 'idempotency-key': 'approved' });
    expect(launched.statusCode).toBe(201);
    expect((await launch('first', 'big-normal', { 'x-launch-approval': String(approval.id), 'idempotency-key': 'again' })).statusCode).toBe(409);
    const actions = await database.store.db.selectFrom('audit_log').select('action').where('subject', '=', 'campaign:big-normal').orderBy('id').execute();
    expect(actions.map((entry) => entry.action)).toEqual(expect.arrayContaining(['launch-approval.request', 'launch-approval.approve']));
  });

  it('lets an admin launch an urgent campaign without approval, audited; an operator’s urgent launch still waits', async () => {
    expect((await launch('first', 'big-urgent')).statusCode).toBe(409);
    expect((await launch('admin', 'big-urgent', { 'idempotency-key': 'chief-urgent' })).statusCode).toBe(201);
    const skipped = await database.store.db.selectFrom('audit_log').select(['actor', 'action']).where('action', '=', 'launch-approval.skipped').execute();
    expect(skipped).toEqual([{ actor: expect.stringMatching(/^key:\d+:chief$/), action: 'launch-approval.skipped' }]);
  });
});
