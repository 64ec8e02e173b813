import type { Logger } from '../logger.js';

/**
 * Whether an error means PostgreSQL could not be reached (so the same statement may succeed
 * later), as opposed to PostgreSQL refusing the statement: SQLSTATE class 08 (connection), 57P0x
 * (shutting down, as during a restart), 53 (resources), a socket errno, or pg's own wording for
 * a connection dropped mid-query.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08|57P0|53)/.test(code)) return true;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, EPIPE …
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

/**
 * Runs an idempotent write until PostgreSQL takes it (issue 9, item 7: "workers hold their
 * results, retry, and continue"): a connection error is retried with back-off up to 1 s, however
 * long the outage; any other error is thrown at once.
 */
export async function retryWhileUnreachable<T>(logger: Logger, what: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await write();
      if (attempt > 1) logger.info({ component: 'pg-outage', what, attempts: attempt }, 'written after PostgreSQL came back');
      return result;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      if (attempt === 1) logger.warn({ component: 'pg-outage', what, err: error }, 'PostgreSQL unreachable; holding the write and retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}
