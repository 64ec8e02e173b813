import type { Campaign, LoudspeakerItem } from '../domain/campaign.js';
import { parseIsoDuration } from '../domain/iso-duration.js';
import { isValidTimeZone } from '../domain/time-zone.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../errors.js';
import type { PlaylistService } from '../screens/playlist.service.js';
import type { RunWindow } from '../screens/playlist.service.js';
import { deviceView, type DeviceView, type NewScreenInput, type ScreenService } from '../screens/screens.service.js';
import type { Screen } from '../store/database.js';
import type { RunPlaylistEntry, ScreenRepository } from '../store/screen.repository.js';
import { GAP_MS, localMidnight, longestAirtimeMs, scheduleDay, windowIssues, type DailyWindow } from './airtime.js';
import type { AudioService, ClipRef } from './audio.service.js';
import type { LoudspeakerSchedule } from './loudspeaker-adapter.js';
import { airtimeDevice, computeSchedule } from './schedule.js';
import { LOUDSPEAKER_KINDS } from '../../adapters/loudspeakers/index.js';
import { AudioRejected } from './speech-renderer.js';

/** A run's loudspeaker entries follow its screens entries in playlist_items' (run, entry) key. */
export const LOUDSPEAKER_ENTRY_BASE = 1000;
/** Offline in the registry after this many missed polls (as screens). */
export const DEFAULT_LOUDSPEAKER_POLL_SECONDS = 60;

export interface NewLoudspeakerInput {
  id: string;
  name: string;
  province?: string;
  commune: string;
  hamlet?: string;
  location?: string;
  tags?: string[];
  airtime: DailyWindow[];
  blackout?: DailyWindow[];
  timeZone?: string;
  pollInterval?: number;
  /** A controller that takes pushes: its schedule is POSTed, signed, whenever it changes. */
  pushUrl?: string;
}

export interface LoudspeakerView extends DeviceView {
  hamlet: string | null;
  airtime: DailyWindow[];
  blackout: DailyWindow[];
  timeZone: string;
}

interface CachedSchedule {
  stored: object;
  view: Omit<LoudspeakerSchedule, 'now'>;
  until: number;
}

/**
 * Loudspeaker clusters on top of the screens machinery (issue 11): registered as devices of kind
 * `loudspeaker`, a run's `loudspeakers:` items rendered to audio and stored as playlist items
 * (so withdraw/restore, versions, long-polls and proof of play are the screens' own), and each
 * device's playlist turned into timed slots in its airtime windows.
 */
export class LoudspeakerService {
  private readonly schedules = new Map<string, CachedSchedule>();

  constructor(
    private readonly deps: { registry: ScreenService; screens: ScreenRepository; playlists: PlaylistService; audio: AudioService; clock?: () => Date },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  view(screen: Screen): LoudspeakerView {
    return { ...deviceView(screen, this.now()), hamlet: screen.hamlet, airtime: screen.airtime, blackout: screen.blackout, timeZone: screen.time_zone };
  }

  async add(input: NewLoudspeakerInput, actor: string): Promise<{ loudspeaker: LoudspeakerView; token: string }> {
    const issues = [...windowIssues('airtime', input.airtime), ...windowIssues('blackout', input.blackout ?? [])];
    if (input.timeZone !== undefined && !isValidTimeZone(input.timeZone)) issues.push({ path: 'timeZone', message: `'${input.timeZone}' is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)` });
    if (issues.length > 0) throw new ValidationError(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
    const registered: NewScreenInput = {
      id: input.id,
      name: input.name,
      kind: LOUDSPEAKER_KINDS[0]!,
      tags: input.tags ?? [],
      commune: input.commune,
      languages: ['vi'],
      airtime: input.airtime,
      blackout: input.blackout ?? [],
      pollInterval: input.pollInterval ?? DEFAULT_LOUDSPEAKER_POLL_SECONDS,
      ...(input.province !== undefined ? { province: input.province } : {}),
      ...(input.hamlet !== undefined ? { hamlet: input.hamlet } : {}),
      ...(input.location !== undefined ? { location: input.location } : {}),
      ...(input.timeZone !== undefined ? { timeZone: input.timeZone } : {}),
      ...(input.pushUrl !== undefined ? { pushUrl: input.pushUrl } : {}),
    };
    const { token } = await this.deps.registry.add(registered, actor);
    return { loudspeaker: this.view((await this.deps.screens.get(input.id))!), token };
  }

  async list(): Promise<LoudspeakerView[]> {
    return (await this.deps.screens.list()).filter((screen) => LOUDSPEAKER_KINDS.includes(screen.kind)).map((screen) => this.view(screen));
  }

  async get(id: string): Promise<LoudspeakerView> {
    const screen = await this.deps.screens.get(id);
    if (!screen || !LOUDSPEAKER_KINDS.includes(screen.kind)) throw new NotFoundError(`loudspeaker '${id}'`);
    return this.view(screen);
  }

  async rotateToken(id: string, actor: string): Promise<{ loudspeaker: LoudspeakerView; token: string }> {
    await this.get(id);
    const { token } = await this.deps.registry.rotateToken(id, actor);
    return { loudspeaker: await this.get(id), token };
  }

  /** The device a loudspeaker token belongs to, which must be `id` and a loudspeaker; else the same 401 as screens. */
  async authenticate(token: string | undefined, id: string): Promise<Screen> {
    const screen = await this.deps.registry.authenticate(token, id);
    if (!LOUDSPEAKER_KINDS.includes(screen.kind)) throw new UnauthorizedError('unknown screen token');
    return screen;
  }

  /** The clip of each item, rendered (or found in the cache); a bad text or unknown recording names its item. */
  private async clips(items: readonly LoudspeakerItem[]): Promise<ClipRef[]> {
    const clips: ClipRef[] = [];
    for (const [index, item] of items.entries()) {
      if (item.text !== undefined) {
        try {
          clips.push(await this.deps.audio.speech(item.text, item.voice ?? 'vi'));
        } catch (error) {
          if (error instanceof AudioRejected) throw new ValidationError(`loudspeakers[${index}].text: ${error.message}`, [{ path: `loudspeakers[${index}].text`, message: error.message }]);
          throw error;
        }
      } else {
        const clip = await this.deps.audio.info(item.audio ?? '');
        if (!clip) throw new ValidationError(`loudspeakers[${index}].audio: no uploaded recording has this hash`, [{ path: `loudspeakers[${index}].audio`, message: 'no uploaded recording has this hash (POST /v1/loudspeakers/audio)' }]);
        clips.push(clip);
      }
    }
    return clips;
  }

  private static targetsOf(item: LoudspeakerItem): RunPlaylistEntry['targets'] {
    const { ids, tags, areas } = item.targets;
    return {
      ...(ids ? { ids } : {}),
      ...(tags ? { tags } : {}),
      ...(areas?.province?.length ? { provinces: areas.province } : {}),
      ...(areas?.commune?.length ? { communes: areas.commune } : {}),
      ...(areas?.hamlet?.length ? { hamlets: areas.hamlet } : {}),
    };
  }

  /**
   * Before a launch: every `loudspeakers:` item is rendered and must fit the airtime of each
   * loudspeaker it targets, all its daily broadcasts; an urgent campaign plays at once and is
   * exempt. Refuses with the item's path and the loudspeakers it cannot fit.
   */
  async check(campaign: Campaign): Promise<ClipRef[]> {
    const items = campaign.loudspeakers ?? [];
    const clips = await this.clips(items);
    if (campaign.priority === 'urgent') return clips;
    const issues: Array<{ path: string; message: string }> = [];
    const at = this.now().getTime();
    for (const [index, item] of items.entries()) {
      const clip = clips[index]!;
      const devices = await this.deps.screens.loudspeakersMatching(LoudspeakerService.targetsOf(item));
      const cannot: string[] = [];
      for (const device of devices) {
        const air = airtimeDevice(device);
        if (longestAirtimeMs(air, at) < clip.durationMs + GAP_MS) {
          cannot.push(device.id);
          continue;
        }
        const day = localMidnight(at, air.timeZone, 1);
        const planned = scheduleDay(day, air, [{ id: 1, ms: clip.durationMs, repetitions: item.repetitions ?? 1, priority: 'normal', validFrom: day, validTo: localMidnight(day, air.timeZone, 1) }]);
        if (planned.unplaced.size > 0) cannot.push(device.id);
      }
      if (cannot.length > 0) {
        issues.push({
          path: `loudspeakers[${index}]`,
          message: `${Math.round(clip.durationMs / 1000)} s × ${item.repetitions ?? 1} a day does not fit the airtime windows (outside blackout) of ${cannot.join(', ')}`,
        });
      }
    }
    if (issues.length > 0) throw new ValidationError(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
    return clips;
  }

  /** After a launch created `run`: one playlist item per `loudspeakers:` entry; idempotent per run. */
  async createForRun(run: RunWindow, campaign: Campaign, clips?: ClipRef[]): Promise<string[]> {
    const items = campaign.loudspeakers ?? [];
    if (items.length === 0) return [];
    const rendered = clips ?? (await this.clips(items));
    const runEnd = run.expires_at ?? new Date(run.scheduled_for.getTime() + 24 * 3600_000);
    const entries: RunPlaylistEntry[] = items.map((item, index) => {
      const clip = rendered[index]!;
      const own = item.validity ? parseIsoDuration(item.validity) : null;
      return {
        entry: LOUDSPEAKER_ENTRY_BASE + index,
        campaignId: campaign.id,
        runId: run.id,
        targets: LoudspeakerService.targetsOf(item),
        texts: (item.text !== undefined ? { vi: item.text.normalize('NFC') } : {}) as Record<string, string>,
        duration: Math.max(1, Math.ceil(clip.durationMs / 1000)),
        priority: run.priority,
        validFrom: run.scheduled_for,
        validTo: own ? new Date(run.scheduled_for.getTime() + own * 1000) : runEnd,
        audio: { hash: clip.hash, ms: clip.durationMs, repetitions: item.repetitions ?? 1 },
      };
    });
    return this.deps.playlists.addRunEntries(run.id, entries);
  }

  /** The device's timed schedule now, computed once per load and deadline (the 304 path is cheap). */
  async schedule(id: string): Promise<LoudspeakerSchedule | undefined> {
    const now = this.now();
    const loaded = await this.deps.playlists.device(id);
    if (!loaded) return undefined;
    const cached = this.schedules.get(id);
    if (cached && cached.stored === loaded.stored && now.getTime() < cached.until) return { ...cached.view, now: now.toISOString() };
    const view = computeSchedule(loaded.screen, loaded.stored, now);
    this.schedules.set(id, { stored: loaded.stored, view, until: view.deadline ? Date.parse(view.deadline) : Number.POSITIVE_INFINITY });
    return { ...view, now: now.toISOString() };
  }

  /** A clip for a loudspeaker: only one its schedule holds (a token reads only its own device's audio). */
  async clipFor(id: string, hash: string): Promise<{ bytes: Buffer; contentType: string } | undefined> {
    const loaded = await this.deps.playlists.device(id);
    if (!loaded?.stored.some((item) => item.audio_hash === hash)) return undefined;
    return this.deps.audio.bytes(hash);
  }
}
