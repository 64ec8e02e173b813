import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LOUDSPEAKER_KINDS } from '../../adapters/loudspeakers/index.js';
import { screenAdapter } from '../../adapters/screens/index.js';
import type { LoudspeakerSchedule } from '../loudspeakers/loudspeaker-adapter.js';
import type { Logger } from '../logger.js';
import type { ScreenRepository } from '../store/screen.repository.js';
import type { PlaylistChanges } from './playlist-changes.js';
import type { PlaylistService } from './playlist.service.js';
import type { Rendering } from './screen-adapter.js';

/** What is pushed: a screen's playlist or a loudspeaker's schedule, rendered, with what the headers and deadline need. */
interface Pushed {
  version: string;
  now: string;
  deadline: string | null;
  rendering: Rendering;
}

export interface PushOptions {
  /** First retry delay; doubles up to maxBackoffMs while the controller is down. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  /** Key prefix of the per-screen lease that keeps two API processes from pushing at once. */
  leasePrefix: string;
}

/**
 * The signature a controller checks: HMAC-SHA256 over `<timestamp>.<body>`, keyed by the
 * screen's secret — the SHA-256 (hex) of its token, which the controller can compute and the
 * server stores anyway, so no second secret sits in the database.
 */
export function pushSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Pushes for controllers that take them (issue 10 item 4): whenever a screen with a push URL
 * changes, its playlist is POSTed, signed; while the controller is down the push is retried
 * with back-off, each attempt carrying the latest version (never an older one, never two in
 * flight); a 2xx records the acknowledged version. One process pushes a screen at a time
 * (a Redis lease); the holder keeps going until the controller has the latest version.
 */
export class PushDispatcher {
  private readonly active = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly deadlines = new Map<string, NodeJS.Timeout>();
  /** The version each screen's controller last acknowledged from this process (a change heard twice pushes once). */
  private readonly delivered = new Map<string, string>();
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: {
      screens: ScreenRepository;
      playlists: PlaylistService;
      changes: PlaylistChanges;
      redis: Redis;
      logger?: Logger;
      /** Loudspeakers (issue 11) are pushed their timed schedule rather than a screen playlist. */
      loudspeakers?: { schedule(id: string): Promise<LoudspeakerSchedule | undefined> };
    },
    private readonly options: PushOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.deps.changes.onChange((ids) => {
      for (const id of ids) this.kick(id);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    await Promise.allSettled([...this.active.values()]);
  }

  /** Pushes the screen's playlist if it has a push URL (also for a newly registered one). */
  kick(screenId: string): void {
    if (this.stopped) return;
    if (this.active.has(screenId)) {
      this.again.add(screenId);
      return;
    }
    const run = this.deliver(screenId)
      .catch((error: unknown) => this.deps.logger?.warn({ component: 'screens', screen: screenId, err: error }, 'push failed'))
      .finally(() => {
        this.active.delete(screenId);
        if (this.again.delete(screenId)) this.kick(screenId);
      });
    this.active.set(screenId, run);
  }

  private async deliver(screenId: string): Promise<void> {
    const screen = await this.deps.screens.get(screenId);
    if (!screen?.push_url) return;
    const lease = `${this.options.leasePrefix}:screens:push:${screenId}`;
    // Without Redis there is no lease: push anyway (a duplicate is harmless, a missed alert is not).
    const leased = this.deps.redis.status === 'ready';
    if (leased && (await this.deps.redis.set(lease, String(process.pid), 'PX', 60_000, 'NX')) !== 'OK') return;
    try {
      let backoff = this.options.minBackoffMs ?? 1000;
      while (!this.stopped) {
        // Every attempt sends the playlist as it is now: a controller back from an outage gets
        // the latest version only.
        const pushed = await this.current(screenId, screen.kind);
        if (!pushed || pushed.version === this.delivered.get(screenId)) break;
        if (await this.post(screen.push_url, screen.token_hash, screenId, pushed)) {
          this.delivered.set(screenId, pushed.version);
          await this.deps.screens.recordPushed(screenId, Number(pushed.version.split('.')[0]));
          this.scheduleDeadline(screenId, pushed);
          backoff = this.options.minBackoffMs ?? 1000;
          continue; // re-check: a change during the request means one more push
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 60_000);
        if (leased && this.deps.redis.status === 'ready') await this.deps.redis.pexpire(lease, 60_000);
      }
    } finally {
      if (leased && this.deps.redis.status === 'ready') await this.deps.redis.del(lease).catch(() => undefined);
    }
  }

  private async current(screenId: string, kind: string): Promise<Pushed | undefined> {
    const json = (value: unknown): Rendering => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify(value) });
    if (this.deps.loudspeakers && LOUDSPEAKER_KINDS.includes(kind)) {
      const schedule = await this.deps.loudspeakers.schedule(screenId);
      return schedule && { version: schedule.version, now: schedule.now, deadline: schedule.deadline, rendering: json(schedule) };
    }
    const playlist = await this.deps.playlists.playlist(screenId);
    if (!playlist) return undefined;
    const rendering = screenAdapter(kind)?.pushBody?.(playlist) ?? json(playlist);
    return { version: playlist.version, now: playlist.now, deadline: playlist.deadline, rendering };
  }

  /** The playlist changes by itself at its deadline: push again then. */
  private scheduleDeadline(screenId: string, playlist: Pick<Pushed, 'now' | 'deadline'>): void {
    const previous = this.deadlines.get(screenId);
    if (previous) clearTimeout(previous);
    if (!playlist.deadline) return;
    const wait = Date.parse(playlist.deadline) - Date.parse(playlist.now) + 5;
    if (wait > 2 ** 31 - 1) return;
    this.deadlines.set(screenId, setTimeout(() => this.kick(screenId), Math.max(0, wait)).unref());
  }

  private async post(url: string, secret: string, screenId: string, pushed: Pushed): Promise<boolean> {
    const { rendering } = pushed;
    const timestamp = new Date().toISOString();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': rendering.contentType,
          'x-loa-screen': screenId,
          'x-loa-version': pushed.version,
          'x-loa-timestamp': timestamp,
          'x-loa-signature': pushSignature(secret, timestamp, rendering.body),
        },
        body: rendering.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok;
    } catch {
      return false;
    }
  }
}
