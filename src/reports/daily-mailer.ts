import nodemailer, { type Transporter } from 'nodemailer';
import type { ReportConfig } from '../config.js';
import { wallTimeOf } from '../domain/time-zone.js';
import { translator } from '../i18n/index.js';
import type { Logger } from '../logger.js';
import { dailyReportCsv, dailyReportHtml, dailyReportText } from './render.js';
import type { ReportRepository } from './report.repository.js';
import type { ReportService } from './reports.service.js';

/** How long a sender holds an (area, day) send; past it another scheduler may take it over. */
const HOLD_MS = 120_000;

export interface MailOutcome {
  area: string;
  day: string;
  ok: boolean;
  error?: string;
}

/**
 * Item 3: at the configured local time (default 15:00 Asia/Ho_Chi_Minh) e-mails each configured
 * area's daily report of that day, the HTML attached. The scheduler's leader calls tick() on each
 * of its ticks; report_deliveries makes the send once per (area, day) across processes and
 * restarts, and keeps every attempt. A failed send is tried again after LOA_REPORT_RETRY_MS until
 * the day ends; the next day's report lists the failures as an abnormal event.
 */
export class DailyReportMailer {
  private running: Promise<MailOutcome[]> | null = null;
  private readonly transport: Transporter;
  private readonly logger: Logger;

  constructor(
    private readonly deps: { reports: ReportService; repository: ReportRepository; config: ReportConfig; logger: Logger; transport?: Transporter },
  ) {
    if (!deps.transport && !deps.config.smtpUrl) throw new Error('DailyReportMailer needs LOA_SMTP_URL');
    this.transport = deps.transport ?? nodemailer.createTransport(deps.config.smtpUrl!);
    this.logger = deps.logger.child({ component: 'report-mail' });
  }

  /** Starts a pass unless one is under way (the scheduler does not wait for SMTP). */
  tick(now: Date): Promise<MailOutcome[]> {
    this.running ??= this.pass(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Resolves when the pass under way (if any) is over. */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  close(): void {
    this.transport.close();
  }

  private async pass(now: Date): Promise<MailOutcome[]> {
    const { config } = this.deps;
    const wall = wallTimeOf(now, config.timeZone);
    if (wall.hour * 60 + wall.minute < config.time.hour * 60 + config.time.minute) return [];
    const day = `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
    const outcomes: MailOutcome[] = [];
    for (const area of config.areas) {
      const delivery = await this.deps.repository.claimDelivery(area, day, config.recipients, now, HOLD_MS);
      if (!delivery) continue;
      try {
        const messageId = await this.send(area, day, now);
        await this.deps.repository.recordAttempt(delivery.id, { at: now, ok: true, messageId });
        this.logger.info({ area, day, attempt: delivery.attempts + 1 }, 'daily report e-mailed');
        outcomes.push({ area, day, ok: true });
      } catch (error) {
        const reason = (error as Error).message.slice(0, 500);
        await this.deps.repository.recordAttempt(delivery.id, { at: now, ok: false, error: reason, nextAttemptAt: new Date(now.getTime() + config.retryMs) });
        this.logger.warn({ area, day, attempt: delivery.attempts + 1, err: reason }, 'daily report e-mail failed; retried later');
        outcomes.push({ area, day, ok: false, error: reason });
      }
    }
    return outcomes;
  }

  private async send(area: string, day: string, now: Date): Promise<string | null> {
    const { config } = this.deps;
    const language = config.language;
    const report = await this.deps.reports.dailyReport({ day, area, language });
    const t = translator(language);
    const name = `bao-cao-nhanh-${day}-${area.replace(/[^a-z0-9-]+/gi, '-')}`;
    const info = (await this.transport.sendMail({
      from: config.from,
      to: config.recipients,
      subject: t('report.mail.subject', { day: language === 'vi' ? day.split('-').reverse().join('/') : day, area: report.area.label }),
      text: dailyReportText(report, language),
      html: dailyReportHtml(report, language),
      date: now,
      attachments: [
        { filename: `${name}.html`, content: dailyReportHtml(report, language), contentType: 'text/html; charset=utf-8' },
        { filename: `${name}.csv`, content: dailyReportCsv(report), contentType: 'text/csv; charset=utf-8' },
      ],
    })) as { messageId?: string };
    return info.messageId ?? null;
  }
}
