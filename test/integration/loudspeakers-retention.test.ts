import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiptMaintenance } from '../../src/jobs/receipt-maintenance.js';
import { AudioClipRepository } from '../../src/store/audio-clip.repository.js';
import { ReceiptRepository } from '../../src/store/receipt.repository.js';
import { ScreenRepository } from '../../src/store/screen.repository.js';
import { createTestDatabase, seedRun, type TestDatabase } from '../helpers/db.js';
import { testLogger as logger } from '../helpers/smpp.js';

const DAY = 86_400_000;

/**
 * Issue 11: the loudspeakers' audio cache does not grow for ever. The hourly maintenance pass
 * (ReceiptMaintenance) takes the sound of clips no valid broadcast uses once they are older than
 * LOA_AUDIO_RETENTION_DAYS, and never a clip a valid item, a live campaign or a launch in progress uses.
 */
describe('audio clip retention', () => {
  let database: TestDatabase;
  let clips: AudioClipRepository;
  let receipts: ReceiptRepository;
  const now = new Date();

  beforeAll(async () => {
    database = await createTestDatabase();
    clips = new AudioClipRepository(database.store.db);
    receipts = new ReceiptRepository(database.store.db, database.store.pool, { receiptWindowMs: 3 * DAY });
  });
  afterAll(async () => {
    await database.drop();
  });

  async function clip(hash: string, ageDays: number, source: 'speech' | 'upload' = 'speech'): Promise<void> {
    await clips.put({ hash, content_type: 'audio/ogg', bytes: Buffer.from(`OggS ${hash}`), duration_ms: 4000, source, text: source === 'speech' ? `văn bản ${hash}` : null });
    await database.store.db.updateTable('audio_clips').set({ created_at: new Date(now.getTime() - ageDays * DAY) }).where('hash', '=', hash).execute();
  }

  async function item(runId: number, entry: number, hash: string, validTo: Date): Promise<void> {
    await new ScreenRepository(database.store.db).addRunItems([
      { entry, campaignId: 'seed', runId, targets: { communes: ['31117'] }, texts: {}, duration: 4, priority: 'normal', validFrom: new Date(validTo.getTime() - 2 * DAY), validTo, audio: { hash, ms: 4000, repetitions: 1 } },
    ]);
  }

  async function campaignNaming(id: string, hash: string, archived: boolean): Promise<void> {
    await database.store.db.insertInto('campaigns').values({ id, name: id }).execute();
    if (archived) await database.store.db.updateTable('campaigns').set({ archived: true } as never).where('id', '=', id).execute();
    await database.store.db
      .insertInto('campaign_versions')
      .values({ campaign_id: id, content_hash: id, document: { id, loudspeakers: [{ targets: { ids: ['x'] }, audio: hash }] } as never, created_by: 'test' })
      .execute();
  }

  const rows = async () => (await database.store.db.selectFrom('audio_clips').select(['hash']).select((eb) => eb.fn<number>('octet_length', ['bytes']).as('size')).orderBy('hash').execute()).map((row) => [row.hash, row.size > 0]);

  it('deletes unused old clips, drops the sound of those only expired broadcasts used, and keeps everything still in use', async () => {
    const runId = await seedRun(database.store, 'audio-retention');
    await clip('a-never-used', 40);
    await clip('b-recent', 5);
    await clip('c-expired-item', 40);
    await item(runId, 1000, 'c-expired-item', new Date(now.getTime() - 3 * DAY));
    await clip('d-valid-item', 40);
    await item(runId, 1001, 'd-valid-item', new Date(now.getTime() + DAY));
    await clip('e-live-campaign', 40, 'upload');
    await campaignNaming('live', 'e-live-campaign', false);
    await clip('f-archived-campaign', 40, 'upload');
    await campaignNaming('archived', 'f-archived-campaign', true);
    await clip('g-reused', 40);
    // A launch reusing an old clip right now (its check renders, i.e. finds, it): its age starts again.
    expect(await clips.info('g-reused')).toMatchObject({ hash: 'g-reused', duration_ms: 4000 });

    const sut = new ReceiptMaintenance(receipts, logger, { retentionDays: 30, audioRetentionDays: 30 }, clips);
    const result = await sut.run(now);

    expect(result.audio).toEqual({ deleted: 2, emptied: 1 });
    expect(await rows()).toEqual([
      ['b-recent', true],
      ['c-expired-item', false],
      ['d-valid-item', true],
      ['e-live-campaign', true],
      ['g-reused', true],
    ]);
    // A clip without its sound is absent to readers: a launch renders it again, and it is whole again.
    expect(await clips.info('c-expired-item')).toBeUndefined();
    expect(await clips.get('c-expired-item')).toBeUndefined();
    await clips.put({ hash: 'c-expired-item', content_type: 'audio/ogg', bytes: Buffer.from('OggS again'), duration_ms: 4100, source: 'speech', text: 'văn bản c' });
    expect((await clips.get('c-expired-item'))?.bytes.toString()).toBe('OggS again');
    // The expired item still names its clip: the run's broadcasts still count as loudspeaker ones.
    const items = await database.store.db.selectFrom('playlist_items').select(['entry', 'audio_hash']).where('run_id', '=', runId).orderBy('entry').execute();
    expect(items).toEqual([
      { entry: 1000, audio_hash: 'c-expired-item' },
      { entry: 1001, audio_hash: 'd-valid-item' },
    ]);
    // A second pass finds nothing more to do.
    expect((await sut.run(now)).audio).toEqual({ deleted: 0, emptied: 0 });

    // Retention at 0 days (LOA_AUDIO_RETENTION_DAYS=0 → null) keeps every clip.
    await clip('h-kept', 400);
    expect((await new ReceiptMaintenance(receipts, logger, { retentionDays: 30, audioRetentionDays: null }, clips).run(now)).audio).toBeUndefined();
    expect(await clips.info('h-kept')).toBeDefined();
  });
});
