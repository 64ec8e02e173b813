import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { BindPool } from '../smpp/bind-pool.js';
import { submitQueuesOf, type JobWorkers, type QueueName } from './queues.js';

/** Every carrier's submit queues, both lanes: a worker starts them paused, until it holds a bind lease. */
export const SUBMIT_QUEUES: readonly QueueName[] = CARRIER_IDS.flatMap(submitQueuesOf);

/**
 * Several worker processes share one carrier's binds through the BindPool leases: a process may
 * hold all of the carrier's bind slots, some, or none (issue 9, item 5). A process holding none
 * would take that carrier's batches only to wait there (and return them after noBindTimeoutMs),
 * while the processes holding the slots could send them. So each process takes a carrier's submit
 * jobs only while it holds at least one of its bind leases, bound or still (re)connecting: its
 * submit queues of the carrier are paused when it holds none and resumed when it gets one (at
 * start, or on taking over a dead process's lease). A slot holder whose SMSC is down keeps taking
 * the jobs, so the Submitter's no-bind watchdog still pauses the run with its reason. Jobs already
 * running are not affected. Returns a function that stops following.
 */
export function takeSubmitJobsWhileLeased(workers: Pick<JobWorkers, 'pause' | 'resume'>, pools: Readonly<Record<CarrierId, BindPool>>, logger: Logger): () => void {
  const log = logger.child({ component: 'bound-queues' });
  const stops: Array<() => void> = [];
  const follows: Array<() => void> = [];
  for (const carrier of CARRIER_IDS) {
    const pool = pools[carrier];
    let taking: boolean | undefined;
    const follow = (): void => {
      const leased = pool.heldCount > 0;
      if (leased === taking) return;
      taking = leased;
      if (leased) workers.resume(submitQueuesOf(carrier));
      else workers.pause(submitQueuesOf(carrier));
      log.info(
        { carrier, binds: pool.heldCount, allowed: pool.allowedBinds },
        leased ? 'holding a bind of the carrier: taking its submit jobs' : 'no bind of the carrier: leaving its submit jobs to the workers that hold them',
      );
    };
    pool.on('lease-acquired', follow);
    pool.on('lease-lost', follow);
    follow();
    follows.push(follow);
    stops.push(() => {
      pool.off('lease-acquired', follow);
      pool.off('lease-lost', follow);
    });
  }
  // The events carry every change but a graceful release; a look every second misses none.
  const recheck = setInterval(() => {
    for (const follow of follows) follow();
  }, 1_000);
  recheck.unref();
  return () => {
    clearInterval(recheck);
    for (const stop of stops) stop();
  };
}
