import { sql, type Kysely } from 'kysely';
import type { AirtimeWindowJson, CampaignPriority, Database, PlaylistItem, Screen } from './database.js';

export interface NewScreen {
  id: string;
  name: string;
  /** A ScreenAdapter id: `led`, `airport-board`, … */
  kind: string;
  tags?: readonly string[];
  /** Hash of the screen's token; the token itself is never stored. */
  tokenHash: string;
  province?: string | null;
  commune?: string | null;
  location?: string | null;
  languages?: readonly string[];
  /** Seconds between polls. */
  pollInterval?: number;
  pushUrl?: string | null;
  /** Loudspeakers (issue 11): hamlet, daily airtime and blackout windows, their time zone. */
  hamlet?: string | null;
  airtime?: readonly AirtimeWindowJson[];
  blackout?: readonly AirtimeWindowJson[];
  timeZone?: string;
}

/** One `screens:` entry of a launched run, with the window its run gives it. */
export interface RunPlaylistEntry {
  entry: number;
  campaignId: string;
  runId: number;
  targets: { ids?: readonly string[]; kinds?: readonly string[]; tags?: readonly string[]; provinces?: readonly string[]; communes?: readonly string[]; hamlets?: readonly string[] };
  texts: Record<string, string>;
  duration: number;
  priority: CampaignPriority;
  validFrom: Date;
  validTo: Date;
  /** Loudspeaker items (issue 11): the clip read out, its length and plays per day. */
  audio?: { hash: string; ms: number; repetitions: number };
}

export interface ScreenVersion {
  id: string;
  version: number;
}

/**
 * A screen matches an item when it matches every criterion the item gives (NULL = any). Items
 * with audio go to loudspeakers only, items without to screens only (issue 11).
 */
const MATCHES = sql<boolean>`(
  ((i.audio_hash IS NOT NULL) = (s.kind = 'loudspeaker'))
  AND (i.target_hamlets IS NULL OR s.hamlet = ANY (i.target_hamlets))
  AND (i.screen_id IS NULL OR i.screen_id = s.id)
  AND (i.target_ids IS NULL OR s.id = ANY (i.target_ids))
  AND (i.target_kinds IS NULL OR s.kind = ANY (i.target_kinds))
  AND (i.target_tags IS NULL OR s.tags && i.target_tags)
  AND (i.target_provinces IS NULL OR s.province = ANY (i.target_provinces))
  AND (i.target_communes IS NULL OR s.commune = ANY (i.target_communes)))`;

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
      .values({
        id: screen.id,
        name: screen.name,
        kind: screen.kind,
        tags: [...(screen.tags ?? [])],
        token_hash: screen.tokenHash,
        province: screen.province ?? null,
        commune: screen.commune ?? null,
        location: screen.location ?? null,
        languages: [...(screen.languages ?? ['vi'])],
        poll_interval: screen.pollInterval ?? 60,
        push_url: screen.pushUrl ?? null,
        hamlet: screen.hamlet ?? null,
        airtime: JSON.stringify(screen.airtime ?? []),
        blackout: JSON.stringify(screen.blackout ?? []),
        ...(screen.timeZone ? { time_zone: screen.timeZone } : {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async get(id: string): Promise<Screen | undefined> {
    return this.db.selectFrom('screens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(): Promise<Screen[]> {
    return this.db.selectFrom('screens').selectAll().orderBy('id').execute();
  }

  async getByTokenHash(tokenHash: string): Promise<Screen | undefined> {
    return this.db.selectFrom('screens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** A new token for a screen (the old one stops working); the version bump makes it re-fetch. */
  async replaceToken(id: string, tokenHash: string, at: Date): Promise<Screen | undefined> {
    return this.db
      .updateTable('screens')
      .set({ token_hash: tokenHash, token_rotated_at: at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /** Heartbeats of many screens in one statement (polls are batched, not one UPDATE each). */
  async touchMany(seen: ReadonlyMap<string, Date>): Promise<void> {
    if (seen.size === 0) return;
    const ids = [...seen.keys()];
    const times = ids.map((id) => seen.get(id)!.toISOString());
    await sql`UPDATE screens s SET last_seen = GREATEST(s.last_seen, v.at)
      FROM unnest(${ids}::text[], ${times}::timestamptz[]) AS v(id, at) WHERE s.id = v.id`.execute(this.db);
  }

  /** The run's `screens:` entries as playlist items; a retried launch adds nothing (run, entry). */
  async addRunItems(entries: readonly RunPlaylistEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const list = (values?: readonly string[]) => (values && values.length > 0 ? [...values] : null);
    const result = await this.db
      .insertInto('playlist_items')
      .values(
        entries.map((entry) => ({
          run_id: entry.runId,
          entry: entry.entry,
          campaign_id: entry.campaignId,
          target_ids: list(entry.targets.ids),
          target_kinds: list(entry.targets.kinds),
          target_tags: list(entry.targets.tags),
          target_provinces: list(entry.targets.provinces),
          target_communes: list(entry.targets.communes),
          texts: entry.texts,
          duration: entry.duration,
          priority: entry.priority,
          valid_from: entry.validFrom,
          valid_to: entry.validTo,
          target_hamlets: list(entry.targets.hamlets),
          audio_hash: entry.audio?.hash ?? null,
          audio_ms: entry.audio?.ms ?? null,
          repetitions: entry.audio?.repetitions ?? null,
        })),
      )
      .onConflict((oc) => oc.columns(['run_id', 'entry']).where('run_id', 'is not', null).where('entry', 'is not', null).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }

  /** Withdraws (at) or restores (null) a run's items; returns whether any changed. */
  async setRunWithdrawn(runId: number, at: Date | null): Promise<number> {
    const result = await this.db
      .updateTable('playlist_items')
      .set({ withdrawn_at: at })
      .where('run_id', '=', runId)
      .where('withdrawn_at', at === null ? 'is not' : 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Bumps the version of exactly the screens some item of the run targets. */
  async bumpScreensOfRun(runId: number): Promise<ScreenVersion[]> {
    const { rows } = await sql<ScreenVersion>`UPDATE screens s SET version = s.version + 1
      WHERE EXISTS (SELECT 1 FROM playlist_items i WHERE i.run_id = ${runId} AND ${MATCHES})
      RETURNING s.id, s.version`.execute(this.db);
    return rows;
  }

  async bumpScreen(id: string): Promise<ScreenVersion | undefined> {
    return this.db.updateTable('screens').set({ version: sql`version + 1` }).where('id', '=', id).returning(['id', 'version']).executeTakeFirst();
  }

  /** Items for the screen not withdrawn and not yet expired at `at` (later ones tell the deadline). */
  async activeItemsFor(screenId: string, at: Date): Promise<PlaylistItem[]> {
    const { rows } = await sql<PlaylistItem>`SELECT i.* FROM playlist_items i JOIN screens s ON s.id = ${screenId}
      WHERE i.valid_to > ${at} AND i.withdrawn_at IS NULL AND ${MATCHES}
      ORDER BY i.priority DESC, i.valid_from, i.id`.execute(this.db);
    return rows;
  }

  async getMany(ids: readonly string[]): Promise<Screen[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('screens').selectAll().where('id', '=', sql<string>`ANY (${[...ids]}::text[])`).execute();
  }

  /** activeItemsFor of many screens in one query (a change waking thousands of long-polls). */
  async activeItemsForMany(ids: readonly string[], at: Date): Promise<Array<PlaylistItem & { for_screen: string }>> {
    if (ids.length === 0) return [];
    const { rows } = await sql<PlaylistItem & { for_screen: string }>`SELECT s.id AS for_screen, i.* FROM playlist_items i
      JOIN screens s ON s.id = ANY (${[...ids]}::text[]) AND ${MATCHES}
      WHERE i.valid_to > ${at} AND i.withdrawn_at IS NULL
      ORDER BY i.priority DESC, i.valid_from, i.id`.execute(this.db);
    return rows;
  }

  /** Which of these item ids were ever meant for the screen (proof of play must name one). */
  async itemsMeantFor(screenId: string, itemIds: readonly number[]): Promise<PlaylistItem[]> {
    if (itemIds.length === 0) return [];
    const { rows } = await sql<PlaylistItem>`SELECT i.* FROM playlist_items i JOIN screens s ON s.id = ${screenId}
      WHERE i.id = ANY (${[...itemIds]}::bigint[]) AND ${MATCHES}`.execute(this.db);
    return rows;
  }

  /** Plays per screen of a run's items (run status). */
  async playCounts(runId: number): Promise<Array<{ screenId: string; campaignId: string | null; plays: number; seconds: number }>> {
    const { rows } = await sql<{ screenId: string; campaignId: string | null; plays: number; seconds: number }>`
      SELECT p.screen_id AS "screenId", i.campaign_id AS "campaignId", count(*)::int AS plays,
             coalesce(sum(extract(epoch FROM p.played_to - p.played_from)), 0)::float8 AS seconds
      FROM plays p JOIN playlist_items i ON i.id = p.item_id
      WHERE i.run_id = ${runId} AND i.audio_hash IS NULL GROUP BY p.screen_id, i.campaign_id ORDER BY p.screen_id`.execute(this.db);
    return rows;
  }

  /**
   * Loudspeaker broadcasts of a run per commune (issue 11 item 6): plays on screens of kind
   * 'loudspeaker', minutes = their summed lengths. The reports read the same join.
   */
  async broadcastsByCommune(runId: number): Promise<Array<{ province: string | null; commune: string | null; broadcasts: number; minutes: number }>> {
    const { rows } = await sql<{ province: string | null; commune: string | null; broadcasts: number; minutes: number }>`
      SELECT s.province, s.commune, count(*)::int AS broadcasts,
             coalesce(sum(extract(epoch FROM p.played_to - p.played_from)), 0)::float8 / 60 AS minutes
      FROM plays p JOIN playlist_items i ON i.id = p.item_id JOIN screens s ON s.id = p.screen_id
      WHERE i.run_id = ${runId} AND s.kind = 'loudspeaker'
      GROUP BY s.province, s.commune ORDER BY s.province NULLS LAST, s.commune NULLS LAST`.execute(this.db);
    return rows;
  }

  /** The loudspeakers an item with these targets would reach (launch checks each can air it). */
  async loudspeakersMatching(targets: RunPlaylistEntry['targets']): Promise<Screen[]> {
    const list = (values?: readonly string[]) => (values && values.length > 0 ? [...values] : null);
    const { rows } = await sql<Screen>`SELECT s.* FROM screens s WHERE s.kind = 'loudspeaker'
      AND (${list(targets.ids)}::text[] IS NULL OR s.id = ANY (${list(targets.ids)}::text[]))
      AND (${list(targets.tags)}::text[] IS NULL OR s.tags && ${list(targets.tags)}::text[])
      AND (${list(targets.provinces)}::text[] IS NULL OR s.province = ANY (${list(targets.provinces)}::text[]))
      AND (${list(targets.communes)}::text[] IS NULL OR s.commune = ANY (${list(targets.communes)}::text[]))
      AND (${list(targets.hamlets)}::text[] IS NULL OR s.hamlet = ANY (${list(targets.hamlets)}::text[]))
      ORDER BY s.id`.execute(this.db);
    return rows;
  }

  /** Plays of every run of a campaign (run status shows them beside the run's own). */
  async campaignPlayCount(campaignId: string): Promise<number> {
    const { rows } = await sql<{ plays: number }>`
      SELECT count(*)::int AS plays FROM plays p JOIN playlist_items i ON i.id = p.item_id WHERE i.campaign_id = ${campaignId} AND i.audio_hash IS NULL`.execute(this.db);
    return rows[0]?.plays ?? 0;
  }

  /** The version a push controller acknowledged (never moves backwards). */
  async recordPushed(id: string, version: number): Promise<void> {
    await this.db
      .updateTable('screens')
      .set({ pushed_version: sql<number>`GREATEST(coalesce(pushed_version, 0), ${version})` })
      .where('id', '=', id)
      .execute();
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
