/** What withinMs rejects with when the time is up. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * `promise`, or a TimeoutError with `message` after `ms`. For calls that may never settle: a
 * Redis client that retries for ever (maxRetriesPerRequest: null, as BullMQ needs) holds a command
 * while Redis is away, and a stop, a tick or a health check must not wait for it. The promise is
 * left running; a rejection it gives after the timeout is ignored.
 */
export function withinMs<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
