import { createHash } from 'node:crypto';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';
import { NotFoundError } from '../errors.js';
import type { RunState } from '../store/database.js';
import type { CounterRow, ReportRepository, RunRow, RunScan } from './report.repository.js';
import { ACCEPTED_STATES, acceptedOf, failedOf, sumCounts, zeroCounts, type StateCounts } from './states.js';

/** At most this many points on the timeline chart. */
const TIMELINE_POINTS = 60;

export interface CarrierLine {
  carrier: CarrierId;
  total: number;
  counts: StateCounts;
  /** Accepted by the SMSC (submitted or later, ambiguous excluded). */
  accepted: number;
  delivered: number;
  failed: number;
  /** delivered / total of this carrier's messages (0 when none). */
  deliveryRate: number;
  /** Segments the SMSC accepted: the cost. */
  segments: number;
  /** Segments of ambiguous messages: they may or may not have been billed. */
  ambiguousSegments: number;
}

export interface AreaLine {
  province: string | null;
  commune: string | null;
  total: number;
  delivered: number;
  counts: StateCounts;
}

export interface ErrorLine {
  carrier: CarrierId | null;
  code: string;
  name: string;
  meaning: string;
  count: number;
}

export interface RunReport {
  kind: 'run';
  runId: number;
  campaign: { id: string; name: string; text: string | null };
  state: RunState;
  error: string | null;
  pausedReason: string | null;
  audienceSize: number | null;
  scheduledFor: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Sum of every state: equals audienceSize once compiled. */
  total: number;
  totals: StateCounts;
  carriers: CarrierLine[];
  unroutable: number;
  cancelled: number;
  /** Shown apart: may have reached the handset (ambiguous: sent or not; unknown: no receipt in time). */
  uncertain: { ambiguous: Partial<Record<CarrierId, number>>; unknown: Partial<Record<CarrierId, number>> };
  areas: AreaLine[];
  timeline: { start: string; bucketSeconds: number; points: Array<{ at: string; submitted: number; delivered: number }> };
  /** SMSC refusals (submit_sm command_status) with the carrier profile's meaning. */
  smppErrors: ErrorLine[];
  /** Receipt error codes (the receipt's err: field); carrier profiles do not document them. */
  receiptErrors: Array<ErrorLine & { state: MessageState }>;
  screens: { plays: number; seconds: number; byScreen: Array<{ screenId: string; name: string; kind: string; plays: number; seconds: number }> };
  control: Array<{ at: string; action: string; actor: string; code: string | null; reason: string | null }>;
  generatedAt: string;
}

export function campaignText(document: Record<string, unknown>): string | null {
  const message = document.message as { text?: unknown } | undefined;
  return typeof message?.text === 'string' ? message.text : null;
}

/** Item 1: a run's report from its counters (timeline included), plus one read of its messages that carry an error code. */
export async function buildRunReport(repository: ReportRepository, runId: number, now: Date = new Date()): Promise<RunReport> {
  const run = await repository.run(runId);
  if (!run) throw new NotFoundError(`run ${runId}`);
  const start = run.startedAt ?? run.scheduledFor;
  // A finished run's timeline ends when it finished; an unfinished one's now (no second scan for its last event).
  const last = run.finishedAt ?? now;
  const end = new Date(Math.max(start.getTime() + 1000, last.getTime()));
  const bucketSeconds = Math.max(1, Math.ceil((end.getTime() - start.getTime()) / 1000 / TIMELINE_POINTS));
  const [counters, plays, control] = await Promise.all([repository.counters([runId]), repository.runPlays(runId), repository.runControlHistory(runId)]);
  const scan = await scanOnce(repository, run, counters, start, bucketSeconds);
  const events = scan.timeline;
  const errors = scan.errors;

  const totals = zeroCounts();
  const perCarrier = new Map<CarrierId, { counts: StateCounts; segments: number; ambiguousSegments: number }>();
  for (const carrier of CARRIER_IDS) perCarrier.set(carrier, { counts: zeroCounts(), segments: 0, ambiguousSegments: 0 });
  const areas = new Map<string, AreaLine>();
  for (const row of counters) {
    totals[row.state] += row.count;
    if (row.carrier) {
      const entry = perCarrier.get(row.carrier)!;
      entry.counts[row.state] += row.count;
      if (ACCEPTED_STATES.has(row.state)) entry.segments += row.segments;
      if (row.state === 'ambiguous') entry.ambiguousSegments += row.segments;
    }
    const key = `${row.province ?? ''}\u0000${row.commune ?? ''}`;
    let area = areas.get(key);
    if (!area) areas.set(key, (area = { province: row.province, commune: row.commune, total: 0, delivered: 0, counts: zeroCounts() }));
    area.counts[row.state] += row.count;
    area.total += row.count;
    if (row.state === 'delivered') area.delivered += row.count;
  }
  const carriers = CARRIER_IDS.map((carrier): CarrierLine => {
    const { counts, segments, ambiguousSegments } = perCarrier.get(carrier)!;
    const total = sumCounts(counts);
    return { carrier, total, counts, accepted: acceptedOf(counts), delivered: counts.delivered, failed: failedOf(counts), deliveryRate: total === 0 ? 0 : counts.delivered / total, segments, ambiguousSegments };
  });
  const uncertain = { ambiguous: {} as Partial<Record<CarrierId, number>>, unknown: {} as Partial<Record<CarrierId, number>> };
  for (const line of carriers) {
    if (line.counts.ambiguous > 0) uncertain.ambiguous[line.carrier] = line.counts.ambiguous;
    if (line.counts.unknown > 0) uncertain.unknown[line.carrier] = line.counts.unknown;
  }

  const buckets = Math.max(1, Math.ceil((end.getTime() - start.getTime()) / 1000 / bucketSeconds), ...events.map((e) => e.bucket + 1));
  const points = Array.from({ length: buckets }, (_, i) => ({ at: new Date(start.getTime() + i * bucketSeconds * 1000).toISOString(), submitted: 0, delivered: 0 }));
  for (const event of events) points[event.bucket]![event.kind] += event.count;

  const smppErrors = new Map<string, ErrorLine>();
  const receiptErrors: RunReport['receiptErrors'] = [];
  for (const row of errors) {
    if (row.submitStatus !== null) {
      const key = `${row.carrier}:${row.submitStatus}`;
      const existing = smppErrors.get(key);
      if (existing) existing.count += row.count;
      else {
        const meaning = row.carrier ? CARRIER_PROFILES[row.carrier].errorMeaning(row.submitStatus) : undefined;
        smppErrors.set(key, { carrier: row.carrier, code: `0x${row.submitStatus.toString(16).padStart(8, '0')}`, name: meaning?.name ?? '', meaning: meaning?.description ?? '', count: row.count });
      }
    }
    if (row.errorCode !== null) receiptErrors.push({ carrier: row.carrier, state: row.state, code: row.errorCode, name: '', meaning: '', count: row.count });
  }

  return {
    kind: 'run',
    runId: run.id,
    campaign: { id: run.campaignId, name: run.campaignName, text: campaignText(run.document) },
    state: run.state,
    error: run.error,
    pausedReason: run.state === 'paused' ? run.pausedReason : null,
    audienceSize: run.audienceSize,
    scheduledFor: run.scheduledFor.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    total: sumCounts(totals),
    totals,
    carriers,
    unroutable: totals.unroutable,
    cancelled: totals.cancelled,
    uncertain,
    areas: [...areas.values()].sort((a, b) => (a.province ?? '\uffff').localeCompare(b.province ?? '\uffff') || (a.commune ?? '\uffff').localeCompare(b.commune ?? '\uffff')),
    timeline: { start: start.toISOString(), bucketSeconds, points },
    smppErrors: [...smppErrors.values()].sort((a, b) => b.count - a.count).slice(0, 10),
    receiptErrors: receiptErrors.slice(0, 10),
    screens: {
      plays: plays.reduce((n, p) => n + p.plays, 0),
      seconds: plays.reduce((n, p) => n + p.seconds, 0),
      byScreen: mergeByScreen(plays),
    },
    control: control.map((c) => ({ at: c.at.toISOString(), action: c.action, actor: c.actor, code: c.code, reason: c.reason })),
    generatedAt: now.toISOString(),
  };
}

/**
 * The timeline comes from the counters; the error codes from the one read of the run's messages
 * that carry one. That read (and, for a run older than 0016, a full scan for the timeline too) is
 * kept for a finished run with the counters it agreed with: while they are unchanged the messages
 * are too (every state change moves a counter), so the kept result is reused; a late receipt
 * changes them and the next report reads again. A run still sending is always read.
 */
async function scanOnce(repository: ReportRepository, run: RunRow, counters: readonly CounterRow[], start: Date, bucketSeconds: number): Promise<RunScan> {
  const missing = await repository.timelineMissing(run.id);
  const read = async (): Promise<RunScan> =>
    missing ? repository.scanRun(run.id, start, bucketSeconds) : { timeline: [], errors: await repository.errorScan(run.id) };
  const withTimeline = async (scan: RunScan): Promise<RunScan> =>
    missing ? scan : { timeline: await repository.countedTimeline(run.id, start, bucketSeconds), errors: scan.errors };
  const finished = run.finishedAt !== null && ['completed', 'cancelled', 'failed'].includes(run.state);
  if (!finished) return withTimeline(await read());
  const signature = createHash('sha256')
    .update(`${missing ? 'scan' : 'errors'}|${start.toISOString()}|${bucketSeconds}|`)
    .update(counters.map((c) => `${c.carrier}:${c.province}:${c.commune}:${c.state}:${c.count}`).sort().join(','))
    .digest('hex');
  const kept = await repository.cachedScan(run.id, signature);
  if (kept) return withTimeline(kept);
  const scan = await read();
  await repository.keepScan(run.id, signature, scan);
  return withTimeline(scan);
}

function mergeByScreen(plays: ReadonlyArray<{ screenId: string; screenName: string; kind: string; plays: number; seconds: number }>) {
  const byScreen = new Map<string, { screenId: string; name: string; kind: string; plays: number; seconds: number }>();
  for (const play of plays) {
    const entry = byScreen.get(play.screenId) ?? { screenId: play.screenId, name: play.screenName, kind: play.kind, plays: 0, seconds: 0 };
    entry.plays += play.plays;
    entry.seconds += play.seconds;
    byScreen.set(play.screenId, entry);
  }
  return [...byScreen.values()];
}
