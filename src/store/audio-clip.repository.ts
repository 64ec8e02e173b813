import type { Kysely } from 'kysely';
import type { AudioClip, Database } from './database.js';

export type AudioClipInfo = Omit<AudioClip, 'bytes'>;

/** Rendered speech and uploaded audio (issue 11), one row per content hash, served by every API process. */
export class AudioClipRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async info(hash: string): Promise<AudioClipInfo | undefined> {
    return this.db.selectFrom('audio_clips').select(['hash', 'content_type', 'duration_ms', 'source', 'text', 'created_at']).where('hash', '=', hash).executeTakeFirst();
  }

  async get(hash: string): Promise<AudioClip | undefined> {
    return this.db.selectFrom('audio_clips').selectAll().where('hash', '=', hash).executeTakeFirst();
  }

  /** Two processes rendering the same text at once store it once; the first one's bytes stay. */
  async put(clip: Omit<AudioClip, 'created_at'>): Promise<void> {
    await this.db.insertInto('audio_clips').values(clip).onConflict((oc) => oc.column('hash').doNothing()).execute();
  }
}
