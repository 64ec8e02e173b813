import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import { withinMs } from '../within.js';
import type { BindPool } from '../smpp/bind-pool.js';
import { newTransportCounters, TRANSPORT_COUNTER_NAMES, type TransportCounters } from '../smpp/transport-counters.js';

/** One carrier's binds over every live worker process. */
export interface CarrierBindState {
  bound: number;
  allowed: number;
  /** Worker processes that published within their time-to-live. */
  workers: number;
}

export interface TransportSnapshot {
  carriers: Record<CarrierId, CarrierBindState>;
  /** Cumulative over every worker since Redis last lost its data. */
  counters: Record<CarrierId, TransportCounters>;
}

/** What one worker writes in the `${prefix}:bind-state` hash under its own field. */
interface PublishedState {
  at: number;
  ttlMs: number;
  carriers: Partial<Record<CarrierId, { bound: number; held: number }>>;
}

const stateKey = (prefix: string): string => `${prefix}:bind-state`;
const countersKey = (prefix: string): string => `${prefix}:transport-counters`;

/**
 * Binds live in worker processes, /health and /metrics in API processes (issue 9 item 9): each
 * worker publishes its bound count per carrier to Redis every `everyMs` and at once on a bind
 * change, and adds its counters' growth to one shared hash (HINCRBY, so the totals survive the
 * worker that counted them). A worker that stops publishing drops out after `ttlMs`.
 */
export class BindStatePublisher {
  private timer: NodeJS.Timeout | null = null;
  private readonly published = new Map<string, number>();
  private publishing: Promise<void> | null = null;
  private again = false;
  private readonly everyMs: number;
  private readonly onChange = (): void => void this.publish();

  constructor(
    private readonly deps: {
      redis: Redis;
      prefix: string;
      owner: string;
      pools: Readonly<Record<CarrierId, BindPool>>;
      logger: Logger;
      everyMs?: number;
      clock?: () => number;
    },
  ) {
    this.everyMs = deps.everyMs ?? 1_000;
  }

  start(): void {
    if (this.timer) return;
    for (const id of CARRIER_IDS) {
      this.deps.pools[id].on('bound', this.onChange);
      this.deps.pools[id].on('unbound', this.onChange);
    }
    this.timer = setInterval(this.onChange, this.everyMs);
    this.timer.unref();
    void this.publish();
  }

  /** Publishes the last counts and removes this worker's bind state (its binds are gone). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const id of CARRIER_IDS) {
      this.deps.pools[id].off('bound', this.onChange);
      this.deps.pools[id].off('unbound', this.onChange);
    }
    // Redis away: nothing to wait for; readers drop this worker's field after its ttl, as a killed worker's.
    if (this.deps.redis.status !== 'ready') return;
    await this.publish();
    await this.bounded(this.deps.redis.hdel(stateKey(this.deps.prefix), this.deps.owner));
  }

  /** Coalesces: one write at a time, one more after it if anything asked meanwhile. */
  publish(): Promise<void> {
    if (this.publishing) {
      this.again = true;
      return this.publishing;
    }
    this.publishing = (async () => {
      do {
        this.again = false;
        await this.writeOnce();
      } while (this.again);
    })().finally(() => {
      this.publishing = null;
    });
    return this.publishing;
  }

  private async writeOnce(): Promise<void> {
    const { redis, prefix, owner, pools } = this.deps;
    const now = (this.deps.clock ?? Date.now)();
    const state: PublishedState = { at: now, ttlMs: this.everyMs * 3, carriers: {} };
    const pipeline = redis.multi();
    const growth: Array<[string, number]> = [];
    for (const id of CARRIER_IDS) {
      const pool = pools[id];
      state.carriers[id] = { bound: pool.boundCount, held: pool.heldCount };
      for (const name of TRANSPORT_COUNTER_NAMES) {
        const field = `${id}:${name}`;
        const delta = pool.counters[name] - (this.published.get(field) ?? 0);
        if (delta <= 0) continue;
        pipeline.hincrby(countersKey(prefix), field, delta);
        growth.push([field, pool.counters[name]]);
      }
    }
    pipeline.hset(stateKey(prefix), owner, JSON.stringify(state));
    try {
      await this.bounded(pipeline.exec());
      for (const [field, value] of growth) this.published.set(field, value);
    } catch (error) {
      // Redis away: the counts not added are added with the next write (published is unchanged).
      this.deps.logger.debug({ component: 'bind-state', err: error }, 'bind state not published');
    }
  }

  /** The worker's Redis client retries for ever; a publication must not hang a stop. */
  private bounded<T>(command: Promise<T>): Promise<T> {
    return withinMs(command, Math.max(500, this.everyMs), 'Redis did not answer');
  }
}

/** Binds each carrier allows: the sum of `count` over its endpoints (as BindPool counts its slots). */
export function allowedBinds(carriers: Pick<Config, 'carriers'>['carriers']): Record<CarrierId, number> {
  return Object.fromEntries(CARRIER_IDS.map((id) => [id, carriers[id].binds.reduce((sum, bind) => sum + bind.count, 0)])) as Record<CarrierId, number>;
}

/** Reads what the workers published: any API process can answer /health and /metrics. */
export class BindStateReader {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Binds each carrier allows (config): shown even when no worker runs. */
    private readonly allowed: Readonly<Record<CarrierId, number>>,
    private readonly clock: () => number = Date.now,
  ) {}

  async read(): Promise<TransportSnapshot> {
    const [states, counts] = await Promise.all([this.redis.hgetall(stateKey(this.prefix)), this.redis.hgetall(countersKey(this.prefix))]);
    const now = this.clock();
    const carriers = Object.fromEntries(CARRIER_IDS.map((id) => [id, { bound: 0, allowed: this.allowed[id], workers: 0 }])) as Record<CarrierId, CarrierBindState>;
    const stale: string[] = [];
    for (const [owner, text] of Object.entries(states)) {
      let state: PublishedState;
      try {
        state = JSON.parse(text) as PublishedState;
      } catch {
        stale.push(owner);
        continue;
      }
      if (now - state.at > state.ttlMs) {
        stale.push(owner);
        continue;
      }
      for (const id of CARRIER_IDS) {
        const published = state.carriers[id];
        if (!published) continue;
        carriers[id].bound += published.bound;
        carriers[id].workers += 1;
      }
    }
    // A worker killed with -9 never removes its field; the first reader past its ttl does.
    if (stale.length > 0) await this.redis.hdel(stateKey(this.prefix), ...stale).catch(() => undefined);
    const counters = {} as Record<CarrierId, TransportCounters>;
    for (const id of CARRIER_IDS) {
      const carrier = newTransportCounters();
      for (const name of TRANSPORT_COUNTER_NAMES) carrier[name] = Number(counts[`${id}:${name}`] ?? 0);
      counters[id] = carrier;
    }
    return { carriers, counters };
  }
}
