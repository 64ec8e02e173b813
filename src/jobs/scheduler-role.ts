import type { ReportConfig, SchedulerConfig } from '../config.js';
import type { CarrierId } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { BroadcastPlacement } from '../services/broadcast-placement.js';
import { AlertWebhook } from '../services/alert-webhook.js';
import { RunControlService, type RunControlListener } from '../services/run-control.service.js';
import { AuditRepository } from '../store/audit.repository.js';
import type { Store } from '../store/db.js';
import { RunControlRepository } from '../store/run-control.repository.js';
import { RunRepository } from '../store/run.repository.js';
import { ScheduleRepository } from '../store/schedule.repository.js';
import { DailyReportMailer } from '../reports/daily-mailer.js';
import { ReportRepository } from '../reports/report.repository.js';
import { ReportService } from '../reports/reports.service.js';
import type { JobQueues } from './queues.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

export interface RunningScheduler {
  readonly scheduler: Scheduler;
  readonly control: RunControlService;
  /** The daily report's e-mail, when LOA_REPORT_AREAS names areas. */
  readonly reports: DailyReportMailer | undefined;
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
  /** The daily report's e-mail (LOA_REPORT_*); nothing is mailed without areas. */
  reports?: ReportConfig;
  /** Places each launched occurrence's screens and loudspeaker items (service.ts gives it one). */
  broadcasts?: BroadcastPlacement;
  /** What the workers publish of their binds (BindStateReader): runs paused for no bind resume once it is back. */
  carrierBinds?: () => Promise<Readonly<Record<CarrierId, { bound: number }>>>;
}): RunningScheduler {
  const { store, launcher, config, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const audit = new AuditRepository(store.db);
  const runs = new RunRepository(store.db);
  const controlStore = new RunControlRepository(store.db);
  const alerts = config.alertWebhook ? new AlertWebhook(config.alertWebhook, logger) : undefined;
  const control = new RunControlService({ runs, control: controlStore, audit, resumer: launcher, ...(alerts ? { alerts } : {}), clock, logger });
  for (const listener of deps.listeners ?? []) control.addListener(listener);
  const mailer = deps.reports && deps.reports.areas.length > 0 ? createMailer(store, deps.reports, logger, clock) : undefined;
  const scheduler = new Scheduler(
    { schedule: new ScheduleRepository(store.db), runs, control, controlStore, audit, launcher, clock, logger, ...(deps.broadcasts ? { broadcasts: deps.broadcasts } : {}), ...(deps.carrierBinds ? { carrierBinds: deps.carrierBinds } : {}), afterTick: mailer ? [(now) => mailer.tick(now)] : [] },
    { leaseMs: config.leaseMs, tickMs: config.tickMs, lookbackMs: config.lookbackMs, ...deps.options },
  );
  scheduler.start();
  logger.child({ component: 'scheduler' }).info({ leaseMs: config.leaseMs, tickMs: config.tickMs, alertWebhook: Boolean(config.alertWebhook) }, 'scheduler started');
  return {
    scheduler,
    control,
    reports: mailer,
    async stop() {
      await scheduler.stop();
      await mailer?.settled();
      mailer?.close();
      await alerts?.drain();
      await launcher.close();
    },
  };
}

function createMailer(store: Store, config: ReportConfig, logger: Logger, clock: () => Date): DailyReportMailer {
  const repository = new ReportRepository(store.db);
  const reports = new ReportService(repository, { organisation: config.organisation, compilerName: config.compilerName, compilerPhone: config.compilerPhone, timeZone: config.timeZone }, clock);
  return new DailyReportMailer({ reports, repository, config, logger });
}
