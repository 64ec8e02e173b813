import type { Campaign } from '../domain/campaign.js';
import type { Logger } from '../logger.js';
import type { Screen } from '../store/database.js';
import type { RunPlaylistEntry, ScreenRepository } from '../store/screen.repository.js';
import { computePlaylist, pollAfter, type StoredItem } from './playlist.js';
import type { PlaylistChanges } from './playlist-changes.js';
import type { Playlist } from './screen-adapter.js';

/** What a launch knows of its run when it makes playlist items. */
export interface RunWindow {
  id: number;
  priority: 'normal' | 'urgent';
  scheduled_for: Date;
  expires_at: Date | null;
}

interface CachedScreen {
  screen: Screen;
  stored: StoredItem[];
  loadedAt: number;
  /** The playlist computed from `stored`, good until its deadline (all but `now`). */
  view?: Omit<Playlist, 'now'>;
  viewFrom?: number;
  viewUntil?: number;
}

export interface Loaded {
  screen: Screen;
  stored: StoredItem[];
}

type Waiter = { resolve: (loaded: Loaded | undefined) => void; reject: (error: unknown) => void };

/** Longest a process serves a cached playlist without hearing of a change (a lost Redis message). */
const CACHE_MS = 5_000;
const PLAY_FUTURE_SLACK_MS = 60_000;
const PLAY_MAX_AGE_MS = 30 * 24 * 3600_000;
const PLAY_WINDOW_SLACK_MS = 5 * 60_000;

export interface PlayInput {
  item: unknown;
  from: unknown;
  to: unknown;
}

export interface PlaysResult {
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; reason: 'unknown_item' | 'bad_time' | 'ends_before_start' | 'in_future' | 'too_old' | 'outside_validity' }>;
}

/**
 * Playlists: made from a launched run's `screens:` entries, withdrawn and restored with the run,
 * read by polling controllers from a per-process cache that change messages invalidate.
 */
export class PlaylistService {
  private readonly cache = new Map<string, CachedScreen>();
  private readonly seen = new Map<string, Date>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** Screens whose playlists are wanted in this tick: loaded together, in two queries. */
  private batch: Map<string, Waiter[]> | undefined;

  constructor(
    private readonly deps: { screens: ScreenRepository; changes: PlaylistChanges; clock?: () => Date; logger?: Logger },
  ) {
    deps.changes.onChange((ids) => {
      for (const id of ids) this.cache.delete(id);
    });
  }

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /**
   * After a launch created `run`: one item per `screens:` entry, valid from the run's start to
   * its expiry (a recurring campaign's runs are its occurrences, each with its own window), and
   * the versions of exactly the targeted screens bumped. Idempotent per run.
   */
  async createForRun(run: RunWindow, campaign: Campaign): Promise<string[]> {
    if (campaign.screens.length === 0) return [];
    const validTo = run.expires_at ?? new Date(run.scheduled_for.getTime() + 24 * 3600_000);
    const entries: RunPlaylistEntry[] = campaign.screens.map((item, entry) => ({
      entry,
      campaignId: campaign.id,
      runId: run.id,
      targets: {
        ...(item.targets.ids ? { ids: item.targets.ids } : {}),
        ...(item.targets.kinds ? { kinds: item.targets.kinds } : {}),
        ...(item.targets.tags ? { tags: item.targets.tags } : {}),
        ...(item.targets.areas?.province?.length ? { provinces: item.targets.areas.province } : {}),
        ...(item.targets.areas?.commune?.length ? { communes: item.targets.areas.commune } : {}),
      },
      texts: item.text,
      duration: item.duration,
      priority: run.priority,
      validFrom: run.scheduled_for,
      validTo,
    }));
    return this.addRunEntries(run.id, entries);
  }

  /**
   * A run's playlist entries (screens' or loudspeakers'): stored once per (run, entry), then the
   * versions of exactly the devices they target bumped and every process told.
   */
  async addRunEntries(runId: number, entries: readonly RunPlaylistEntry[]): Promise<string[]> {
    const added = await this.deps.screens.addRunItems(entries);
    if (added === 0) return [];
    return this.bumpRun(runId);
  }

  /** Run control calls this when a run is paused or cancelled: its items leave every playlist. */
  async withdrawRun(runId: number): Promise<string[]> {
    if ((await this.deps.screens.setRunWithdrawn(runId, this.now())) === 0) return [];
    return this.bumpRun(runId);
  }

  /** Run control calls this when a paused run resumes: its items (still in their window) return. */
  async restoreRun(runId: number): Promise<string[]> {
    if ((await this.deps.screens.setRunWithdrawn(runId, null)) === 0) return [];
    return this.bumpRun(runId);
  }

  private async bumpRun(runId: number): Promise<string[]> {
    const bumped = await this.deps.screens.bumpScreensOfRun(runId);
    const ids = bumped.map((screen) => screen.id);
    await this.deps.changes.publish(ids);
    this.deps.logger?.info({ component: 'screens', runId, screens: ids.length }, 'playlists changed');
    return ids;
  }

  /** A screen changed outside a run (a new token, an edit): its playlist is re-read everywhere. */
  async screenChanged(id: string): Promise<void> {
    await this.deps.screens.bumpScreen(id);
    await this.deps.changes.publish([id]);
  }

  /**
   * The device's row and unexpired items from the same cache the playlists use (loudspeakers
   * compute their timed schedule from these, issue 11); the same object until it is reloaded.
   */
  async device(screenId: string): Promise<Loaded | undefined> {
    return this.cached(screenId, this.now());
  }

  private async cached(screenId: string, now: Date): Promise<CachedScreen | undefined> {
    const at = now.getTime();
    let cached = this.cache.get(screenId);
    if (!cached || at - cached.loadedAt > CACHE_MS || cached.loadedAt > at) {
      const loaded = await this.load(screenId, now);
      if (!loaded) {
        this.cache.delete(screenId);
        return undefined;
      }
      cached = { ...loaded, loadedAt: at };
      this.cache.set(screenId, cached);
    }
    return cached;
  }

  /** The screen's playlist now; served from memory until a change message or the cache lifetime. */
  async playlist(screenId: string): Promise<Playlist | undefined> {
    const now = this.now();
    const at = now.getTime();
    const cached = await this.cached(screenId, now);
    if (!cached) return undefined;
    // The 304 path: the same playlist until its deadline, computed once.
    if (cached.view && at >= cached.viewFrom! && at < cached.viewUntil!) return { ...cached.view, now: now.toISOString() };
    const { screen, stored } = cached;
    const computed = computePlaylist(screen.version, stored, now);
    cached.view = {
      screen: { id: screen.id, name: screen.name, kind: screen.kind, languages: screen.languages },
      version: computed.version,
      deadline: computed.deadline === null ? null : new Date(computed.deadline).toISOString(),
      urgent: computed.urgent,
      pollAfter: pollAfter(screen.id, screen.poll_interval),
      items: computed.items,
    };
    cached.viewFrom = at;
    cached.viewUntil = computed.deadline ?? Number.POSITIVE_INFINITY;
    return { ...cached.view, now: now.toISOString() };
  }

  private load(screenId: string, now: Date): Promise<Loaded | undefined> {
    return new Promise((resolve, reject) => {
      if (!this.batch) {
        this.batch = new Map();
        setImmediate(() => void this.loadBatch(now));
      }
      const waiters = this.batch.get(screenId) ?? [];
      waiters.push({ resolve, reject });
      this.batch.set(screenId, waiters);
    });
  }

  private async loadBatch(now: Date): Promise<void> {
    const batch = this.batch!;
    this.batch = undefined;
    const ids = [...batch.keys()];
    try {
      const [screens, items] = await Promise.all([this.deps.screens.getMany(ids), this.deps.screens.activeItemsForMany(ids, now)]);
      const stored = new Map<string, StoredItem[]>();
      for (const item of items) {
        const list = stored.get(item.for_screen) ?? [];
        list.push(item);
        stored.set(item.for_screen, list);
      }
      const byId = new Map(screens.map((screen) => [screen.id, screen]));
      for (const [id, waiters] of batch) {
        const screen = byId.get(id);
        for (const waiter of waiters) waiter.resolve(screen ? { screen, stored: stored.get(id) ?? [] } : undefined);
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }

  /** Heartbeat: noted in memory, written for all screens at once every second (not per poll). */
  markSeen(screenId: string): void {
    this.seen.set(screenId, this.now());
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.flushSeen().catch((error: unknown) => this.deps.logger?.warn({ component: 'screens', err: error }, 'could not record heartbeats'));
    }, 1000).unref();
  }

  async flushSeen(): Promise<void> {
    if (this.seen.size === 0) return;
    const batch = new Map(this.seen);
    this.seen.clear();
    await this.deps.screens.touchMany(batch);
  }

  async stop(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushSeen().catch(() => undefined);
  }

  async playCounts(runId: number): Promise<Array<{ screenId: string; campaignId: string | null; plays: number; seconds: number }>> {
    return this.deps.screens.playCounts(runId);
  }

  /**
   * Proof of play: each record is checked on its own and refused with its reason, never the
   * whole batch (the Xibo complaint); a resent offline backlog is stored once.
   */
  async recordPlays(screenId: string, records: readonly PlayInput[]): Promise<PlaysResult> {
    const now = this.now().getTime();
    const ids = [...new Set(records.map((record) => record.item).filter((item): item is number => Number.isSafeInteger(item)))];
    const items = new Map((await this.deps.screens.itemsMeantFor(screenId, ids)).map((item) => [item.id, item]));
    const rejected: PlaysResult['rejected'] = [];
    const valid: Array<{ itemId: number; from: Date; to: Date }> = [];
    records.forEach((record, index) => {
      const item = typeof record.item === 'number' ? items.get(record.item) : undefined;
      const from = typeof record.from === 'string' ? new Date(record.from) : new Date(NaN);
      const to = typeof record.to === 'string' ? new Date(record.to) : new Date(NaN);
      const reason = !item
        ? 'unknown_item'
        : Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())
          ? 'bad_time'
          : from >= to
            ? 'ends_before_start'
            : to.getTime() > now + PLAY_FUTURE_SLACK_MS
              ? 'in_future'
              : from.getTime() < now - PLAY_MAX_AGE_MS
                ? 'too_old'
                : to.getTime() < item.valid_from.getTime() - PLAY_WINDOW_SLACK_MS || from.getTime() > item.valid_to.getTime() + PLAY_WINDOW_SLACK_MS
                  ? 'outside_validity'
                  : null;
      if (reason) rejected.push({ index, reason });
      else valid.push({ itemId: item!.id, from, to });
    });
    const accepted = await this.deps.screens.recordPlays(screenId, valid);
    return { accepted, duplicates: valid.length - accepted, rejected };
  }
}
