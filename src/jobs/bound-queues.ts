import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { BindPool } from '../smpp/bind-pool.js';
import { submitQueuesOf, type JobWorkers } from './queues.js';

/**
 * Several worker processes share one carrier's binds through the BindPool leases: a process may
 * hold all of them, some, or none (issue 9, item 5). A process with no bound session of a carrier
 * would take that carrier's batches only to wait for a bind (and return them after
 * noBindTimeoutMs), while another process could send them now. So each process takes a carrier's
 * submit jobs only while it holds a bound session of it: its submit queues of the carrier are
 * paused when its last bind goes, and resumed when one comes up (after start, after a reconnect,
 * or after it took over a dead process's lease). Jobs already running are not affected.
 * Returns a function that stops following.
 */
export function takeSubmitJobsWhileBound(workers: Pick<JobWorkers, 'pause' | 'resume'>, pools: Readonly<Record<CarrierId, BindPool>>, logger: Logger): () => void {
  const log = logger.child({ component: 'bound-queues' });
  const stops: Array<() => void> = [];
  const follows: Array<() => void> = [];
  for (const carrier of CARRIER_IDS) {
    const pool = pools[carrier];
    let taking: boolean | undefined;
    const follow = (): void => {
      const bound = pool.boundCount > 0;
      if (bound === taking) return;
      taking = bound;
      if (bound) workers.resume(submitQueuesOf(carrier));
      else workers.pause(submitQueuesOf(carrier));
      log.info({ carrier, binds: pool.boundCount }, bound ? 'taking submit jobs of the carrier' : 'no bind of the carrier: leaving its submit jobs to other workers');
    };
    pool.on('bound', follow);
    pool.on('unbound', follow);
    pool.on('lease-lost', follow);
    follow();
    follows.push(follow);
    stops.push(() => {
      pool.off('bound', follow);
      pool.off('unbound', follow);
      pool.off('lease-lost', follow);
    });
  }
  // The events carry every change; a slow look now and then costs nothing and misses none.
  const recheck = setInterval(() => {
    for (const follow of follows) follow();
  }, 1_000);
  recheck.unref();
  return () => {
    clearInterval(recheck);
    for (const stop of stops) stop();
  };
}
