import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportConfig } from '../../src/config.js';
import { JobQueues } from '../../src/jobs/queues.js';
import { createRedis } from '../../src/jobs/redis.js';
import { startScheduler, type RunningScheduler } from '../../src/jobs/scheduler-role.js';
import { DailyReportMailer } from '../../src/reports/daily-mailer.js';
import { buildDailyReport } from '../../src/reports/daily-report.js';
import { ReportRepository } from '../../src/reports/report.repository.js';
import { ReportService } from '../../src/reports/reports.service.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/engine.js';
import { testLogger } from '../helpers/smpp.js';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** An SMTP server from npm, in this process: it refuses the next `refuse` messages (550), then accepts. */
async function smtpServer(): Promise<{ port: number; received: Received[]; refuse: { next: number }; close(): Promise<void> }> {
  const received: Received[] = [];
  const refuse = { next: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refuse.next > 0) {
          refuse.next -= 1;
          const error = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
          return callback(error);
        }
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, refuse, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** RFC 2047 encoded words (=?UTF-8?B?…?= / =?UTF-8?Q?…?=) of a header, decoded. */
function decodeHeader(raw: string, name: string): string {
  const match = new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, 'mi').exec(raw);
  const value = (match?.[1] ?? '').replace(/\r\n[ \t]/g, ' ');
  return value
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*(?==\?)/gi, '=?UTF-8?$1?$2?=')
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const input = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < input.length; i += 1) {
    if (input[i] === '=' && /^[0-9A-F]{2}$/i.test(input.slice(i + 1, i + 3))) {
      bytes.push(parseInt(input.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(input[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The attachment named like `suffix`, decoded. */
function attachment(raw: string, suffix: string): { filename: string; contentType: string; text: string } | undefined {
  for (const part of raw.split(/\r\n--[^\r\n]+\r\n/)) {
    const filename = /filename="?([^";\r\n]+)"?/i.exec(part)?.[1];
    if (!filename?.endsWith(suffix)) continue;
    const [head, ...rest] = part.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n').replace(/\r\n--[^\r\n]*--\r\n?$/, '');
    const encoding = /content-transfer-encoding: *([\w-]+)/i.exec(head!)?.[1]?.toLowerCase();
    const text = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : body;
    return { filename, contentType: /content-type: *([^;\r\n]+)/i.exec(head!)?.[1] ?? '', text };
  }
  return undefined;
}

describe('the daily report e-mail, on schedule', () => {
  let database: TestDatabase;
  let redis: Redis;
  const prefix = testRedisPrefix();
  let smtp: Awaited<ReturnType<typeof smtpServer>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = createRedis(REDIS_URL, 'loa-test-reports-mail');
    smtp = await smtpServer();
  });

  afterAll(async () => {
    await smtp?.close();
    const cleaner = new Redis(REDIS_URL);
    await cleanupRedisPrefix(cleaner, prefix);
    cleaner.disconnect();
    redis?.disconnect();
    await database?.drop();
  });

  function config(areas: string[]): ReportConfig {
    return {
      time: { hour: 15, minute: 0 },
      timeZone: 'Asia/Ho_Chi_Minh',
      areas,
      recipients: ['sottht@cantho.gov.vn', 'phongttbcxb@cantho.gov.vn'],
      smtpUrl: `smtp://127.0.0.1:${smtp.port}`,
      from: 'Loa <loa@cantho.gov.vn>',
      language: 'vi',
      organisation: 'Sở Thông tin và Truyền thông TP Cần Thơ',
      compilerName: 'Nguyễn Văn An',
      compilerPhone: '0292 3811 502',
      retryMs: 60_000,
    };
  }

  function start(areas: string[], clock: () => Date, leaseName: string): RunningScheduler {
    return startScheduler({
      store: database.store,
      launcher: new JobQueues(redis, prefix),
      config: { alertWebhook: null, leaseMs: 10_000, tickMs: 3_600_000, lookbackMs: 0 },
      logger: testLogger,
      clock,
      options: { leaseName },
      reports: config(areas),
    });
  }

  async function tick(sut: RunningScheduler): Promise<void> {
    expect((await sut.scheduler.tick()).leader).toBe(true);
    await sut.reports!.settled();
  }

  it('sends each configured area’s report once at 15:00 Vietnam time, the report attached', async () => {
    const repository = new ReportRepository(database.store.db);
    await repository.addEntry({ day: '2026-11-26', area: 'province:92', channel: 'web', count: 4, minutes: null, text: 'Tin phòng chống dịch trên Cổng TTĐT', createdBy: 'test' });
    let now = new Date('2026-11-26T14:59:00+07:00');
    const sut = start(['province:92'], () => now, 'reports-mail-1');
    try {
      await tick(sut);
      expect(smtp.received).toHaveLength(0);

      now = new Date('2026-11-26T15:00:00+07:00');
      await tick(sut);
      expect(smtp.received).toHaveLength(1);
      now = new Date('2026-11-26T15:05:00+07:00');
      await tick(sut);
      expect(smtp.received).toHaveLength(1);

      const mail = smtp.received[0]!;
      expect(mail.to).toEqual(['sottht@cantho.gov.vn', 'phongttbcxb@cantho.gov.vn']);
      expect(decodeHeader(mail.raw, 'Subject')).toBe('Báo cáo nhanh kết quả tuyên truyền ngày 26/11/2026 — tỉnh/thành phố mã 92');
      const html = attachment(mail.raw, '.html');
      expect(html?.filename).toBe('bao-cao-nhanh-2026-11-26-province-92.html');
      expect(html?.contentType).toBe('text/html');
      expect(html?.text).toContain('Tin phòng chống dịch trên Cổng TTĐT');
      expect(html?.text).toContain('Họ và tên người tổng hợp báo cáo: Nguyễn Văn An');
      expect(attachment(mail.raw, '.csv')?.text).toContain('manual,web,4,,Tin phòng chống dịch trên Cổng TTĐT');
      const delivery = await repository.delivery('province:92', '2026-11-26');
      expect(delivery).toMatchObject({ state: 'sent', attempts: 1 });
    } finally {
      await sut.stop();
    }
  });

  it('two schedulers ticking at once send the report once', async () => {
    const repository = new ReportRepository(database.store.db);
    const reports = new ReportService(repository, { organisation: null, compilerName: null, compilerPhone: null, timeZone: 'Asia/Ho_Chi_Minh' });
    const mailers = [0, 1].map(() => new DailyReportMailer({ reports, repository, config: config(['all']), logger: testLogger }));
    smtp.received.length = 0;
    try {
      const now = new Date('2026-11-29T15:30:00+07:00');
      const outcomes = (await Promise.all(mailers.map((m) => m.tick(now)))).flat();
      expect(outcomes).toEqual([{ area: 'all', day: '2026-11-29', ok: true }]);
      expect(smtp.received).toHaveLength(1);
      expect((await Promise.all(mailers.map((m) => m.tick(new Date('2026-11-29T23:59:00+07:00'))))).flat()).toEqual([]);
      expect(smtp.received).toHaveLength(1);
    } finally {
      for (const mailer of mailers) mailer.close();
    }
  });

  it('retries a refused send, and the next day’s report shows the failures as abnormal events', async () => {
    await sql`INSERT INTO report_area_groups (id, name, province, communes) VALUES ('ninh-kieu', 'Quận Ninh Kiều', '92', '{31117,31120}'),
      ('cai-rang', 'Quận Cái Răng', '92', '{31150}')`.execute(database.store.db);
    const repository = new ReportRepository(database.store.db);
    smtp.received.length = 0;
    smtp.refuse.next = 2; // the first attempt of each area
    let now = new Date('2026-11-27T15:00:00+07:00');
    const sut = start(['group:ninh-kieu', 'group:cai-rang'], () => now, 'reports-mail-2');
    try {
      await tick(sut);
      expect(smtp.received).toHaveLength(0);
      expect(await repository.delivery('group:ninh-kieu', '2026-11-27')).toMatchObject({ state: 'failed', attempts: 1 });
      // Not due again before LOA_REPORT_RETRY_MS has passed.
      now = new Date('2026-11-27T15:00:30+07:00');
      await tick(sut);
      expect(smtp.received).toHaveLength(0);
      // Cái Răng's SMTP keeps refusing; Ninh Kiều's goes through at the retry.
      now = new Date('2026-11-27T15:01:00+07:00');
      smtp.refuse.next = 0;
      await sql`UPDATE report_deliveries SET next_attempt_at = '2026-11-28T00:00:00+07:00' WHERE area = 'group:cai-rang'`.execute(database.store.db);
      await tick(sut);
      expect(smtp.received.map((m) => decodeHeader(m.raw, 'Subject'))).toEqual(['Báo cáo nhanh kết quả tuyên truyền ngày 27/11/2026 — Quận Ninh Kiều']);
      expect(await repository.delivery('group:ninh-kieu', '2026-11-27')).toMatchObject({ state: 'sent', attempts: 2 });
    } finally {
      await sut.stop();
    }

    const reports = new ReportService(repository, { organisation: null, compilerName: null, compilerPhone: null, timeZone: 'Asia/Ho_Chi_Minh' }, () => new Date('2026-11-28T15:00:00+07:00'));
    const late = await reports.dailyReport({ day: '2026-11-28', area: 'group:ninh-kieu' });
    expect(late.events).toEqual([expect.objectContaining({ type: 'report-not-sent', day: '2026-11-27', attempts: 1, sentAt: '2026-11-27T08:01:00.000Z' })]);
    const missing = await reports.dailyReport({ day: '2026-11-28', area: 'group:cai-rang' });
    expect(missing.events).toEqual([expect.objectContaining({ type: 'report-not-sent', day: '2026-11-27', attempts: 1, sentAt: null, lastError: expect.stringMatching(/550/) })]);
    expect(reports.render(missing, 'html', 'vi').body).toContain('Báo cáo ngày 27/11/2026 chưa gửi được qua thư điện tử sau 1 lần thử');
    expect(reports.render(late, 'html', 'vi').body).toContain('đã gửi lúc');
    // The report of the day itself does not list its own send.
    const sameDay = await buildDailyReport(repository, { day: '2026-11-27', area: await reports.resolveArea({ kind: 'group', group: 'ninh-kieu' }) });
    expect(sameDay.events).toEqual([]);
  });
});
