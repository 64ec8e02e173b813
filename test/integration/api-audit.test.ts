import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHardenedApi, type HardenedApi } from '../helpers/api-hard.js';

interface Entry {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}
interface Page {
  entries: Entry[];
  next: number | null;
}

describe('GET /v1/audit', () => {
  let api: HardenedApi;
  let operatorActor = '';

  beforeAll(async () => {
    api = await startHardenedApi();
    // Who did what: the operator pauses and cancels the in-scope run; two old entries at known times.
    const operator = api.headers('operator');
    await api.app.inject({ method: 'POST', url: `/v1/runs/${api.fixtures.inRun}/cancel`, headers: operator });
    const db = api.database.store.db;
    await db
      .insertInto('audit_log')
      .values([
        { at: new Date('2026-01-01T00:00:00Z'), actor: 'scheduler', action: 'campaign.launch', subject: 'campaign:old', details: JSON.stringify({ runId: 0 }) },
        { at: new Date('2026-01-02T00:00:00Z'), actor: 'scheduler', action: 'occurrence.skip', subject: 'campaign:old', details: '{}' },
      ])
      .execute();
    operatorActor = `key:${api.keyIds[1]}:hard-operator`;
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  async function page(query: string, caller: 'admin' | 'operator' | 'viewer' = 'admin'): Promise<{ status: number; body: Page }> {
    const response = await api.app.inject({ url: `/v1/audit${query}`, headers: api.headers(caller) });
    return { status: response.statusCode, body: response.json<Page>() };
  }

  const sqlIds = async (where: (q: ReturnType<typeof base>) => ReturnType<typeof base>) => (await where(base()).execute()).map((row) => row.id);
  const base = () => api.database.store.db.selectFrom('audit_log').select('id').orderBy('id', 'desc');

  it('gives admins the whole log, newest first, exactly as stored', async () => {
    const { status, body } = await page('?limit=500');
    expect(status).toBe(200);
    expect(body.entries.map((e) => e.id)).toEqual(await sqlIds((q) => q));
    expect(body.next).toBeNull();
    const cancel = body.entries.find((e) => e.action === 'run.cancel');
    expect(cancel).toMatchObject({ actor: operatorActor, subject: `run:${api.fixtures.inRun}`, details: { runId: api.fixtures.inRun } });
    expect(Date.parse(cancel!.at)).not.toBeNaN();
  });

  it('refuses operators and viewers (403) and callers without a key (401)', async () => {
    expect((await page('', 'operator')).status).toBe(403);
    expect((await page('', 'viewer')).status).toBe(403);
    expect((await api.app.inject({ url: '/v1/audit' })).statusCode).toBe(401);
  });

  it('filters by actor and by action', async () => {
    const byActor = (await page(`?actor=${encodeURIComponent(operatorActor)}`)).body.entries;
    expect(byActor.map((e) => e.id)).toEqual(await sqlIds((q) => q.where('actor', '=', operatorActor)));
    expect(byActor.map((e) => e.action)).toEqual(['run.cancel']);
    const launches = (await page('?action=campaign.launch')).body.entries;
    expect(launches.map((e) => e.subject).sort()).toEqual(['campaign:in-campaign', 'campaign:old', 'campaign:out-campaign']);
  });

  it('filters by campaign: its own entries and those of its runs, nothing of another campaign', async () => {
    const entries = (await page('?campaign=in-campaign')).body.entries;
    expect(entries.map((e) => `${e.action} ${e.subject}`).sort()).toEqual(['campaign.launch campaign:in-campaign', 'campaign.save campaign:in-campaign', `run.cancel run:${api.fixtures.inRun}`]);
    expect((await page('?campaign=nothing-here')).body.entries).toEqual([]);
  });

  it('filters by time: from inclusive, to exclusive', async () => {
    const january = (await page('?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z')).body.entries;
    expect(january.map((e) => e.action)).toEqual(['campaign.launch']);
    const both = (await page('?from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z&actor=scheduler')).body.entries;
    expect(both.map((e) => e.action)).toEqual(['occurrence.skip', 'campaign.launch']);
    const recent = (await page('?from=2026-02-01T00:00:00Z&limit=500')).body.entries;
    expect(recent.map((e) => e.id)).toEqual(await sqlIds((q) => q.where('at', '>=', new Date('2026-02-01T00:00:00Z'))));
  });

  it('pages with limit and next until the last page, every entry once', async () => {
    const seen: number[] = [];
    let query = '?limit=3';
    for (let pages = 0; pages < 100; pages += 1) {
      const { body } = await page(query);
      expect(body.entries.length).toBeLessThanOrEqual(3);
      seen.push(...body.entries.map((e) => e.id));
      if (body.next === null) break;
      query = `?limit=3&before=${body.next}`;
    }
    expect(seen).toEqual(await sqlIds((q) => q));
  });

  it.each([
    ['?from=yesterday', 'querystring.from'],
    ['?limit=0', 'querystring.limit'],
    ['?limit=501', 'querystring.limit'],
    ['?before=-1', 'querystring.before'],
    ['?before=1e309', 'querystring.before'],
    ['?bogus=1', 'querystring'],
    ['?actor=', 'querystring.actor'],
  ])('refuses %s with 400 naming %s', async (query, path) => {
    const response = await api.app.inject({ url: `/v1/audit${query}`, headers: api.headers('admin') });
    expect(response.statusCode).toBe(400);
    expect(JSON.stringify(response.json())).toContain(path);
  });
});
