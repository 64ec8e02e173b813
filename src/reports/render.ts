import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import type { CarrierId } from '../domain/carrier.js';
import { MESSAGE_STATES } from '../domain/message-state.js';
import { DEFAULT_TIME_ZONE } from '../domain/time-zone.js';
import { translator, type Language, type MessageKey, type Translate } from '../i18n/index.js';
import { lineChartSvg } from './chart.js';
import type { AbnormalEvent, DailyReport } from './daily-report.js';
import type { RunReport } from './run-report.js';

export const REPORT_FORMATS = ['json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const escape = (value: unknown) => String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function formatters(language: Language, timeZone = DEFAULT_TIME_ZONE) {
  const locale = language === 'vi' ? 'vi-VN' : 'en-GB';
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const dateTime = new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const clock = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  return {
    n: (value: number) => number.format(value),
    pct: (value: number) => percent.format(value),
    time: (iso: string | null) => (iso ? dateTime.format(new Date(iso)) : '—'),
    clock: (iso: string) => clock.format(new Date(iso)),
    day: (day: string) => (language === 'vi' ? day.split('-').reverse().join('/') : day),
  };
}

const carrierName = (carrier: CarrierId | null) => (carrier ? CARRIER_PROFILES[carrier].name : '—');

function page(language: Language, title: string, body: string): string {
  return `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
@page { size: A4; margin: 15mm; }
body { font-family: "Times New Roman", "DejaVu Serif", serif; font-size: 12pt; color: #000; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 14pt; text-align: center; text-transform: uppercase; margin: 8pt 0; }
h2 { font-size: 12.5pt; margin: 12pt 0 4pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; font-size: 10.5pt; page-break-inside: auto; }
th, td { border: 1px solid #555; padding: 2pt 4pt; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; }
.meta { font-size: 10.5pt; }
.sign { margin-top: 16pt; }
svg { max-width: 100%; height: auto; }
</style></head><body>
${body}
</body></html>
`;
}

// ---------------------------------------------------------------- run report

export function runReportHtml(report: RunReport, language: Language): string {
  const t = translator(language);
  const f = formatters(language);
  const chart = lineChartSvg({
    title: t('report.run.chartTitle'),
    xLabels: report.timeline.points.map((p) => f.clock(p.at)),
    series: [
      { label: t('report.run.chartSubmitted'), color: '#1f5fbf', values: report.timeline.points.map((p) => p.submitted) },
      { label: t('report.run.chartDelivered'), color: '#1d8a3a', values: report.timeline.points.map((p) => p.delivered) },
    ],
  });
  const stateCells = (counts: Record<string, number>) => SHOWN_STATES.map((s) => `<td class="n">${f.n(counts[s] ?? 0)}</td>`).join('');
  const stateHeads = SHOWN_STATES.map((s) => `<th class="n">${escape(t(`report.state.${s}` as MessageKey))}</th>`).join('');
  const body = `
<h1>${escape(t('report.run.title', { run: report.runId }))}</h1>
<p class="meta">${escape(t('report.run.campaign', { name: report.campaign.name, id: report.campaign.id }))}<br>
${escape(t('report.run.state', { state: t(`state.${report.state}` as MessageKey) }))}${report.error ? ` — ${escape(report.error)}` : ''}<br>
${escape(t('report.run.times', { scheduled: f.time(report.scheduledFor), started: f.time(report.startedAt), finished: f.time(report.finishedAt) }))}<br>
${escape(t('report.run.audience', { audience: f.n(report.audienceSize ?? 0), total: f.n(report.total) }))}</p>
${report.campaign.text ? `<p>${escape(t('report.run.text'))}: <em>${escape(report.campaign.text)}</em></p>` : ''}
<h2>${escape(t('report.run.byCarrier'))}</h2>
<table><tr><th>${escape(t('report.carrier'))}</th><th class="n">${escape(t('report.total'))}</th>${stateHeads}<th class="n">${escape(t('report.run.deliveryRate'))}</th><th class="n">${escape(t('report.run.segments'))}</th></tr>
${report.carriers.map((c) => `<tr><td>${escape(carrierName(c.carrier))}</td><td class="n">${f.n(c.total)}</td>${stateCells(c.counts)}<td class="n">${f.pct(c.deliveryRate)}</td><td class="n">${f.n(c.segments)}</td></tr>`).join('\n')}
<tr><th>${escape(t('report.total'))}</th><th class="n">${f.n(report.total)}</th>${SHOWN_STATES.map((s) => `<th class="n">${f.n(report.totals[s])}</th>`).join('')}<th></th><th class="n">${f.n(report.carriers.reduce((n, c) => n + c.segments, 0))}</th></tr></table>
<p>${escape(t('report.run.unroutable', { count: f.n(report.unroutable) }))} ${escape(t('report.run.cancelled', { count: f.n(report.cancelled) }))}</p>
<h2>${escape(t('report.run.uncertain'))}</h2>
<p>${escape(t('report.run.ambiguous', { count: f.n(report.totals.ambiguous) }))} ${escape(t('report.run.unknown', { count: f.n(report.totals.unknown) }))}</p>
<h2>${escape(t('report.run.timeline'))}</h2>
${chart}
<h2>${escape(t('report.run.byArea'))}</h2>
<table><tr><th>${escape(t('report.province'))}</th><th>${escape(t('report.commune'))}</th><th class="n">${escape(t('report.total'))}</th>${stateHeads}</tr>
${report.areas.map((a) => `<tr><td>${escape(a.province ?? '—')}</td><td>${escape(a.commune ?? '—')}</td><td class="n">${f.n(a.total)}</td>${stateCells(a.counts)}</tr>`).join('\n')}</table>
<h2>${escape(t('report.run.errors'))}</h2>
${report.smppErrors.length + report.receiptErrors.length === 0 ? `<p>${escape(t('report.none'))}</p>` : `<table><tr><th>${escape(t('report.carrier'))}</th><th>${escape(t('report.run.code'))}</th><th>${escape(t('report.run.meaning'))}</th><th class="n">${escape(t('report.count'))}</th></tr>
${report.smppErrors.map((e) => `<tr><td>${escape(carrierName(e.carrier))}</td><td>SMPP ${escape(e.code)} ${escape(e.name)}</td><td>${escape(e.meaning)}</td><td class="n">${f.n(e.count)}</td></tr>`).join('\n')}
${report.receiptErrors.map((e) => `<tr><td>${escape(carrierName(e.carrier))}</td><td>${escape(t('report.run.receiptCode', { code: e.code, state: e.state }))}</td><td>${escape(t('report.run.receiptMeaning'))}</td><td class="n">${f.n(e.count)}</td></tr>`).join('\n')}</table>`}
<h2>${escape(t('report.run.screens'))}</h2>
<p>${escape(t('report.run.screensLine', { plays: f.n(report.screens.plays), screens: f.n(report.screens.byScreen.length), minutes: f.n(report.screens.seconds / 60) }))}</p>
${report.control.length > 0 ? `<h2>${escape(t('report.run.control'))}</h2><ul>${report.control.map((c) => `<li>${escape(f.time(c.at))}: ${escape(actionName(c.action, t))} (${escape(c.actor)})${c.reason ? ` — ${escape(c.reason)}` : ''}</li>`).join('')}</ul>` : ''}
<p class="meta">${escape(t('report.generatedAt', { at: f.time(report.generatedAt) }))}</p>`;
  return page(language, t('report.run.title', { run: report.runId }), body);
}

/** Every state a person may see in a run report's table (the rest are always zero once final). */
const SHOWN_STATES = MESSAGE_STATES.filter((s) => s !== 'submitting' && s !== 'enroute' && s !== 'accepted');

/** One CSV: a `section` column, then the section's columns (carrier × state, area × state, timeline, errors). */
export function runReportCsv(report: RunReport): string {
  const rows: unknown[][] = [['section', 'carrier', 'province', 'commune', 'state', 'count', 'segments', 'at', 'submitted', 'delivered', 'code', 'meaning']];
  for (const c of report.carriers) {
    for (const state of MESSAGE_STATES) if (c.counts[state] > 0) rows.push(['carrier', c.carrier, '', '', state, c.counts[state], '', '', '', '', '', '']);
    rows.push(['carrier-summary', c.carrier, '', '', '', c.total, c.segments, '', '', c.delivered, c.deliveryRate.toFixed(4), '']);
  }
  for (const a of report.areas) for (const state of MESSAGE_STATES) if (a.counts[state] > 0) rows.push(['area', '', a.province ?? '', a.commune ?? '', state, a.counts[state], '', '', '', '', '', '']);
  for (const p of report.timeline.points) rows.push(['timeline', '', '', '', '', '', '', p.at, p.submitted, p.delivered, '', '']);
  for (const e of report.smppErrors) rows.push(['smpp-error', e.carrier ?? '', '', '', 'failed', e.count, '', '', '', '', e.code, `${e.name} ${e.meaning}`.trim()]);
  for (const e of report.receiptErrors) rows.push(['receipt-error', e.carrier ?? '', '', '', e.state, e.count, '', '', '', '', e.code, '']);
  for (const s of report.screens.byScreen) rows.push(['screen', '', '', '', s.kind, s.plays, '', '', '', '', s.screenId, String(Math.round(s.seconds))]);
  return toCsv(rows);
}

// ---------------------------------------------------------------- daily report

export function eventText(event: AbnormalEvent, t: Translate, f: ReturnType<typeof formatters>): string {
  switch (event.type) {
    case 'run-paused':
      // An operator's pause records no reason: name who paused it instead.
      return t('report.event.runPaused', { run: event.runId, campaign: event.campaign, at: f.time(event.at), why: pauseWhy(event.code, event.reason, t) || t('report.event.pausedBy', { actor: event.actor }) });
    case 'run-still-paused':
      return t('report.event.runStillPaused', { run: event.runId, campaign: event.campaign, why: pauseWhy(event.code, event.reason, t) || t('report.none') });
    case 'high-failure-rate':
      return t('report.event.highFailure', { run: event.runId, campaign: event.campaign, carrier: carrierName(event.carrier), failed: f.n(event.failed), final: f.n(event.final), rate: f.pct(event.rate) });
    case 'ambiguous':
      return t('report.event.ambiguous', { run: event.runId, campaign: event.campaign, carrier: carrierName(event.carrier), count: f.n(event.count) });
    case 'messages-waiting':
      return t('report.event.waiting', { run: event.runId, campaign: event.campaign, carrier: carrierName(event.carrier), count: f.n(event.count), state: t(`state.${event.runState}` as MessageKey) });
    case 'carrier-outage':
      return event.endedAt
        ? t('report.event.carrierOutage', { carrier: carrierName(event.carrier), from: f.time(event.startedAt), to: f.time(event.endedAt), duration: durationText(event.seconds, t) })
        : t('report.event.carrierOutageOngoing', { carrier: carrierName(event.carrier), from: f.time(event.startedAt), duration: durationText(event.seconds, t) });
    case 'screen-offline':
      return t(event.lastSeen ? 'report.event.screenOffline' : 'report.event.screenNever', { screen: event.name, id: event.screenId, kind: kindName(event.kind, t), at: f.time(event.lastSeen) });
    case 'report-not-sent':
      return t(event.sentAt ? 'report.event.reportLate' : 'report.event.reportNotSent', { day: f.day(event.day), attempts: event.attempts, error: event.lastError ?? '', at: f.time(event.sentAt) });
  }
}

/** 45 giây, 12 phút, 2 giờ 5 phút. */
function durationText(seconds: number, t: Translate): string {
  if (seconds < 60) return t('report.duration.seconds', { s: seconds });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t('report.duration.minutes', { m: minutes });
  return t('report.duration.hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
}

function pauseWhy(code: string | null, reason: string | null, t: Translate): string {
  const who = code && ['operator', 'quiet-hours', 'auto'].includes(code) ? t(`status.pausedBy.${code}` as MessageKey) : (code ?? '');
  return [who, reason].filter(Boolean).join(': ');
}

/** run.pause → "tạm dừng"; an action without a catalogue entry stays as recorded. */
function actionName(action: string, t: Translate): string {
  const key = `report.action.${action}` as MessageKey;
  const text = t(key);
  return text === key ? action : text;
}

function kindName(kind: string, t: Translate): string {
  const key = `report.kind.${kind}` as MessageKey;
  const text = t(key);
  return text === key ? kind : text;
}

function channelName(channel: string, t: Translate): string {
  return t(`report.channel.${channel}` as MessageKey);
}

export function dailyReportHtml(report: DailyReport, language: Language): string {
  const t = translator(language);
  const f = formatters(language, report.timeZone);
  const li = (text: string) => `<li>${escape(text)}</li>`;
  const carriers = report.sms.carriers.filter((c) => c.total > 0);
  const body = `
<p class="meta">${escape(t('report.daily.organisation'))}: ${escape(report.organisation ?? report.area.label)}</p>
<h1>${escape(t('report.daily.title'))}</h1>
<p style="text-align:center">${escape(t('report.daily.subtitle', { day: f.day(report.day), area: report.area.label }))}</p>
<h2>1. ${escape(t('report.daily.count'))}</h2>
<p>${escape(t('report.daily.total'))}: <strong>${f.n(report.total)}</strong></p>
<p>${escape(t('report.daily.specifically'))}:</p>
<ul>
<li>${escape(t('report.daily.sms', { sent: f.n(report.sms.sent), delivered: f.n(report.sms.delivered) }))}
${carriers.length > 0 ? `<table><tr><th>${escape(t('report.carrier'))}</th><th class="n">${escape(t('report.daily.smsSent'))}</th><th class="n">${escape(t('report.state.delivered'))}</th><th class="n">${escape(t('report.daily.smsFailed'))}</th><th class="n">${escape(t('report.state.ambiguous'))}</th><th class="n">${escape(t('report.state.unknown'))}</th></tr>
${carriers.map((c) => `<tr><td>${escape(carrierName(c.carrier))}</td><td class="n">${f.n(c.sent)}</td><td class="n">${f.n(c.delivered)}</td><td class="n">${f.n(c.failed)}</td><td class="n">${f.n(c.ambiguous)}</td><td class="n">${f.n(c.unknown)}</td></tr>`).join('\n')}</table>` : ''}</li>
${report.screens.length === 0 ? li(t('report.daily.noScreens')) : report.screens.map((s) => li(t('report.daily.screens', { kind: kindName(s.kind, t), plays: f.n(s.plays), screens: f.n(s.screens), minutes: f.n(s.minutes) }))).join('\n')}
<li>${escape(t('report.daily.loudspeakers', { broadcasts: f.n(report.loudspeakers.broadcasts), minutes: f.n(report.loudspeakers.minutes) }))}
${report.loudspeakers.byCommune.length > 0 ? `<table><tr><th>${escape(t('report.commune'))}</th><th class="n">${escape(t('report.daily.broadcasts'))}</th><th class="n">${escape(t('report.daily.minutes'))}</th></tr>
${report.loudspeakers.byCommune.map((s) => `<tr><td>${escape(s.commune ?? '—')}</td><td class="n">${f.n(s.broadcasts)}</td><td class="n">${f.n(s.minutes)}</td></tr>`).join('\n')}</table>` : ''}</li>
${report.manual.map((e) => li(t(e.minutes === null ? 'report.daily.manual' : 'report.daily.manualMinutes', { channel: channelName(e.channel, t), count: f.n(e.count), minutes: f.n(e.minutes ?? 0), text: e.text }))).join('\n')}
<li>${escape(t('report.daily.coverage', { count: f.n(report.coverage.communes) }))}${report.coverage.list.length > 0 ? `: ${escape(report.coverage.list.map((c) => c.commune).join(', '))}` : ''}</li>
</ul>
<h2>2. ${escape(t('report.daily.contents'))}</h2>
${report.contents.length === 0 ? `<p>${escape(t('report.none'))}</p>` : `<ul>${report.contents.map((c) => li(c.source === 'campaign' ? t('report.daily.contentCampaign', { name: c.name, text: c.text ?? '' }) : c.source === 'screen' ? t('report.daily.contentScreen', { text: c.text, plays: f.n(c.plays) }) : t('report.daily.contentManual', { channel: channelName(c.channel, t), text: c.text }))).join('\n')}</ul>`}
<h2>3. ${escape(t('report.daily.events'))}</h2>
${report.events.length === 0 ? `<p>${escape(t('report.daily.noEvents'))}</p>` : `<ul>${report.events.map((e) => li(eventText(e, t, f))).join('\n')}</ul>`}
<div class="sign">
<p>${escape(t('report.daily.compiler'))}: ${escape(report.compiler.name ?? '')}</p>
<p>${escape(t('report.daily.phone'))}: ${escape(report.compiler.phone ?? '')}</p>
</div>
<p class="meta">${escape(t('report.generatedAt', { at: f.time(report.generatedAt) }))}</p>`;
  return page(language, `${t('report.daily.title')} ${report.day}`, body);
}

/** One CSV row per figure: section, key, count, minutes, text. */
export function dailyReportCsv(report: DailyReport): string {
  const rows: unknown[][] = [['section', 'key', 'count', 'minutes', 'detail']];
  rows.push(['total', '', report.total, '', '']);
  for (const c of report.sms.carriers) rows.push(['sms', c.carrier, c.sent, '', `delivered=${c.delivered} failed=${c.failed} ambiguous=${c.ambiguous} unknown=${c.unknown}`]);
  for (const s of report.screens) rows.push(['screens', s.kind, s.plays, s.minutes, `screens=${s.screens}`]);
  for (const s of report.loudspeakers.byCommune) rows.push(['loudspeakers', s.commune ?? '', s.broadcasts, s.minutes, s.province ?? '']);
  for (const e of report.manual) rows.push(['manual', e.channel, e.count, e.minutes ?? '', e.text]);
  for (const c of report.coverage.list) rows.push(['coverage', c.commune, c.sms, '', `province=${c.province ?? ''} plays=${c.plays}`]);
  for (const c of report.contents) rows.push(['content', c.source, '', '', c.source === 'campaign' ? `${c.name}: ${c.text ?? ''}` : c.text]);
  for (const e of report.events) rows.push(['event', e.type, '', '', JSON.stringify(e)]);
  rows.push(['compiler', report.compiler.name ?? '', '', '', report.compiler.phone ?? '']);
  return toCsv(rows);
}

/** The daily report as plain text, the e-mail's body. */
export function dailyReportText(report: DailyReport, language: Language): string {
  const t = translator(language);
  const f = formatters(language, report.timeZone);
  const lines = [
    `${t('report.daily.organisation')}: ${report.organisation ?? report.area.label}`,
    t('report.daily.title'),
    t('report.daily.subtitle', { day: f.day(report.day), area: report.area.label }),
    '',
    `1. ${t('report.daily.count')}`,
    `${t('report.daily.total')}: ${f.n(report.total)}`,
    `- ${t('report.daily.sms', { sent: f.n(report.sms.sent), delivered: f.n(report.sms.delivered) })}`,
    ...report.sms.carriers.filter((c) => c.total > 0).map((c) => `    ${carrierName(c.carrier)}: ${f.n(c.sent)} / ${f.n(c.delivered)}`),
    ...report.screens.map((s) => `- ${t('report.daily.screens', { kind: kindName(s.kind, t), plays: f.n(s.plays), screens: f.n(s.screens), minutes: f.n(s.minutes) })}`),
    `- ${t('report.daily.loudspeakers', { broadcasts: f.n(report.loudspeakers.broadcasts), minutes: f.n(report.loudspeakers.minutes) })}`,
    ...report.manual.map((e) => `- ${t(e.minutes === null ? 'report.daily.manual' : 'report.daily.manualMinutes', { channel: channelName(e.channel, t), count: f.n(e.count), minutes: f.n(e.minutes ?? 0), text: e.text })}`),
    `- ${t('report.daily.coverage', { count: f.n(report.coverage.communes) })}`,
    '',
    `2. ${t('report.daily.contents')}`,
    ...report.contents.map((c) => `- ${c.source === 'campaign' ? t('report.daily.contentCampaign', { name: c.name, text: c.text ?? '' }) : c.source === 'screen' ? t('report.daily.contentScreen', { text: c.text, plays: f.n(c.plays) }) : t('report.daily.contentManual', { channel: channelName(c.channel, t), text: c.text })}`),
    '',
    `3. ${t('report.daily.events')}`,
    ...(report.events.length === 0 ? [t('report.daily.noEvents')] : report.events.map((e) => `- ${eventText(e, t, f)}`)),
    '',
    `${t('report.daily.compiler')}: ${report.compiler.name ?? ''}`,
    `${t('report.daily.phone')}: ${report.compiler.phone ?? ''}`,
  ];
  return `${lines.join('\n')}\n`;
}

function toCsv(rows: unknown[][]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function csvCell(value: unknown): string {
  const text = String(value ?? '');
  // A leading = + - @ would run as a formula in a spreadsheet: quote it behind an apostrophe.
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A run report as lines a person reads in a terminal (`loa report run` without --format). */
export function runReportText(report: RunReport, language: Language): string {
  const t = translator(language);
  const f = formatters(language);
  const lines = [
    t('report.run.title', { run: report.runId }),
    t('report.run.campaign', { name: report.campaign.name, id: report.campaign.id }),
    t('report.run.state', { state: t(`state.${report.state}` as MessageKey) }),
    t('report.run.times', { scheduled: f.time(report.scheduledFor), started: f.time(report.startedAt), finished: f.time(report.finishedAt) }),
    t('report.run.audience', { audience: f.n(report.audienceSize ?? 0), total: f.n(report.total) }),
    ...report.carriers
      .filter((c) => c.total > 0)
      .map((c) => `  ${carrierName(c.carrier)}: ${f.n(c.total)} · ${t('report.state.delivered')} ${f.n(c.delivered)} (${f.pct(c.deliveryRate)}) · ${t('report.daily.smsFailed')} ${f.n(c.failed)} · ${t('report.run.segments')} ${f.n(c.segments)}`),
    t('report.run.unroutable', { count: f.n(report.unroutable) }),
    `${t('report.run.ambiguous', { count: f.n(report.totals.ambiguous) })} ${t('report.run.unknown', { count: f.n(report.totals.unknown) })}`,
    ...report.smppErrors.map((e) => `  ${carrierName(e.carrier)} SMPP ${e.code} ${e.name}: ${f.n(e.count)} — ${e.meaning}`),
    ...report.receiptErrors.map((e) => `  ${carrierName(e.carrier)} ${t('report.run.receiptCode', { code: e.code, state: e.state })}: ${f.n(e.count)}`),
    t('report.run.screensLine', { plays: f.n(report.screens.plays), screens: f.n(report.screens.byScreen.length), minutes: f.n(report.screens.seconds / 60) }),
  ];
  return `${lines.join('\n')}\n`;
}
