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
