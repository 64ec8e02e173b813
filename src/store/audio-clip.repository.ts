import { sql, type Kysely } from 'kysely';
import type { AudioClip, Database } from './database.js';

export type AudioClipInfo = Omit<AudioClip, 'bytes'>;

/** What one retention pass did to audio_clips. */
export interface AudioRetentionResult {
  /** Clips no playlist item ever used: rows deleted. */
  deleted: number;
  /** Clips only expired items used: their sound dropped, the row kept (items and reports name it). */
  emptied: number;
}

/** A clip reused after this long has its age reset (so retention counts from its last use). */
const TOUCH_AFTER_MS = 86_400_000;

/**
 * Rendered speech and uploaded audio (issue 11), one row per content hash, served by every API
 * process. `created_at` is when the clip was rendered or last reused (touched at most daily),
 * which retention counts from. A clip whose sound retention dropped (empty `bytes`) is absent to
 * every reader and filled again by the next put() of the same hash.
 */
export class AudioClipRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** A clip with its sound; an old one is touched, so retention does not take it from a launch that is using it. */
  async info(hash: string): Promise<AudioClipInfo | undefined> {
    const clip = await this.db
      .selectFrom('audio_clips')
      .select(['hash', 'content_type', 'duration_ms', 'source', 'text', 'created_at'])
      .where('hash', '=', hash)
      .where(sql<boolean>`octet_length(bytes) > 0`)
      .executeTakeFirst();
    if (!clip || Date.now() - clip.created_at.getTime() < TOUCH_AFTER_MS) return clip;
    // The same row lock as retention's: it either sees this new age, or went first and this finds nothing.
    return this.db
      .updateTable('audio_clips')
      .set({ created_at: sql<Date>`now()` })
      .where('hash', '=', hash)
      .where(sql<boolean>`octet_length(bytes) > 0`)
      .returning(['hash', 'content_type', 'duration_ms', 'source', 'text', 'created_at'])
      .executeTakeFirst();
  }

  async get(hash: string): Promise<AudioClip | undefined> {
    return this.db.selectFrom('audio_clips').selectAll().where('hash', '=', hash).where(sql<boolean>`octet_length(bytes) > 0`).executeTakeFirst();
  }

  /** Two processes rendering the same text at once store it once (the first one's bytes stay); a clip retention emptied is filled again. */
  async put(clip: Omit<AudioClip, 'created_at'>): Promise<void> {
    await this.db
      .insertInto('audio_clips')
      .values(clip)
      .onConflict((oc) =>
        oc
          .column('hash')
          .doUpdateSet({ bytes: (eb) => eb.ref('excluded.bytes'), content_type: (eb) => eb.ref('excluded.content_type'), duration_ms: (eb) => eb.ref('excluded.duration_ms'), created_at: sql<Date>`now()` })
          .where(sql<boolean>`octet_length(audio_clips.bytes) = 0`),
      )
      .execute();
  }

  /**
   * Retention: clips not used since `before` that no playlist item still valid at `now` plays and
   * that the latest version of no live campaign names as its recording. Those no item ever used
   * are deleted; the others keep their row (playlist_items reference it, and the reports tell
   * loudspeaker items by it) without their sound. One short statement each, row-locked as info().
   */
  async expire(before: Date, now: Date): Promise<AudioRetentionResult> {
    const unused = sql<boolean>`a.created_at < ${before} AND octet_length(a.bytes) > 0
      AND NOT EXISTS (SELECT 1 FROM playlist_items i WHERE i.audio_hash = a.hash AND i.valid_to > ${now})
      AND NOT EXISTS (
        SELECT 1 FROM campaigns c
        CROSS JOIN LATERAL (SELECT v.document FROM campaign_versions v WHERE v.campaign_id = c.id ORDER BY v.id DESC LIMIT 1) latest
        CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(latest.document -> 'loudspeakers') = 'array' THEN latest.document -> 'loudspeakers' ELSE '[]'::jsonb END) item
        WHERE NOT c.archived AND item ->> 'audio' = a.hash)`;
    const deleted = await sql`DELETE FROM audio_clips a WHERE ${unused} AND NOT EXISTS (SELECT 1 FROM playlist_items i WHERE i.audio_hash = a.hash)`.execute(this.db);
    const emptied = await sql`UPDATE audio_clips a SET bytes = ${Buffer.alloc(0)} WHERE ${unused}`.execute(this.db);
    const result = { deleted: Number(deleted.numAffectedRows ?? 0n), emptied: Number(emptied.numAffectedRows ?? 0n) };
    // Autovacuum may be off (README, Retention): make the freed sound's space reusable now.
    if (result.deleted + result.emptied > 0) await sql`VACUUM audio_clips`.execute(this.db);
    return result;
  }
}
