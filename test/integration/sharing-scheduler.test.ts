import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, validateCampaign } from '../../src/domain/campaign.js';
import { createRedis } from '../../src/jobs/redis.js';
import { CampaignRepository } from '../../src/store/index.js';
import { campaignDocument } from '../factories.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/engine.js';
import { startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

const HOUR = 3_600_000;
/** Vietnam wall-clock time of an instant (UTC+7) to the minute, as a campaign schedule start reads. */
const vnMinute = (at: number): string => new Date(at + 7 * 3_600_000).toISOString().slice(0, 16);

/**
 * Scheduler failover between real processes (issue 9, item 1): two `--role scheduler` processes,
 * the leader killed with SIGKILL (no release of its lease). The in-process scheduler tests drive
 * the clock through takeover and fencing; this one checks the same promise end to end.
 */
describe('scheduler failover between processes', () => {
  let database: TestDatabase;
  const redis = createRedis(REDIS_URL, 'loa-test-sharing-scheduler');
  const prefix = testRedisPrefix();
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(processes.map((process) => process.stop()));
    await cleanupRedisPrefix(redis, prefix);
    redis.disconnect();
    await database?.drop();
  });

  /** A campaign due every hour from 10 hours ago, valid 5 hours: the older ones expire, the newer launch late. */
  async function saveHourly(id: string, start: number): Promise<void> {
    const campaign = validateCampaign(campaignDocument({ id, schedule: { start: vnMinute(start), rrule: 'FREQ=HOURLY', quietHours: null }, validity: 'PT5H' }));
    const campaigns = new CampaignRepository(database.store.db);
    await campaigns.upsert({ id, name: id });
    // It has existed since before its first occurrence, so none is "from before the campaign existed".
    await database.store.db.updateTable('campaigns').set({ created_at: new Date(start - HOUR) } as never).where('id', '=', id).execute();
    await campaigns.saveVersion({ campaignId: id, contentHash: contentHash(campaign), document: campaign as never, createdBy: 'test' });
  }

  const lease = () => database.store.db.selectFrom('scheduler_leases').selectAll().where('name', '=', 'scheduler').executeTakeFirst();
  const occurrences = (campaignId: string) =>
    database.store.db.selectFrom('schedule_occurrences').selectAll().where('campaign_id', '=', campaignId).orderBy('nominal').execute();
  const runsOf = (campaignId: string) =>
    database.store.db
      .selectFrom('runs')
      .innerJoin('campaign_versions as v', 'v.id', 'runs.campaign_version_id')
      .select(['runs.id', 'runs.occurrence_id'])
      .where('v.campaign_id', '=', campaignId)
      .execute();

  async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('the follower takes over from a killed leader: no occurrence launched twice, none lost', async () => {
    const start = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR;
    await saveHourly('hourly-before', start);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      LOA_REDIS_PREFIX: prefix,
      LOA_SCHEDULER_LEASE_MS: '1500',
      LOA_SCHEDULER_TICK_MS: '100',
      LOA_SHUTDOWN_TIMEOUT_MS: '3000',
    };
    const pair = [startServiceProcess(['--role', 'scheduler'], env), startServiceProcess(['--role', 'scheduler'], env)];
    processes.push(...pair);
    for (const scheduler of pair) await scheduler.waitForLog((line) => line.msg === 'scheduler started', 60_000);

    // The leader decides every occurrence so far: the 5 older than their validity skipped, the rest launched late.
    const held = await until(lease, (row) => row !== undefined, 30_000, 'a leader');
    await until(() => occurrences('hourly-before'), (rows) => rows.length >= 11, 30_000, 'the occurrences so far');
    const leaderPid = Number(held!.holder.split(':')[1]);
    const leader = pair.find((scheduler) => scheduler.child.pid === leaderPid)!;
    const follower = pair.find((scheduler) => scheduler !== leader)!;
    expect(leader).toBeDefined();
    leader.child.kill('SIGKILL');
    await leader.exited;

    // Saved after the kill: only the follower, once it holds the lease, can launch its occurrences.
    await saveHourly('hourly-after', start);
    const taken = await until(lease, (row) => row !== undefined && Number(row.holder.split(':')[1]) === follower.child.pid, 30_000, 'the takeover');
    expect(Number(taken!.token)).toBeGreaterThan(Number(held!.token));
    await until(() => occurrences('hourly-after'), (rows) => rows.length >= 11, 30_000, 'the follower to decide');
    // Another tick or two of the new leader over the occurrences the old one decided.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(follower.child.exitCode).toBeNull();

    for (const campaignId of ['hourly-before', 'hourly-after']) {
      const decided = await occurrences(campaignId);
      // None lost: every hour from the first occurrence to the last decided one, each decided once.
      const hours = decided.map((row) => row.nominal.getTime());
      expect(hours[0]).toBe(start);
      expect(hours).toEqual(Array.from({ length: hours.length }, (_, i) => start + i * HOUR));
      expect(decided.filter((row) => row.state === 'skipped').every((row) => row.reason === 'expired')).toBe(true);
      // None twice: one run per launched occurrence, and no other.
      const launched = decided.filter((row) => row.state === 'launched');
      expect(launched.length).toBeGreaterThanOrEqual(5);
      const runs = await runsOf(campaignId);
      expect(runs.map((run) => run.id).sort()).toEqual(launched.map((row) => Number(row.run_id)).sort());
      expect(new Set(runs.map((run) => run.occurrence_id)).size).toBe(runs.length);
    }
    // The follower decided the second campaign with its own (newer) token.
    expect((await occurrences('hourly-after')).every((row) => Number(row.token) === Number(taken!.token))).toBe(true);
  }, 180_000);
});
