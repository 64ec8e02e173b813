import { sql, type Kysely } from 'kysely';
import type { CampaignPriority, Database, PlaylistItem, Screen } from './database.js';

export interface NewScreen {
  id: string;
  name: string;
  /** A ScreenAdapter id: `led`, `airport-board`, … */
  kind: string;
  tags?: readonly string[];
  /** Hash of the screen's token; the token itself is never stored. */
  tokenHash: string;
}

export interface NewPlaylistItem {
  /** One screen, or (null) every screen matching targetKinds and targetTags (null = any). */
  screenId?: string | null;
  targetKinds?: readonly string[] | null;
  targetTags?: readonly string[] | null;
  campaignId?: string | null;
  runId?: number | null;
  /** Text per language, e.g. `{ vi: '…', en: '…' }`. */
  texts: Record<string, string>;
  /** Seconds on screen per turn. */
  duration: number;
  priority?: CampaignPriority;
  validFrom: Date;
  validTo: Date;
}

export interface PlayRecord {
  itemId: number;
  from: Date;
  to: Date;
}

/** The screens registry, playlist items and proof of play. */
export class ScreenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(screen: NewScreen): Promise<Screen> {
    return this.db
      .insertInto('screens')
      .values({ id: screen.id, name: screen.name, kind: screen.kind, tags: [...(screen.tags ?? [])], token_hash: screen.tokenHash })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async get(id: string): Promise<Screen | undefined> {
    return this.db.selectFrom('screens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(): Promise<Screen[]> {
    return this.db.selectFrom('screens').selectAll().orderBy('id').execute();
  }

  /** Heartbeat: every poll records when the screen was last seen. */
  async touch(id: string, at: Date = new Date()): Promise<void> {
    await this.db.updateTable('screens').set({ last_seen: at }).where('id', '=', id).execute();
  }

  async addPlaylistItem(item: NewPlaylistItem): Promise<PlaylistItem> {
    return this.db
      .insertInto('playlist_items')
      .values({
        screen_id: item.screenId ?? null,
        target_kinds: item.targetKinds ? [...item.targetKinds] : null,
        target_tags: item.targetTags ? [...item.targetTags] : null,
        campaign_id: item.campaignId ?? null,
        run_id: item.runId ?? null,
        texts: item.texts,
        duration: item.duration,
        priority: item.priority ?? 'normal',
        valid_from: item.validFrom,
        valid_to: item.validTo,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Items for `screen` not yet expired at `at` (including ones that start later, so a player
   * can be told its next deadline): addressed to it, or targeting its kind and any of its tags.
   */
  async itemsFor(screen: Pick<Screen, 'id' | 'kind' | 'tags'>, at: Date = new Date()): Promise<PlaylistItem[]> {
    return this.db
      .selectFrom('playlist_items')
      .selectAll()
      .where('valid_to', '>', at)
      .where((eb) =>
        eb.or([
          eb('screen_id', '=', screen.id),
          eb.and([
            eb('screen_id', 'is', null),
            eb.or([eb('target_kinds', 'is', null), eb(sql.val(screen.kind), '=', eb.fn.any('target_kinds'))]),
            eb.or([eb('target_tags', 'is', null), eb('target_tags', '&&', sql<string[]>`${[...screen.tags]}::text[]`)]),
          ]),
        ]),
      )
      .orderBy('valid_from')
      .orderBy('id')
      .execute();
  }

  /** Stores proof-of-play records; a record sent again (offline backlog) is ignored. Returns how many were new. */
  async recordPlays(screenId: string, plays: readonly PlayRecord[]): Promise<number> {
    if (plays.length === 0) return 0;
    const result = await this.db
      .insertInto('plays')
      .values(plays.map((play) => ({ screen_id: screenId, item_id: play.itemId, played_from: play.from, played_to: play.to })))
      .onConflict((oc) => oc.columns(['screen_id', 'item_id', 'played_from']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
}
