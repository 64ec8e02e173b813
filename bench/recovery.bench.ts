import { contentHash, validateCampaign } from '../src/domain/campaign.js';
import { CARRIER_IDS } from '../src/domain/carrier.js';
import { AudienceRepository, CampaignRepository, createDb, feedOf, MigrationRunner, RunRepository, type Store } from '../src/store/index.js';
import { campaignDocument } from '../test/factories.js';
import { runState, startOwnRedis, startRecoveryRig, waitFor, type RecoveryRig } from '../test/helpers/recovery.js';
import { throwawayDatabase, type Report } from './harness.js';

/**
 * Issue 9: how long sending stops when a worker is killed (kill -9 → its restart sends again) and
 * when Redis loses everything (FLUSHALL → the reconciler has rebuilt the queues), with
 * `loa serve --role worker` as a real process and three simulated SMSCs in this process.
 * The restart figure includes the worker's own start-up (tsx, migrations check, binds).
 */
const PER_CARRIER = 10_000;

/** 30,000 recipients of their own (from `first` on, per carrier), and a run of a one-part campaign to them. */
async function seed(store: Store, name: string, first: number): Promise<number> {
  const audience = new AudienceRepository(store.db, store.pool);
  await audience.createList({ id: name, name });
  const prefix = { viettel: '8496', vnpt: '8491', mobifone: '8490' } as const;
  await audience.mergeSubscribers(name, feedOf(CARRIER_IDS.flatMap((carrier) => Array.from({ length: PER_CARRIER }, (_, i) => ({ msisdn: `${prefix[carrier]}${String(first + i).padStart(7, '0')}` })))));
  const campaign = validateCampaign(campaignDocument({ id: name, audience: { lists: [name] }, validity: 'PT20S' }));
  const campaigns = new CampaignRepository(store.db);
  await campaigns.upsert({ id: campaign.id, name: campaign.name });
  const { version } = await campaigns.saveVersion({ campaignId: campaign.id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'bench' });
  const { run } = await new RunRepository(store.db).createIfAbsent({ campaignVersionId: version.id, occurrenceId: `bench:${name}`, scheduledFor: new Date(), launchedBy: 'bench' });
  return run.id;
}

/** Timestamps of every submit the SMSCs accept from now on. */
function submitTimes(rig: RecoveryRig): number[] {
  const times: number[] = [];
  for (const id of CARRIER_IDS) rig.sims[id].on('submit', () => times.push(Date.now()));
  return times;
}

export async function run(report: Report): Promise<void> {
  const database = await throwawayDatabase('recovery');
  const store = createDb(database.url, { max: 4, applicationName: 'loa-bench' });
  await new MigrationRunner(store.pool).migrate();
  const redis = await startOwnRedis();
  const rig = await startRecoveryRig({ databaseUrl: database.url, redisUrl: redis.url, env: { LOG_LEVEL: 'warn' } });
  try {
    const times = submitTimes(rig);
    const total = PER_CARRIER * CARRIER_IDS.length;

    // kill -9 at a third, then the same worker started again.
    const crashRun = await seed(store, 'crash', 0);
    const first = rig.startWorker({ LOG_LEVEL: 'info' });
    await first.waitForLog((line) => line.msg === 'engine started');
    await rig.queues.enqueueCompile(crashRun);
    await waitFor('a third', () => rig.accepted() >= total / 3, 120_000, 2);
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const second = rig.startWorker({ LOG_LEVEL: 'info' });
    await waitFor('sending again', () => times.some((at) => at > killedAt + 50), 120_000, 2);
    const resentAt = times.find((at) => at > killedAt + 50)!;
    const started = await second.waitForLog((line) => line.msg === 'engine started');
    const bound = await second.waitForLog((line) => line.msg === 'carrier bound');
    await waitFor('the run to complete', async () => (await runState(store, crashRun)) === 'completed', 180_000, 250);
    report({
      bench: 'recovery.kill9_to_sending_ms',
      value: resentAt - killedAt,
      unit: 'ms',
      workerStartMs: (started.time as number) - killedAt,
      firstBindMs: (bound.time as number) - killedAt,
      duplicates: rig.duplicates(),
      note: 'kill -9 of the worker at a third of 30,000 → first submit_sm accepted from the restarted worker; includes its start-up and waiting for the dead worker\'s bind leases in Redis to expire',
    });

    // FLUSHALL at a third of a second run, same worker.
    const flushRun = await seed(store, 'flush', PER_CARRIER);
    const before = rig.accepted();
    const duplicatesBefore = rig.duplicates();
    await rig.queues.enqueueCompile(flushRun);
    await waitFor('a third', () => rig.accepted() - before >= total / 3, 120_000, 2);
    await rig.redis.flushall();
    const flushedAt = Date.now();
    const rebuilt = await second.waitForLog((line) => line.component === 'reconciler' && line.reason === 'redis-lost', 60_000);
    await waitFor('the run to complete', async () => (await runState(store, flushRun)) === 'completed', 180_000, 250);
    const after = times.filter((at) => at >= flushedAt);
    let gap = after.length > 0 ? after[0]! - flushedAt : 0;
    for (let i = 1; i < after.length; i++) gap = Math.max(gap, after[i]! - after[i - 1]!);
    report({
      bench: 'recovery.flushall_to_rebuilt_ms',
      value: (rebuilt.time as number) - flushedAt,
      unit: 'ms',
      longestSubmitGapAfterMs: gap,
      duplicates: rig.duplicates() - duplicatesBefore,
      recipients: rig.recipients(),
      note: 'FLUSHALL at a third of a 30,000 run → the reconciler has enqueued the run again (sentinel checked every 1 s); the gap is the longest pause in accepted submits after the flush',
    });
    await second.stop();
  } finally {
    await rig.stop();
    await redis.stop();
    await store.close();
    await database.drop();
  }
}
