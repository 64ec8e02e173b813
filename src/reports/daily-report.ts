import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import { DEFAULT_TIME_ZONE, wallTimeToUtc } from '../domain/time-zone.js';
import type { AreaFilter } from './area.js';
import { previousDay } from './area.js';
import type { ReportRepository } from './report.repository.js';
import { campaignText } from './run-report.js';
import { acceptedOf, failedOf, HIGH_FAILURE_RATE, sumCounts, zeroCounts, type StateCounts } from './states.js';

export const LOUDSPEAKER_KIND = 'loudspeaker';

export interface SmsCarrierLine {
  carrier: CarrierId;
  total: number;
  /** Accepted by the SMSC: the messages this channel counts. */
  sent: number;
  delivered: number;
  failed: number;
  ambiguous: number;
  unknown: number;
}

export type AbnormalEvent =
  | { type: 'run-paused'; runId: number; campaign: string; at: string; actor: string; code: string | null; reason: string | null }
  | { type: 'run-still-paused'; runId: number; campaign: string; code: string | null; reason: string | null }
  | { type: 'high-failure-rate'; runId: number; campaign: string; carrier: CarrierId; failed: number; final: number; rate: number }
  | { type: 'ambiguous'; runId: number; campaign: string; carrier: CarrierId; count: number }
  | { type: 'messages-waiting'; runId: number; campaign: string; carrier: CarrierId; count: number; runState: string }
  /** No worker held a bind with the carrier (carrier_outages); `endedAt` null: still without one. `seconds` to its end, or to when the report was made. */
  | { type: 'carrier-outage'; carrier: CarrierId; startedAt: string; endedAt: string | null; seconds: number }
  | { type: 'screen-offline'; screenId: string; name: string; kind: string; commune: string | null; lastSeen: string | null }
  | { type: 'report-not-sent'; day: string; attempts: number; lastError: string | null; sentAt: string | null };

export interface DailyReport {
  kind: 'daily';
  day: string;
  timeZone: string;
  from: string;
  to: string;
  area: { key: string; label: string; province: string | null; communes: string[] | null };
  organisation: string | null;
  /** Every channel's count added: SMS accepted + screen plays + loudspeaker broadcasts + manual entries. */
  total: number;
  sms: { carriers: SmsCarrierLine[]; total: number; sent: number; delivered: number; runs: number[] };
  screens: Array<{ kind: string; screens: number; plays: number; minutes: number }>;
  loudspeakers: { broadcasts: number; minutes: number; byCommune: Array<{ province: string | null; commune: string | null; broadcasts: number; minutes: number }> };
  manual: Array<{ id: number; channel: string; count: number; minutes: number | null; text: string; createdBy: string }>;
  /** Communes (and wards: the codes do not say which) reached: a subscriber there got a message, or a screen there played. */
  coverage: { communes: number; list: Array<{ province: string | null; commune: string; sms: number; plays: number }> };
  contents: Array<{ source: 'campaign'; campaignId: string; name: string; text: string | null; runs: number[] } | { source: 'screen'; campaignId: string | null; text: string; plays: number } | { source: 'manual'; channel: string; text: string }>;
  events: AbnormalEvent[];
  compiler: { name: string | null; phone: string | null };
  generatedAt: string;
}

/** Local midnight of `day` and of the next day in `timeZone`. */
export function dayWindow(day: string, timeZone: string = DEFAULT_TIME_ZONE): { from: Date; to: Date } {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const from = wallTimeToUtc({ year, month, day: date, hour: 0, minute: 0, second: 0 }, timeZone);
  const next = new Date(Date.UTC(year, month - 1, date + 1));
  const to = wallTimeToUtc({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), hour: 0, minute: 0, second: 0 }, timeZone);
  return { from, to };
}

const minutes = (seconds: number) => Math.round((seconds / 60) * 10) / 10;

/**
 * Item 2: the daily quick report of a day (Vietnam time) and an area. A run belongs to the day it
 * started; its messages are counted where the subscriber lives (the counters carry province and
 * commune), screens and loudspeakers where they stand, plays by the time they began.
 */
export async function buildDailyReport(
  repository: ReportRepository,
  input: { day: string; area: AreaFilter; timeZone?: string; now?: Date },
): Promise<DailyReport> {
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
  const now = input.now ?? new Date();
  const { area, day } = input;
  const { from, to } = dayWindow(day, timeZone);
  const asOf = now < to ? now : to;
  const runs = await repository.runsStartedBetween(from, to);
  const runById = new Map(runs.map((run) => [run.id, run]));
  const [counters, plays, screens, pauses, entries, failures, outages] = await Promise.all([
    repository.counters(runs.map((r) => r.id), area),
    repository.playsBetween(from, to, area),
    repository.screensIn(area),
    repository.pausesBetween(from, to),
    repository.entries(day, area.key),
    repository.failedAttempts(area.key, previousDay(day)),
    repository.outagesBetween(from, asOf),
  ]);

  // SMS per carrier, and per run × carrier for the failure-rate and ambiguous events.
  const byCarrier = new Map<CarrierId, StateCounts>(CARRIER_IDS.map((c) => [c, zeroCounts()]));
  const byRunCarrier = new Map<string, { runId: number; carrier: CarrierId; counts: StateCounts }>();
  const smsByCommune = new Map<string, { province: string | null; commune: string; sms: number; plays: number }>();
  const runsWithMessages = new Set<number>();
  for (const row of counters) {
    runsWithMessages.add(row.runId);
    if (row.carrier) {
      byCarrier.get(row.carrier)![row.state] += row.count;
      const key = `${row.runId}:${row.carrier}`;
      const entry = byRunCarrier.get(key) ?? { runId: row.runId, carrier: row.carrier, counts: zeroCounts() };
      entry.counts[row.state] += row.count;
      byRunCarrier.set(key, entry);
    }
    if (row.state === 'delivered' && row.commune) {
      const key = `${row.province ?? ''}\u0000${row.commune}`;
      const entry = smsByCommune.get(key) ?? { province: row.province, commune: row.commune, sms: 0, plays: 0 };
      entry.sms += row.count;
      smsByCommune.set(key, entry);
    }
  }
  const carriers = CARRIER_IDS.map((carrier): SmsCarrierLine => {
    const counts = byCarrier.get(carrier)!;
    return { carrier, total: sumCounts(counts), sent: acceptedOf(counts), delivered: counts.delivered, failed: failedOf(counts), ambiguous: counts.ambiguous, unknown: counts.unknown };
  });
  const sms = {
    carriers,
    total: carriers.reduce((n, c) => n + c.total, 0),
    sent: carriers.reduce((n, c) => n + c.sent, 0),
    delivered: carriers.reduce((n, c) => n + c.delivered, 0),
    runs: [...runsWithMessages].sort((a, b) => a - b),
  };

  // Screens by kind and loudspeakers by commune (plays joined to screens where kind = 'loudspeaker').
  const screenKinds = new Map<string, { kind: string; screens: Set<string>; plays: number; seconds: number }>();
  const speakers = new Map<string, { province: string | null; commune: string | null; broadcasts: number; seconds: number }>();
  for (const play of plays) {
    if (play.kind === LOUDSPEAKER_KIND) {
      const key = `${play.province ?? ''}\u0000${play.commune ?? ''}`;
      const entry = speakers.get(key) ?? { province: play.province, commune: play.commune, broadcasts: 0, seconds: 0 };
      entry.broadcasts += play.plays;
      entry.seconds += play.seconds;
      speakers.set(key, entry);
    } else {
      const entry = screenKinds.get(play.kind) ?? { kind: play.kind, screens: new Set<string>(), plays: 0, seconds: 0 };
      entry.screens.add(play.screenId);
      entry.plays += play.plays;
      entry.seconds += play.seconds;
      screenKinds.set(play.kind, entry);
    }
    if (play.commune) {
      const key = `${play.province ?? ''}\u0000${play.commune}`;
      const entry = smsByCommune.get(key) ?? { province: play.province, commune: play.commune, sms: 0, plays: 0 };
      entry.plays += play.plays;
      smsByCommune.set(key, entry);
    }
  }
  const screenLines = [...screenKinds.values()].map((s) => ({ kind: s.kind, screens: s.screens.size, plays: s.plays, minutes: minutes(s.seconds) })).sort((a, b) => a.kind.localeCompare(b.kind));
  const speakerLines = [...speakers.values()]
    .map((s) => ({ province: s.province, commune: s.commune, broadcasts: s.broadcasts, minutes: minutes(s.seconds) }))
    .sort((a, b) => (a.commune ?? '').localeCompare(b.commune ?? ''));
  const loudspeakers = {
    broadcasts: speakerLines.reduce((n, s) => n + s.broadcasts, 0),
    minutes: minutes([...speakers.values()].reduce((n, s) => n + s.seconds, 0)),
    byCommune: speakerLines,
  };

  const manual = entries.map((e) => ({ id: e.id, channel: e.channel, count: e.count, minutes: e.minutes, text: e.text, createdBy: e.createdBy }));
  const total = sms.sent + screenLines.reduce((n, s) => n + s.plays, 0) + loudspeakers.broadcasts + manual.reduce((n, e) => n + e.count, 0);
  const coverageList = [...smsByCommune.values()].sort((a, b) => (a.province ?? '').localeCompare(b.province ?? '') || a.commune.localeCompare(b.commune));

  // Contents: the campaigns that reached the area, what the screens played, the manual entries.
  const contents: DailyReport['contents'] = [];
  const byCampaign = new Map<string, { source: 'campaign'; campaignId: string; name: string; text: string | null; runs: number[] }>();
  for (const runId of sms.runs) {
    const run = runById.get(runId)!;
    const entry = byCampaign.get(run.campaignId) ?? { source: 'campaign' as const, campaignId: run.campaignId, name: run.campaignName, text: campaignText(run.document), runs: [] };
    entry.runs.push(runId);
    byCampaign.set(run.campaignId, entry);
  }
  contents.push(...byCampaign.values());
  const screenTexts = new Map<string, { source: 'screen'; campaignId: string | null; text: string; plays: number }>();
  for (const play of plays) {
    if (!play.text) continue;
    const entry = screenTexts.get(play.text) ?? { source: 'screen' as const, campaignId: play.campaignId, text: play.text, plays: 0 };
    entry.plays += play.plays;
    screenTexts.set(play.text, entry);
  }
  contents.push(...screenTexts.values());
  for (const entry of manual) contents.push({ source: 'manual', channel: entry.channel, text: entry.text });

  // Abnormal events.
  const events: AbnormalEvent[] = [];
  const campaignOf = (runId: number) => runById.get(runId)?.campaignName ?? '';
  const touched = area.communes || area.province ? await repository.runsTouching([...new Set(pauses.map((p) => p.runId))], area) : new Set(pauses.map((p) => p.runId));
  const pausedRuns = await Promise.all([...touched].filter((id) => !runById.has(id)).map((id) => repository.run(id)));
  for (const run of pausedRuns) if (run) runById.set(run.id, run);
  for (const pause of pauses) {
    if (!touched.has(pause.runId)) continue;
    events.push({ type: 'run-paused', runId: pause.runId, campaign: campaignOf(pause.runId), at: pause.at.toISOString(), actor: pause.actor, code: pause.code, reason: pause.reason });
  }
  for (const run of runById.values()) {
    if (run.state === 'paused' && (runsWithMessages.has(run.id) || touched.has(run.id)) && !pauses.some((p) => p.runId === run.id)) {
      events.push({ type: 'run-still-paused', runId: run.id, campaign: run.campaignName, code: run.pausedReason, reason: run.error });
    }
  }
  for (const { runId, carrier, counts } of byRunCarrier.values()) {
    const final = failedOf(counts) + counts.delivered;
    const failed = failedOf(counts);
    if (final > 0 && failed / final >= HIGH_FAILURE_RATE) events.push({ type: 'high-failure-rate', runId, campaign: campaignOf(runId), carrier, failed, final, rate: failed / final });
    if (counts.ambiguous > 0) events.push({ type: 'ambiguous', runId, campaign: campaignOf(runId), carrier, count: counts.ambiguous });
    // Messages still waiting in a run that is sending (a carrier without a bind, a throttle, a pause):
    // the outages below say whether the carrier had a bind.
    const waiting = counts.queued + counts.submitting;
    const state = runById.get(runId)?.state ?? '';
    if (waiting > 0 && (state === 'running' || state === 'paused')) events.push({ type: 'messages-waiting', runId, campaign: campaignOf(runId), carrier, count: waiting, runState: state });
  }
  // A carrier serves every area: each period of the day in which no worker had a bind with it.
  for (const outage of outages) {
    const end = outage.endedAt ?? now;
    events.push({ type: 'carrier-outage', carrier: outage.carrier, startedAt: outage.startedAt.toISOString(), endedAt: outage.endedAt?.toISOString() ?? null, seconds: Math.max(0, Math.round((end.getTime() - outage.startedAt.getTime()) / 1000)) });
  }
  for (const screen of screens) {
    const offline = !screen.lastSeen || asOf.getTime() - screen.lastSeen.getTime() > 3 * screen.pollInterval * 1000;
    if (offline) events.push({ type: 'screen-offline', screenId: screen.id, name: screen.name, kind: screen.kind, commune: screen.commune, lastSeen: screen.lastSeen?.toISOString() ?? null });
  }
  if (failures.length > 0) {
    const last = failures[failures.length - 1]!;
    events.push({ type: 'report-not-sent', day: previousDay(day), attempts: failures.length, lastError: last.error, sentAt: last.sentAt?.toISOString() ?? null });
  }

  return {
    kind: 'daily',
    day,
    timeZone,
    from: from.toISOString(),
    to: to.toISOString(),
    area: { key: area.key, label: area.label, province: area.province, communes: area.communes },
    organisation: area.organisation,
    total,
    sms,
    screens: screenLines,
    loudspeakers,
    manual,
    coverage: { communes: coverageList.length, list: coverageList },
    contents,
    events,
    compiler: { name: area.compilerName, phone: area.compilerPhone },
    generatedAt: now.toISOString(),
  };
}
