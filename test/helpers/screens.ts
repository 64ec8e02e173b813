import { Redis } from 'ioredis';
import { PlaylistChanges } from '../../src/screens/playlist-changes.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import type { Store } from '../../src/store/db.js';
import { cleanupRedisPrefix } from './db.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ScreenServicesFixture {
  services: ApiServices;
  /** The publishing connection (pushes take their leases on it too). */
  redis: Redis;
  /** Stops the change channel, closes the connections and removes the prefix's keys. */
  stop(): Promise<void>;
}

/**
 * The API's services with screens over real Redis pub/sub on `prefix`: two connections (publish
 * and subscribe), the change channel started. Launches enqueue nothing and run status is not
 * asked for: these tests are about what screens see.
 */
export async function startScreenServices(store: Store, prefix: string, options: { clock?: () => Date } = {}): Promise<ScreenServicesFixture> {
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const changes = new PlaylistChanges(publisher, subscriber, `${prefix}:screens:changed`);
  await changes.start();
  const services = createApiServices(
    store,
    { launcher: { enqueueCompile: async () => undefined }, statusReader: { get: async () => undefined } },
    { ...options, playlistChanges: changes },
  );
  return {
    services,
    redis: publisher,
    async stop() {
      await changes.stop();
      publisher.disconnect();
      subscriber.disconnect();
      const cleaner = new Redis(REDIS_URL);
      await cleanupRedisPrefix(cleaner, prefix);
      cleaner.disconnect();
    },
  };
}
