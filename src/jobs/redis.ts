import { Redis } from 'ioredis';

/**
 * A Redis connection for queues and bind leases. `maxRetriesPerRequest: null` is what BullMQ
 * workers require (blocking commands must wait out a Redis restart rather than fail).
 */
export function createRedis(url: string, connectionName: string): Redis {
  return new Redis(url, {
    connectionName,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}

/**
 * How a process notices that Redis lost its data (FLUSHALL, a restart without persistence, a
 * failover to an empty replica): a key of ours that only an empty Redis lacks. Redis holds only
 * work in flight, so when it comes back empty the reconciler rebuilds the queues from PostgreSQL
 * (DESIGN.md). The key has no TTL and sits under the Loa prefix, beside the queues it vouches for.
 */
export class RedisSentinel {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:sentinel`;
  }

  /**
   * Sets the key when it is missing. True when it was missing: this Redis holds none of our
   * data (a first start, or it lost everything). Of several processes only one gets true.
   */
  async plant(): Promise<boolean> {
    return (await this.redis.set(this.key, new Date().toISOString(), 'NX')) === 'OK';
  }
}
