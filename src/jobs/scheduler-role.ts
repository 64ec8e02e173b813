import type { SchedulerConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { AlertWebhook } from '../services/alert-webhook.js';
import { RunControlService, type RunControlListener } from '../services/run-control.service.js';
import { AuditRepository } from '../store/audit.repository.js';
import type { Store } from '../store/db.js';
import { RunControlRepository } from '../store/run-control.repository.js';
import { RunRepository } from '../store/run.repository.js';
import { ScheduleRepository } from '../store/schedule.repository.js';
import type { JobQueues } from './queues.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

export interface RunningScheduler {
  readonly scheduler: Scheduler;
  readonly control: RunControlService;
  stop(): Promise<void>;
}

/**
 * The scheduler role: the Scheduler on its timer, with the run control it pauses and resumes
 * through and the alert webhook (LOA_ALERT_WEBHOOK) that hears of automatic pauses.
 * `listeners` (screens, after the merge) hear of every pause, resume and cancel made here.
 */
export function startScheduler(deps: {
  store: Store;
  launcher: JobQueues;
  config: SchedulerConfig;
  logger: Logger;
  clock?: () => Date;
  listeners?: readonly RunControlListener[];
  options?: SchedulerOptions;
}): RunningScheduler {
  const { store, launcher, config, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const audit = new AuditRepository(store.db);
  const runs = new RunRepository(store.db);
  const controlStore = new RunControlRepository(store.db);
  const alerts = config.alertWebhook ? new AlertWebhook(config.alertWebhook, logger) : undefined;
  const control = new RunControlService({ runs, control: controlStore, audit, resumer: launcher, ...(alerts ? { alerts } : {}), clock, logger });
  for (const listener of deps.listeners ?? []) control.addListener(listener);
  const scheduler = new Scheduler(
    { schedule: new ScheduleRepository(store.db), runs, control, controlStore, audit, launcher, clock, logger },
    { leaseMs: config.leaseMs, tickMs: config.tickMs, lookbackMs: config.lookbackMs, ...deps.options },
  );
  scheduler.start();
  logger.child({ component: 'scheduler' }).info({ leaseMs: config.leaseMs, tickMs: config.tickMs, alertWebhook: Boolean(config.alertWebhook) }, 'scheduler started');
  return {
    scheduler,
    control,
    async stop() {
      await scheduler.stop();
      await alerts?.drain();
      await launcher.close();
    },
  };
}
