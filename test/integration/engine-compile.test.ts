import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompileWorker } from '../../src/jobs/compile.worker.js';
import { JobQueues, type JobPayloads } from '../../src/jobs/queues.js';
import { createRedis } from '../../src/jobs/redis.js';
import { AudienceRepository, feedOf, CompileRepository, idBase, MessageRepository, RunCountRepository, RunRepository } from '../../src/store/index.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL, seedList, seedRun, subscriber } from '../helpers/engine.js';
import { testLogger } from '../helpers/smpp.js';

describe(CompileWorker.name, () => {
  let database: TestDatabase;
  let redis: Redis;
  let queues: JobQueues;
  const prefix = testRedisPrefix();

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = createRedis(REDIS_URL, 'loa-test-compile');
    queues = new JobQueues(redis, prefix);
  });

  afterAll(async () => {
    await queues.close();
    const cleaner = new Redis(REDIS_URL);
    await cleanupRedisPrefix(cleaner, prefix);
    cleaner.disconnect();
    redis.disconnect();
    await database.drop();
  });

  function worker(options: { chunkSize?: number; queues?: Pick<JobQueues, 'addBulk'> } = {}): CompileWorker {
    const { store } = database;
    return new CompileWorker(
      { runs: new RunRepository(store.db), messages: new MessageRepository(store.db, store.pool), compile: new CompileRepository(store.db), queues: options.queues ?? queues, logger: testLogger },
      { chunkSize: options.chunkSize ?? 50_000, batchSize: 100 },
    );
  }

  async function rowsOf(runId: number) {
    return database.store.db
      .selectFrom('messages')
      .select(['id', 'msisdn', 'carrier', 'state', 'parts_total', 'province', 'commune'])
      .where('run_id', '=', runId)
      .orderBy('id')
      .execute();
  }

  it('resolves lists ∩ areas − opt-outs − exclude lists, once per number, and routes by portability before the prefix', async () => {
    const audience = new AudienceRepository(database.store.db, database.store.pool);
    await seedList(database.store, 'rules-a', [
      { msisdn: subscriber('viettel', 1), province: '92', commune: 'c1' },
      { msisdn: subscriber('viettel', 2), province: '92', commune: 'c2' }, // opted out
      { msisdn: subscriber('vnpt', 3), province: '92', commune: 'c1' }, // excluded
      { msisdn: subscriber('mobifone', 4), province: '91', commune: 'c1' }, // other province
      { msisdn: subscriber('viettel', 5), province: '92', commune: 'c1' }, // ported to VNPT
      { msisdn: '84921234567', province: '92', commune: 'c1' }, // Vietnamobile: another network
      { msisdn: subscriber('viettel', 7), province: '92', commune: 'c1' }, // ported to Vietnamobile
    ]);
    await seedList(database.store, 'rules-b', [
      { msisdn: subscriber('viettel', 1), province: '92', commune: 'c1' }, // in both lists: once
      { msisdn: subscriber('mobifone', 8), province: '92', commune: 'c3' },
    ]);
    await seedList(database.store, 'rules-dnc', [{ msisdn: subscriber('vnpt', 3) }]);
    await audience.mergeOptOuts(feedOf([{ msisdn: subscriber('viettel', 2) }]));
    await audience.mergePortability(
      feedOf([
        { msisdn: subscriber('viettel', 5), carrier: 'Vinaphone' },
        { msisdn: subscriber('viettel', 7), carrier: 'Vietnamobile' },
      ]),
    );
    const runId = await seedRun(database.store, { id: 'rules', audience: { lists: ['rules-a', 'rules-b'], areas: { province: ['92'] }, exclude: ['rules-dnc'] } });

    const result = await worker().process({ runId });

    expect(result.rows).toBe(5);
    const rows = await rowsOf(runId);
    expect(rows.map((r) => [r.msisdn, r.carrier, r.state])).toEqual([
      [subscriber('viettel', 1), 'viettel', 'queued'],
      [subscriber('viettel', 5), 'vnpt', 'queued'],
      [subscriber('mobifone', 8), 'mobifone', 'queued'],
      ['84921234567', null, 'unroutable'],
      [subscriber('viettel', 7), null, 'unroutable'],
    ]);
    // Ids: each carrier's own dense block.
    expect(rows.map((r) => r.id)).toEqual([idBase('viettel') + 1, idBase('vnpt') + 1, idBase('mobifone') + 1, idBase(null) + 1, idBase(null) + 2]);
    const run = await new RunRepository(database.store.db).get(runId);
    expect(run).toMatchObject({ state: 'running', audience_size: 5 });
    expect(run!.progress.compile).toMatchObject({ done: true, used: { viettel: 1, vnpt: 1, mobifone: 1, unroutable: 2 } });
    // The counters saw the rows as compile wrote them.
    const counts = await new RunCountRepository(database.store.db).byCarrierAndState(runId);
    expect(counts.map((c) => [c.carrier, c.state, c.count]).sort()).toEqual(
      [
        ['mobifone', 'queued', 1],
        ['viettel', 'queued', 1],
        ['vnpt', 'queued', 1],
        [null, 'unroutable', 2],
      ].sort(),
    );
    // Its batches are queued, one per carrier range.
    const viettelJobs = await new Queue('submit-viettel', { connection: redis, prefix }).getJobs(['prioritized', 'waiting']);
    expect(viettelJobs.map((job) => job.id)).toContain(`run-${runId}.viettel.${idBase('viettel') + 1}-${idBase('viettel') + 1}`);
  });

  it('lets an urgent campaign with ignoreOptOuts reach opted-out numbers, and a test run reach only its list (opt-outs still applied)', async () => {
    const audience = new AudienceRepository(database.store.db, database.store.pool);
    await seedList(database.store, 'urgent-list', [{ msisdn: subscriber('vnpt', 20) }, { msisdn: subscriber('vnpt', 21) }]);
    await seedList(database.store, 'testers', [{ msisdn: subscriber('mobifone', 22) }, { msisdn: subscriber('mobifone', 23) }]);
    await audience.mergeOptOuts(feedOf([{ msisdn: subscriber('vnpt', 21) }, { msisdn: subscriber('mobifone', 23) }]));
    const urgent = await seedRun(database.store, { id: 'urgent-optouts', priority: 'urgent', audience: { lists: ['urgent-list'], ignoreOptOuts: true } });
    const tested = await seedRun(database.store, { id: 'tested', audience: { lists: ['urgent-list'] } }, { testList: 'testers' });

    await worker().process({ runId: urgent });
    await worker().process({ runId: tested });

    expect((await rowsOf(urgent)).map((r) => r.msisdn)).toEqual([subscriber('vnpt', 20), subscriber('vnpt', 21)]);
    expect((await rowsOf(tested)).map((r) => r.msisdn)).toEqual([subscriber('mobifone', 22)]);
  });

  it('resumes a compile stopped mid-way from its cursor, without duplicates, and two workers never write a chunk twice', async () => {
    const count = 1_000;
    await seedList(
      database.store,
      'resume',
      Array.from({ length: count }, (_, i) => ({ msisdn: subscriber((['viettel', 'vnpt', 'mobifone'] as const)[i % 3]!, 40_000 + i) })),
    );
    const runId = await seedRun(database.store, { id: 'resume', audience: { lists: ['resume'] } });
    const abort = new AbortController();
    let enqueued = 0;
    const stopping = {
      addBulk: async (jobs: ReadonlyArray<{ payload: JobPayloads['submit'] }>) => {
        await queues.addBulk(jobs);
        enqueued += 1;
        if (enqueued === 3) abort.abort(); // the worker dies after its third chunk
      },
    };

    await expect(worker({ chunkSize: 100, queues: stopping }).process({ runId }, abort.signal)).rejects.toThrow(/resumes from its cursor/);
    const partial = await rowsOf(runId);
    expect(partial).toHaveLength(300);

    // The retried job, twice at once (the queue may hand it to two workers).
    const results = await Promise.allSettled([worker({ chunkSize: 100 }).process({ runId }), worker({ chunkSize: 100 }).process({ runId })]);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    if (results.some((r) => r.status === 'rejected')) await worker({ chunkSize: 100 }).process({ runId });

    const rows = await rowsOf(runId);
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((r) => r.msisdn)).size).toBe(count);
    for (const carrier of ['viettel', 'vnpt', 'mobifone'] as const) {
      const ids = rows.filter((r) => r.carrier === carrier).map((r) => r.id);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => idBase(carrier) + 1 + i));
    }
    const run = await new RunRepository(database.store.db).get(runId);
    expect(run).toMatchObject({ audience_size: count, state: 'running' });
  });
});
