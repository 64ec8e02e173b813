import { createHash, randomBytes } from 'node:crypto';
import { LOUDSPEAKER_KINDS } from '../../adapters/loudspeakers/index.js';
import { SCREEN_KINDS } from '../../adapters/screens/index.js';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.js';
import type { AuditRepository } from '../store/audit.repository.js';
import type { Screen } from '../store/database.js';
import type { ScreenRepository } from '../store/screen.repository.js';
import { screenStatus } from './playlist.js';
import type { PlaylistService } from './playlist.service.js';

export interface NewScreenInput {
  id: string;
  name: string;
  kind: string;
  tags?: string[];
  province?: string;
  commune?: string;
  location?: string;
  languages?: string[];
  pollInterval?: number;
  pushUrl?: string;
  /** Loudspeakers (issue 11). */
  hamlet?: string;
  airtime?: Array<{ from: string; to: string }>;
  blackout?: Array<{ from: string; to: string }>;
  timeZone?: string;
}

/** Every kind the registry holds: screens and loudspeaker clusters, one adapter each. */
export const DEVICE_KINDS: readonly string[] = [...SCREEN_KINDS, ...LOUDSPEAKER_KINDS];

/** A screen as the registry shows it: never its token or the token's hash. */
/** What every device view (a screen's, a loudspeaker's) shows of its registry row. */
export interface DeviceView {
  id: string;
  name: string;
  kind: string;
  tags: string[];
  province: string | null;
  commune: string | null;
  location: string | null;
  pollInterval: number;
  pushUrl: string | null;
  version: number;
  pushedVersion: number | null;
  lastSeen: string | null;
  status: 'online' | 'offline' | 'never';
  createdAt: string;
}

export interface ScreenView extends DeviceView {
  languages: string[];
}

/** The registry row as every kind of device shows it; each kind adds its own fields. */
export function deviceView(screen: Screen, now: Date): DeviceView {
  return {
    id: screen.id,
    name: screen.name,
    kind: screen.kind,
    tags: screen.tags,
    province: screen.province,
    commune: screen.commune,
    location: screen.location,
    pollInterval: screen.poll_interval,
    pushUrl: screen.push_url,
    version: screen.version,
    pushedVersion: screen.pushed_version,
    lastSeen: screen.last_seen?.toISOString() ?? null,
    status: screenStatus(screen.last_seen, screen.poll_interval, now),
    createdAt: screen.created_at.toISOString(),
  };
}

export function screenToken(): string {
  return `lsc_${randomBytes(32).toString('base64url')}`;
}

export function hashScreenToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

interface CachedToken {
  screen: Screen;
  at: number;
}
const TOKEN_CACHE_MS = 5_000;

/** The screens registry and screen-token authentication. */
export class ScreenService {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly deps: { screens: ScreenRepository; audit: AuditRepository; playlists: PlaylistService; clock?: () => Date },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  view(screen: Screen): ScreenView {
    return { ...deviceView(screen, this.now()), languages: screen.languages };
  }

  async add(input: NewScreenInput, actor: string): Promise<{ screen: ScreenView; token: string }> {
    if (!DEVICE_KINDS.includes(input.kind)) {
      throw new ValidationError(`there is no screen kind '${input.kind}'`, [{ path: 'kind', message: `one of ${DEVICE_KINDS.join(', ')}` }]);
    }
    if (await this.deps.screens.get(input.id)) throw new ConflictError(`screen '${input.id}' already exists`);
    const token = screenToken();
    const screen = await this.deps.screens.create({
      id: input.id,
      name: input.name,
      kind: input.kind,
      tags: input.tags ?? [],
      tokenHash: hashScreenToken(token),
      province: input.province ?? null,
      commune: input.commune ?? null,
      location: input.location ?? null,
      languages: input.languages ?? ['vi', 'en'],
      ...(input.pollInterval !== undefined ? { pollInterval: input.pollInterval } : {}),
      pushUrl: input.pushUrl ?? null,
      hamlet: input.hamlet ?? null,
      ...(input.airtime ? { airtime: input.airtime } : {}),
      ...(input.blackout ? { blackout: input.blackout } : {}),
      ...(input.timeZone ? { timeZone: input.timeZone } : {}),
    });
    // A controller that takes pushes gets its (maybe already non-empty) playlist at once.
    if (screen.push_url) await this.deps.playlists.screenChanged(screen.id);
    await this.deps.audit.record({ actor, action: 'screen.add', subject: `screen:${screen.id}`, details: { kind: screen.kind, tags: screen.tags } });
    return { screen: this.view(screen), token };
  }

  async list(): Promise<ScreenView[]> {
    // Loudspeaker clusters share the registry but have their own listing (/v1/loudspeakers).
    return (await this.deps.screens.list()).filter((screen) => !LOUDSPEAKER_KINDS.includes(screen.kind)).map((screen) => this.view(screen));
  }

  async get(id: string): Promise<ScreenView> {
    const screen = await this.deps.screens.get(id);
    if (!screen) throw new NotFoundError(`screen '${id}'`);
    return this.view(screen);
  }

  /** A new token, shown once; the old one is refused from now on (in every process within seconds). */
  async rotateToken(id: string, actor: string): Promise<{ screen: ScreenView; token: string }> {
    const token = screenToken();
    const screen = await this.deps.screens.replaceToken(id, hashScreenToken(token), this.now());
    if (!screen) throw new NotFoundError(`screen '${id}'`);
    await this.deps.audit.record({ actor, action: 'screen.token', subject: `screen:${id}`, details: {} });
    this.tokens.clear();
    await this.deps.playlists.screenChanged(id);
    return { screen: this.view(screen), token };
  }

  /**
   * The screen a token belongs to, which must be `screenId`: a token reads and reports only its
   * own screen. Any mismatch is the same 401, so a token does not reveal which screens exist.
   */
  async authenticate(token: string | undefined, screenId: string): Promise<Screen> {
    if (!token) throw new UnauthorizedError('this needs the screen’s token');
    const hash = hashScreenToken(token);
    const now = Date.now();
    let cached = this.tokens.get(hash);
    if (!cached || now - cached.at > TOKEN_CACHE_MS) {
      const screen = await this.deps.screens.getByTokenHash(hash);
      if (!screen) {
        this.tokens.delete(hash);
        throw new UnauthorizedError('unknown screen token');
      }
      cached = { screen, at: now };
      if (this.tokens.size > 100_000) this.tokens.clear();
      this.tokens.set(hash, cached);
    }
    if (cached.screen.id !== screenId) throw new UnauthorizedError('unknown screen token');
    return cached.screen;
  }
}
