import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

type Listener = (screenIds: readonly string[]) => void;

/**
 * "These screens' playlists changed", across every API process: published on a Redis channel
 * after the change is committed in PostgreSQL, heard by each process's subscriber, which drops
 * its cached playlists and answers the long-polls it holds (issue 10 items 3 and 7). A message
 * lost while Redis is away costs at most the playlist cache's lifetime, never a wrong answer
 * for longer: PostgreSQL stays the truth.
 */
export class PlaylistChanges {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<Listener>();
  private subscribed = false;

  constructor(
    private readonly publisher: Redis,
    /** None in a process that only publishes (the scheduler role places runs' items, serves no device). */
    private readonly subscriber: Redis | null,
    private readonly channel: string,
    private readonly logger?: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.subscribed) return;
    if (!this.subscriber) throw new Error('this PlaylistChanges only publishes: it has no subscriber connection');
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const ids = (JSON.parse(message) as { ids?: unknown }).ids;
        if (Array.isArray(ids)) this.deliver(ids.filter((id): id is string => typeof id === 'string'));
      } catch (error) {
        this.logger?.warn({ component: 'screens', err: error }, 'unreadable playlist change message');
      }
    });
    await this.subscriber.subscribe(this.channel);
    this.subscribed = true;
  }

  async stop(): Promise<void> {
    // Redis away: a queued UNSUBSCRIBE would never be answered; the caller drops the connection.
    if (this.subscribed && this.subscriber?.status === 'ready') await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
    this.subscribed = false;
    this.wakeAll();
  }

  /** Pending long-polls answer now (with the playlist as it is) rather than hold a shutdown. */
  wakeAll(): void {
    for (const set of [...this.waiters.values()]) for (const wake of [...set]) wake();
  }

  /** Tells every process (this one included, through Redis) that these screens changed. */
  async publish(screenIds: readonly string[]): Promise<void> {
    if (screenIds.length === 0) return;
    // This process learns at once even when Redis is down; the others when it is back.
    this.deliver(screenIds);
    // Redis away: a queued PUBLISH could hold the launch indefinitely. Other processes then see
    // the change when their cached playlists expire (seconds); PostgreSQL already has it.
    if (this.publisher.status !== 'ready') {
      this.logger?.warn({ component: 'screens', screens: screenIds.length }, 'Redis unavailable: other API processes learn of this playlist change within seconds');
      return;
    }
    try {
      await this.publisher.publish(this.channel, JSON.stringify({ ids: screenIds }));
    } catch (error) {
      this.logger?.warn({ component: 'screens', err: error }, 'could not publish a playlist change');
    }
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves true when the screen changes, false when `ms` pass (or `signal` aborts) first. */
  wait(screenId: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.waiters.get(screenId);
      if (!set) this.waiters.set(screenId, (set = new Set()));
      const done = (changed: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(screenId) === set) this.waiters.delete(screenId);
        resolve(changed);
      };
      const wake = () => done(true);
      const aborted = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      signal?.addEventListener('abort', aborted, { once: true });
      set.add(wake);
    });
  }

  /** How many long-polls this process holds (metrics, benchmarks). */
  get pending(): number {
    let count = 0;
    for (const set of this.waiters.values()) count += set.size;
    return count;
  }

  private deliver(ids: readonly string[]): void {
    for (const listener of this.listeners) listener(ids);
    for (const id of ids) {
      const set = this.waiters.get(id);
      if (set) for (const wake of [...set]) wake();
    }
  }
}
