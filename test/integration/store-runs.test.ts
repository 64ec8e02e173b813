import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignRepository } from '../../src/store/campaign.repository.js';
import { RunRepository, type LaunchRun } from '../../src/store/run.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe(RunRepository.name, () => {
  let database: TestDatabase;
  let sut: RunRepository;
  let versionId: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    sut = new RunRepository(database.store.db);
    const campaigns = new CampaignRepository(database.store.db);
    await campaigns.upsert({ id: 'cantho-xet-nghiem', name: 'Xét nghiệm là then chốt' });
    const { version } = await campaigns.saveVersion({ campaignId: 'cantho-xet-nghiem', contentHash: 'h1', document: { id: 'cantho-xet-nghiem' }, createdBy: 'tester' });
    versionId = version.id;
  });

  afterAll(async () => {
    await database.drop();
  });

  function launch(occurrenceId: string, extra: Partial<LaunchRun> = {}): LaunchRun {
    return { campaignVersionId: versionId, occurrenceId, scheduledFor: new Date('2021-09-23T01:00:00Z'), launchedBy: 'operator-1', ...extra };
  }

  it('creates one run per (version, occurrence): launching twice returns the first run', async () => {
    const first = await sut.createIfAbsent(launch('2021-09-23T08:00:00+07:00'));
    const second = await sut.createIfAbsent(launch('2021-09-23T08:00:00+07:00', { launchedBy: 'operator-2' }));

    expect(first.created).toBe(true);
    expect(second).toEqual({ run: first.run, created: false });
    expect(first.run).toMatchObject({ state: 'scheduled', priority: 'normal', launched_by: 'operator-1', progress: {} });
  });

  it('creates one run when ten launches of the same occurrence race', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => sut.createIfAbsent(launch('race'))));

    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.run.id)).size).toBe(1);
  });

  it('moves through its states and records when it started and finished', async () => {
    const { run } = await sut.createIfAbsent(launch('lifecycle'));

    const compiling = await sut.setState(run.id, 'compiling');
    const running = await sut.setState(run.id, 'running');
    const paused = await sut.setState(run.id, 'paused');
    const resumed = await sut.setState(run.id, 'running');
    const completed = await sut.setState(run.id, 'completed');

    expect([compiling, running, paused, resumed, completed].map((r) => r?.state)).toEqual(['compiling', 'running', 'paused', 'running', 'completed']);
    expect(resumed?.started_at).toEqual(running?.started_at);
    expect(completed?.finished_at).toBeInstanceOf(Date);
  });

  it('does not revive a cancelled run', async () => {
    const { run } = await sut.createIfAbsent(launch('cancelled'));
    await sut.setState(run.id, 'cancelled');

    const revived = await sut.setState(run.id, 'running', {});
    const forced = await sut.setState(run.id, 'compiling', { from: ['scheduled'] });

    expect(revived).toBeUndefined();
    expect(forced).toBeUndefined();
    expect((await sut.get(run.id))?.state).toBe('cancelled');
  });

  it('stores a failure reason, the audience size and the progress cursor', async () => {
    const { run } = await sut.createIfAbsent(launch('progress'));

    await sut.setAudienceSize(run.id, 1234);
    await sut.saveProgress(run.id, { compiled: 1000 });
    await sut.saveProgress(run.id, { compiled: 1234, viettel: { batches: 2 } });
    const failed = await sut.setState(run.id, 'failed', { error: 'bind refused' });

    expect(failed).toMatchObject({ audience_size: 1234, progress: { compiled: 1234, viettel: { batches: 2 } }, error: 'bind refused' });
  });

  it('lists due runs, urgent first', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const normal = await sut.createIfAbsent(launch('due-normal', { scheduledFor: new Date('2029-12-31T00:00:00Z') }));
    const urgent = await sut.createIfAbsent(launch('due-urgent', { scheduledFor: new Date('2029-12-31T12:00:00Z'), priority: 'urgent' }));
    await sut.createIfAbsent(launch('future', { scheduledFor: new Date('2030-06-01T00:00:00Z') }));

    const due = await sut.listDue(now);

    const ids = due.map((run) => run.id);
    expect(ids.indexOf(urgent.run.id)).toBe(0);
    expect(ids).toContain(normal.run.id);
    expect(due.every((run) => run.scheduled_for <= now && run.state === 'scheduled')).toBe(true);
  });
});
