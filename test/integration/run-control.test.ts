import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runLoa } from '../helpers/cli.js';
import { buildApp } from '../../src/api/app.js';
import type { ApiRole } from '../../src/domain/api-key.js';
import { MESSAGE_STATES } from '../../src/domain/message-state.js';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { startScheduler } from '../../src/jobs/scheduler-role.js';
import { AlertWebhook, type AlertEvent } from '../../src/services/alert-webhook.js';
import { createApiServices } from '../../src/services/index.js';
import { RunControlService } from '../../src/services/run-control.service.js';
import { AuditRepository, MessageRepository, RunControlRepository, RunRepository } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedList, seedRun, startEngineFixture, subscriber, waitForStatus, type EngineFixture } from '../helpers/engine.js';
import { testLogger } from '../helpers/smpp.js';

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

describe(RunControlService.name, () => {
  let database: TestDatabase;
  let fixture: EngineFixture;
  let app: FastifyInstance;
  const tokens: Record<ApiRole, string> = { admin: '', operator: '', viewer: '' };
  const post = (url: string, role: ApiRole) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokens[role]}` } });
  const status = async (runId: number): Promise<RunStatus> => (await fixture.engine.status.get(runId))!;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 20 });
    // One slow carrier: 1 bind, window 10, 100 ms per answer → about 100 messages/s, so a run of
    // 600 lasts long enough to pause and cancel it midway.
    fixture = await startEngineFixture(database.store, {
      binds: 1,
      window: 10,
      sim: () => ({
        latencyMs: { min: 100, max: 100 },
        receipts: { outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }, delayMs: { min: 1, max: 5 } },
        // Numbers 9,000,000 and up (the webhook test) get 0x0A ESME_RINVSRCADR: the sender is refused.
        rejectDestination: (to: string) => (to.startsWith(subscriber('viettel', 9_000_000).slice(0, 5)) ? 0x0a : 0),
      }),
      engine: { submit: { stateCheckMs: 20 } },
    });
    const services = createApiServices(database.store, { launcher: fixture.engine.queues, statusReader: fixture.engine.status }, { logger: testLogger });
    app = await buildApp({ logger: testLogger, metrics: createMetricsRegistry(), checks: [], services });
    await app.ready();
    for (const role of ['admin', 'operator', 'viewer'] as const) tokens[role] = (await services.apiKeys.create({ role, name: `rc-${role}` }, 'test')).token;
    await seedList(database.store, 'slow', Array.from({ length: 600 }, (_, i) => ({ msisdn: subscriber('viettel', i) })));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await fixture?.stop();
    await database?.drop();
  });

  it('pauses mid-run (the window finishes, nothing more is claimed) and resumes to completion; every count adds up', async () => {
    const runId = await seedRun(database.store, { id: 'pause-me', audience: { lists: ['slow'] } });
    await fixture.engine.queues.enqueueCompile(runId);
    await waitForStatus(fixture.engine, runId, (s) => s.totals.submitted + s.totals.delivered >= 100, 30_000);

    expect((await post(`/v1/runs/${runId}/pause`, 'viewer')).statusCode).toBe(403);
    const paused = await post(`/v1/runs/${runId}/pause`, 'operator');
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json()).toMatchObject({ id: runId, state: 'paused', pausedReason: 'operator' });
    // Pausing twice is not a transition: 409.
    expect((await post(`/v1/runs/${runId}/pause`, 'operator')).statusCode).toBe(409);

    // The window settles: no message is left submitting, and the rest wait queued.
    const settled = await waitForStatus(fixture.engine, runId, (s) => s.totals.submitting === 0, 10_000);
    const sentAtPause = fixture.sims.viettel.submitsByDestination().size;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fixture.sims.viettel.submitsByDestination().size).toBe(sentAtPause);
    expect(settled.state).toBe('paused');
    expect(settled.pausedReason).toBe('operator');
    expect(settled.totals.queued).toBeGreaterThan(0);
    expect(sum(settled.totals)).toBe(600);

    const resumed = await post(`/v1/runs/${runId}/resume`, 'operator');
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json()).toMatchObject({ state: 'running', pausedReason: null });
    const done = await waitForStatus(fixture.engine, runId, (s) => s.state === 'completed', 60_000);
    expect(done.totals.delivered).toBe(600);
    expect(sum(done.totals)).toBe(600);
    const seen = fixture.sims.viettel.submitsByDestination();
    expect([...seen.values()].every((parts) => parts.length === 1)).toBe(true);

    const audit = await new AuditRepository(database.store.db).listForSubject(`run:${runId}`);
    expect(audit.map((entry) => [entry.action, entry.actor])).toEqual([
      ['run.resume', expect.stringMatching(/^key:\d+:rc-operator$/)],
      ['run.pause', expect.stringMatching(/^key:\d+:rc-operator$/)],
    ]);
    // A completed run cannot be resumed or cancelled.
    expect((await post(`/v1/runs/${runId}/cancel`, 'operator')).statusCode).toBe(409);
  }, 90_000);

  it('cancels mid-run: the queued rest becomes cancelled, counted, and the run is final', async () => {
    const runId = await seedRun(database.store, { id: 'cancel-me', audience: { lists: ['slow'] } });
    await fixture.engine.queues.enqueueCompile(runId);
    await waitForStatus(fixture.engine, runId, (s) => s.totals.submitted + s.totals.delivered >= 100, 30_000);

    expect((await post(`/v1/runs/${runId}/cancel`, 'viewer')).statusCode).toBe(403);
    const cancelled = await post(`/v1/runs/${runId}/cancel`, 'operator');
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ id: runId, state: 'cancelled' });

    // What was in the window settles; rows the job returned to queued are swept to cancelled.
    const final = await waitForStatus(fixture.engine, runId, (s) => s.totals.queued === 0 && s.totals.submitting === 0 && s.totals.submitted === 0, 20_000);
    expect(final.state).toBe('cancelled');
    expect(final.totals.cancelled).toBeGreaterThan(0);
    expect(final.totals.delivered).toBeGreaterThanOrEqual(100);
    expect(final.totals.delivered + final.totals.cancelled).toBe(600);
    expect(sum(final.totals)).toBe(600);
    expect(final.carriers.find((c) => c.carrier === 'viettel')!.counts.cancelled).toBe(final.totals.cancelled);
    // The counters agree with the rows, and the SMSC saw only the messages that were not cancelled.
    expect(await new MessageRepository(database.store.db, database.store.pool).countsByState(runId)).toEqual(final.totals);
    const atSmsc = fixture.sims.viettel.submitsByDestination();
    const sentThisRun = (await database.store.db.selectFrom('messages').select('msisdn').where('run_id', '=', runId).where('state', '=', 'delivered').execute()).length;
    expect(sentThisRun).toBe(final.totals.delivered);
    // Every number got the first run's message once, and this run's only when it was not cancelled.
    const submits = [...atSmsc.values()].reduce((total, parts) => total + parts.length, 0);
    expect(submits).toBe(600 + final.totals.delivered);

    for (const action of ['pause', 'resume', 'cancel']) expect((await post(`/v1/runs/${runId}/${action}`, 'operator')).statusCode).toBe(409);
    expect((await post('/v1/runs/999999/pause', 'operator')).statusCode).toBe(404);
    const audit = await new AuditRepository(database.store.db).listForSubject(`run:${runId}`);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'run.cancel', actor: expect.stringMatching(/:rc-operator$/) });
    expect(MESSAGE_STATES).toContain('cancelled');
  }, 90_000);

  it('tells the webhook at once when the submit path pauses a run by itself, retrying a failed delivery', async () => {
    const events: AlertEvent[] = [];
    let answers = 0;
    const server: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        // The first attempt fails: the event must come again.
        if (++answers === 1) return response.writeHead(503).end();
        events.push(JSON.parse(body) as AlertEvent);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const alerts = new AlertWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, testLogger, { backoffMs: 10 });
    const runs = new RunRepository(database.store.db);
    const control = new RunControlService({ runs, control: new RunControlRepository(database.store.db), audit: new AuditRepository(database.store.db), resumer: fixture.engine.queues, alerts, logger: testLogger });
    try {
      // Viettel refuses the sender (0x0A, ESME_RINVSRCADR): a configuration error that stops the run.
      await seedList(database.store, 'refused', [{ msisdn: subscriber('viettel', 9_000_001) }, { msisdn: subscriber('viettel', 9_000_002) }]);
      const runId = await seedRun(database.store, { id: 'refused-sender', audience: { lists: ['refused'] }, message: { text: 'Thu nghiem', sender: { viettel: 'NO-SUCH' } }, operators: ['viettel'] });
      await fixture.engine.queues.enqueueCompile(runId);
      await waitForStatus(fixture.engine, runId, (s) => s.state === 'paused', 20_000);

      expect(await control.announceAutomaticPauses()).toBe(1);
      expect(await control.announceAutomaticPauses()).toBe(0);
      await alerts.drain();
      expect(answers).toBe(2);
      expect(events).toEqual([{ event: 'run.paused', runId, code: 'auto', reason: expect.stringMatching(/viettel answered .*0x0000000a/), at: expect.any(String) }]);
      const paused = await status(runId);
      expect(paused).toMatchObject({ state: 'paused', pausedReason: 'auto' });
      expect(paused.error).toMatch(/0x0000000a/);
      const audit = await new AuditRepository(database.store.db).listForSubject(`run:${runId}`);
      expect(audit[0]).toMatchObject({ actor: 'engine', action: 'run.pause' });
    } finally {
      server.close();
    }
  }, 60_000);

  it('quiet hours pause a sending normal run at their start and resume it at their end, and it completes', async () => {
    const runId = await seedRun(database.store, { id: 'quiet-run', audience: { lists: ['slow'] }, schedule: { start: '2030-01-01T08:00', quietHours: { from: '22:00', to: '07:00' } } });
    let now = new Date('2026-11-26T21:59:00+07:00');
    const sut = startScheduler({
      store: database.store,
      launcher: new JobQueues(fixture.redis, fixture.prefix),
      config: { alertWebhook: null, leaseMs: 10_000, tickMs: 3_600_000, lookbackMs: 0 },
      logger: testLogger,
      clock: () => now,
      options: { leaseName: 'quiet-run' },
    });
    try {
      await fixture.engine.queues.enqueueCompile(runId);
      await waitForStatus(fixture.engine, runId, (s) => s.totals.submitted + s.totals.delivered >= 100, 30_000);
      expect((await sut.scheduler.tick()).paused).toEqual([]);
      now = new Date('2026-11-26T22:00:00+07:00');
      expect((await sut.scheduler.tick()).paused).toEqual([runId]);
      const paused = await waitForStatus(fixture.engine, runId, (s) => s.totals.submitting === 0, 10_000);
      expect(paused).toMatchObject({ state: 'paused', pausedReason: 'quiet-hours' });
      expect(paused.totals.queued).toBeGreaterThan(0);
      const sentAtPause = paused.totals.submitted + paused.totals.delivered;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const later = await status(runId);
      expect(later.totals.submitted + later.totals.delivered).toBe(sentAtPause);

      now = new Date('2026-11-27T07:00:00+07:00');
      expect((await sut.scheduler.tick()).resumed).toEqual([runId]);
      const done = await waitForStatus(fixture.engine, runId, (s) => s.state === 'completed', 60_000);
      expect(done.totals.delivered).toBe(600);
      expect(sum(done.totals)).toBe(600);
    } finally {
      await sut.stop();
    }
  }, 90_000);

  describe('loa pause|resume|cancel', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('changes the run through the API, as the key in LOA_TOKEN, with --json or a sentence', async () => {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      await seedList(database.store, 'tiny', [{ msisdn: subscriber('viettel', 700) }]);
      const runId = await seedRun(database.store, { id: 'cli-control', audience: { lists: ['tiny'] }, operators: ['viettel'] });
      const runs = new RunRepository(database.store.db);
      await runs.setState(runId, 'compiling');
      const env = (role: ApiRole) => ({ LOA_URL: address, LOA_TOKEN: tokens[role], LOA_LANG: 'en' });

      const paused = await runLoa(['pause', String(runId), '--json'], env('operator'));
      expect(paused.code, paused.stderr).toBe(0);
      expect(JSON.parse(paused.stdout)).toMatchObject({ id: runId, state: 'paused', pausedReason: 'operator' });

      const shown = await runLoa(['status', String(runId)], env('viewer'));
      expect(shown.stdout).toContain('Paused by: an operator');

      const refused = await runLoa(['resume', `run-${runId}`], env('viewer'));
      expect(refused.code).toBe(EXIT.refused);

      const resumed = await runLoa(['resume', `run-${runId}`], env('operator'));
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain(`Run ${runId} is sending again.`);

      const cancelled = await runLoa(['cancel', String(runId)], env('operator'));
      expect(cancelled.code, cancelled.stderr).toBe(0);
      expect(cancelled.stdout).toContain(`Run ${runId} is cancelled`);
      const again = await runLoa(['cancel', String(runId), '--json'], env('operator'));
      expect(again.code).toBe(EXIT.invalidInput);
      expect(again.stderr).toContain('409');
      expect((await runs.get(runId))!.state).toBe('cancelled');
    }, 60_000);
  });
});
