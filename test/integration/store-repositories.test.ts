import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyRepository } from '../../src/store/api-key.repository.js';
import { AudienceRepository, feedOf, type SubscriberRow } from '../../src/store/audience.repository.js';
import { AuditRepository } from '../../src/store/audit.repository.js';
import { CampaignRepository } from '../../src/store/campaign.repository.js';
import { ScreenRepository } from '../../src/store/screen.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

describe(CampaignRepository.name, () => {
  it('stores a document once per content hash and never lets a version change', async () => {
    const sut = new CampaignRepository(database.store.db);
    await sut.upsert({ id: 'hn-bao-lu', name: 'Cảnh báo lũ' });
    const document = { id: 'hn-bao-lu', message: { text: 'Canh bao lu' } };

    const first = await sut.saveVersion({ campaignId: 'hn-bao-lu', contentHash: 'abc', document, createdBy: 'op' });
    const again = await sut.saveVersion({ campaignId: 'hn-bao-lu', contentHash: 'abc', document, createdBy: 'other' });

    expect(first.created).toBe(true);
    expect(again).toEqual({ version: first.version, created: false });
    expect((await sut.getVersion(first.version.id))?.document).toEqual(document);
    await expect(
      database.store.db.updateTable('campaign_versions').set({ created_by: 'x' }).where('id', '=', first.version.id).execute(),
    ).rejects.toThrow(/immutable/);
  });

  it('gets, lists, archives and finds the latest version', async () => {
    const sut = new CampaignRepository(database.store.db);
    await sut.upsert({ id: 'ct-vac-xin', name: 'Vắc-xin' });
    await sut.saveVersion({ campaignId: 'ct-vac-xin', contentHash: 'v1', document: { v: 1 }, createdBy: 'op' });
    const v2 = await sut.saveVersion({ campaignId: 'ct-vac-xin', contentHash: 'v2', document: { v: 2 }, createdBy: 'op' });

    expect((await sut.latestVersion('ct-vac-xin'))?.id).toBe(v2.version.id);
    expect(await sut.archive('ct-vac-xin')).toBe(true);
    expect((await sut.list()).map((c) => c.id)).not.toContain('ct-vac-xin');
    expect((await sut.list({ includeArchived: true })).map((c) => c.id)).toContain('ct-vac-xin');
    expect(await sut.get('ct-vac-xin')).toMatchObject({ name: 'Vắc-xin', archived: true });
  });
});

describe(AudienceRepository.name, () => {
  it('imports subscribers with COPY, updating numbers already in the list, last row winning', async () => {
    const sut = new AudienceRepository(database.store.db, database.store.pool);
    await sut.createList({ id: 'cantho', name: 'Thuê bao Cần Thơ' });
    async function* rows(): AsyncGenerator<SubscriberRow> {
      for (let i = 0; i < 20_000; i += 1) yield { msisdn: String(84_912_000_000 + i), province: '92', commune: 'ninh-kieu' };
      yield { msisdn: '84912000000', province: '92', commune: 'cai-rang', attrs: { ho_ten: 'Nguyễn Văn A' } };
    }

    const read = await sut.mergeSubscribers('cantho', feedOf(rows()));
    await sut.mergeSubscribers('cantho', feedOf([{ msisdn: '84912000001', province: '92', commune: 'binh-thuy' }]));

    expect(read).toMatchObject({ staged: 20_001, inserted: 20_000 });
    expect(await sut.countSubscribers('cantho')).toBe(20_000);
    const updated = await database.store.db.selectFrom('subscribers').selectAll().where('msisdn', 'in', ['84912000000', '84912000001']).orderBy('msisdn').execute();
    expect(updated.map((row) => [row.commune, row.attrs])).toEqual([
      ['cai-rang', { ho_ten: 'Nguyễn Văn A' }],
      ['binh-thuy', {}],
    ]);

    // The count each import keeps (0018) is what the table holds, through a replace and a failed import too.
    const counted = async (): Promise<number> =>
      Number((await database.store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM subscribers WHERE list_id = 'cantho'`)).rows[0]!.n);
    expect((await sut.listLists()).find((list) => list.id === 'cantho')?.subscribers).toBe(20_000);
    const replaced = await sut.mergeSubscribers('cantho', feedOf([{ msisdn: '84912000005' }, { msisdn: '84912999998' }, { msisdn: '84912999999' }]), { replace: true });
    expect(replaced).toMatchObject({ inserted: 2, removed: 19_999, subscribers: 3 });
    await expect(sut.mergeSubscribers('cantho', feedOf([{ msisdn: '84913000000' }, { msisdn: 'not a number' }]))).rejects.toThrow(/line 2/);
    expect(await counted()).toBe(3);
    expect(await sut.countSubscribers('cantho')).toBe(3);
    expect((await sut.listLists()).find((list) => list.id === 'cantho')?.subscribers).toBe(3);
    expect(await sut.deleteList('cantho')).toBe(3);
    expect(await sut.countSubscribers('cantho')).toBe(0);
  });

  it('rejects an import with a bad number and keeps the list as it was', async () => {
    const sut = new AudienceRepository(database.store.db, database.store.pool);
    await sut.createList({ id: 'bad', name: 'Bad' });

    await expect(sut.mergeSubscribers('bad', feedOf([{ msisdn: '84912000000' }, { msisdn: '0912 000 000' }]))).rejects.toThrow(/line 2/);

    expect(await sut.countSubscribers('bad')).toBe(0);
  });

  it('keeps opt-outs and portability', async () => {
    const sut = new AudienceRepository(database.store.db, database.store.pool);

    await sut.mergeOptOuts(feedOf([{ msisdn: '84987654321', reason: 'sms STOP' }, { msisdn: '84987654321', reason: 'hotline' }]));
    await sut.mergePortability(feedOf([{ msisdn: '84961234567', carrier: 'vnpt' }]));
    await sut.mergePortability(feedOf([{ msisdn: '84961234567', carrier: 'mobifone' }]));

    expect(await sut.isOptedOut('84987654321')).toBe(true);
    expect(await sut.getPortedCarrier('84961234567')).toBe('mobifone');
    expect(await sut.removeOptOut('84987654321')).toBe(true);
    expect(await sut.isOptedOut('84987654321')).toBe(false);
  });
});

describe(ScreenRepository.name, () => {
  it('registers screens, targets items by screen, kind and tags, and records each play once', async () => {
    const sut = new ScreenRepository(database.store.db);
    const market = await sut.create({ id: 'cho-cai-khe', name: 'Chợ Cái Khế', kind: 'led', tags: ['cho'], tokenHash: 'h1' });
    const airport = await sut.create({ id: 'vca-gate-1', name: 'Cần Thơ airport gate 1', kind: 'airport-board', tokenHash: 'h2' });
    const validFrom = new Date('2021-09-23T00:00:00Z');
    const validTo = new Date('2021-09-24T00:00:00Z');
    const toLed = await sut.addPlaylistItem({ targetKinds: ['led'], targetTags: ['cho', 'benh-vien'], texts: { vi: 'Xét nghiệm' }, duration: 15, validFrom, validTo });
    const toAll = await sut.addPlaylistItem({ texts: { vi: 'Vắc-xin', en: 'Vaccines' }, duration: 20, priority: 'urgent', validFrom, validTo });
    const toAirport = await sut.addPlaylistItem({ screenId: 'vca-gate-1', texts: { en: 'Gate' }, duration: 10, validFrom, validTo });
    await sut.addPlaylistItem({ texts: { vi: 'Cũ' }, duration: 10, validFrom: new Date('2021-09-01T00:00:00Z'), validTo: new Date('2021-09-02T00:00:00Z') });

    const at = new Date('2021-09-23T12:00:00Z');
    const marketItems = await sut.itemsFor(market, at);
    const airportItems = await sut.itemsFor(airport, at);
    const stored = await sut.recordPlays('cho-cai-khe', [
      { itemId: toLed.id, from: new Date('2021-09-23T12:00:00Z'), to: new Date('2021-09-23T12:00:15Z') },
      { itemId: toAll.id, from: new Date('2021-09-23T12:00:15Z'), to: new Date('2021-09-23T12:00:35Z') },
    ]);
    const resent = await sut.recordPlays('cho-cai-khe', [{ itemId: toLed.id, from: new Date('2021-09-23T12:00:00Z'), to: new Date('2021-09-23T12:00:15Z') }]);
    await sut.touch('cho-cai-khe', at);

    expect(marketItems.map((item) => item.id)).toEqual([toLed.id, toAll.id]);
    expect(airportItems.map((item) => item.id)).toEqual([toAll.id, toAirport.id]);
    expect(toAll).toMatchObject({ texts: { vi: 'Vắc-xin', en: 'Vaccines' }, priority: 'urgent' });
    expect([stored, resent]).toEqual([2, 0]);
    expect(await sut.get('cho-cai-khe')).toMatchObject({ tags: ['cho'], last_seen: at });
    expect((await sut.list()).map((screen) => screen.id)).toEqual(['cho-cai-khe', 'vca-gate-1']);
  });
});

describe(ApiKeyRepository.name, () => {
  it('finds an active key by its hash until it is revoked', async () => {
    const sut = new ApiKeyRepository(database.store.db);
    const key = await sut.create({ name: 'so-tttt-ct', keyHash: 'sha256:abc', role: 'operator' });

    const found = await sut.findActiveByHash('sha256:abc');
    const revoked = await sut.revoke(key.id);
    const revokedAgain = await sut.revoke(key.id);

    expect(found).toMatchObject({ id: key.id, role: 'operator', revoked_at: null });
    expect([revoked, revokedAgain]).toEqual([true, false]);
    expect(await sut.findActiveByHash('sha256:abc')).toBeUndefined();
    expect((await sut.get(key.id))?.revoked_at).toBeInstanceOf(Date);
    expect((await sut.list()).map((k) => k.id)).toContain(key.id);
  });
});

describe(AuditRepository.name, () => {
  it('records who did what, newest first, and never lets an entry change', async () => {
    const sut = new AuditRepository(database.store.db);
    const first = await sut.record({ actor: 'so-tttt-ct', action: 'campaign.launch', subject: 'campaign:ct', details: { runId: 1 } });
    await sut.record({ actor: 'so-tttt-ct', action: 'run.cancel', subject: 'campaign:ct' });

    const entries = await sut.listForSubject('campaign:ct');

    expect(entries.map((entry) => entry.action)).toEqual(['run.cancel', 'campaign.launch']);
    expect(await sut.get(first.id)).toMatchObject({ details: { runId: 1 }, at: expect.any(Date) });
    await expect(database.store.db.updateTable('audit_log').set({ actor: 'x' }).where('id', '=', first.id).execute()).rejects.toThrow(/immutable/);
  });
});
