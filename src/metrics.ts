import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CARRIER_IDS } from './domain/carrier.js';
import { isFinal } from './domain/message-state.js';
import type { TransportSnapshot } from './jobs/bind-state.js';
import type { ActiveRunCount } from './store/run-progress.repository.js';

/** One Prometheus registry per process, passed to whoever records figures and to GET /metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'loa' });
  collectDefaultMetrics({ register: registry, prefix: 'loa_' });
  return registry;
}

const SCRAPE_MS = 250;

/** `read` once per `ms`: callers within it share the answer; a failure answers null. */
function sharedFor<T>(ms: number, read: () => Promise<T>): () => Promise<T | null> {
  let last: { at: number; value: Promise<T | null> } | null = null;
  return () => {
    const now = performance.now();
    if (!last || now - last.at > ms) last = { at: now, value: read().catch(() => null) };
    return last.value;
  };
}

/** Where the API process reads the figures that live elsewhere (workers via Redis, runs in PostgreSQL). */
export interface TransportMetricsSources {
  /** BindStateReader.read. */
  transport(): Promise<TransportSnapshot>;
  /** RunProgressRepository.activeRunCounts. */
  activeRunCounts(): Promise<ActiveRunCount[]>;
}

/**
 * Per-carrier binds, submits, throttles, receipts and queue depth, and per-run progress (issue 9
 * item 9). Read when scraped, from what every worker published, so any API process answers for
 * all of them. A source that fails leaves its metrics out of that scrape (never a 500).
 */
export function registerTransportMetrics(registry: Registry, sources: TransportMetricsSources): void {
  // One read per scrape, shared by the metrics it feeds (a scrape collects them all at once).
  const readTransport = sharedFor(SCRAPE_MS, () => sources.transport());
  const readRuns = sharedFor(SCRAPE_MS, () => sources.activeRunCounts());

  new Gauge({
    name: 'loa_carrier_binds',
    help: 'SMPP binds up now per carrier, over every worker process',
    labelNames: ['carrier'],
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await readTransport();
      if (snapshot) for (const id of CARRIER_IDS) this.set({ carrier: id }, snapshot.carriers[id].bound);
    },
  });
  new Gauge({
    name: 'loa_carrier_binds_allowed',
    help: 'SMPP binds the carrier allows',
    labelNames: ['carrier'],
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await readTransport();
      if (snapshot) for (const id of CARRIER_IDS) this.set({ carrier: id }, snapshot.carriers[id].allowed);
    },
  });
  new Counter({
    name: 'loa_carrier_submits_total',
    help: 'submit_sm results per carrier: submitted (ESME_ROK), refused (an error status other than throttling), ambiguous (no answer)',
    labelNames: ['carrier', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await readTransport();
      if (!snapshot) return;
      for (const id of CARRIER_IDS) {
        const counters = snapshot.counters[id];
        this.inc({ carrier: id, result: 'submitted' }, counters.submitted);
        this.inc({ carrier: id, result: 'refused' }, counters.refused);
        this.inc({ carrier: id, result: 'ambiguous' }, counters.ambiguous);
      }
    },
  });
  new Counter({
    name: 'loa_carrier_throttles_total',
    help: 'submit_sm answered ESME_RTHROTTLED (0x58) per carrier',
    labelNames: ['carrier'],
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await readTransport();
      if (snapshot) for (const id of CARRIER_IDS) this.inc({ carrier: id }, snapshot.counters[id].throttled);
    },
  });
  new Counter({
    name: 'loa_carrier_receipts_total',
    help: 'Delivery receipts received per carrier',
    labelNames: ['carrier'],
    registers: [registry],
    async collect() {
      this.reset();
      const snapshot = await readTransport();
      if (snapshot) for (const id of CARRIER_IDS) this.inc({ carrier: id }, snapshot.counters[id].receipts);
    },
  });
  new Gauge({
    name: 'loa_carrier_queue_depth',
    help: 'Messages queued (not yet claimed) per carrier over the runs that are not over',
    labelNames: ['carrier'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await readRuns();
      if (!rows) return;
      const depth = Object.fromEntries(CARRIER_IDS.map((id) => [id, 0]));
      for (const row of rows) if (row.state === 'queued' && row.carrier) depth[row.carrier] = (depth[row.carrier] ?? 0) + row.count;
      for (const [carrier, value] of Object.entries(depth)) this.set({ carrier }, value);
    },
  });
  new Gauge({
    name: 'loa_run_messages',
    help: 'Messages per state of each run that is not over (compiling, running, paused)',
    labelNames: ['run', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await readRuns();
      if (!rows) return;
      const byRunState = new Map<string, number>();
      for (const row of rows) {
        const key = `${row.runId}\u0000${row.state}`;
        byRunState.set(key, (byRunState.get(key) ?? 0) + row.count);
      }
      for (const [key, value] of byRunState) {
        const [run, state] = key.split('\u0000') as [string, string];
        this.set({ run, state }, value);
      }
    },
  });
  new Gauge({
    name: 'loa_run_progress_ratio',
    help: 'Share of each unfinished run’s messages in a final state (0 to 1)',
    labelNames: ['run'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await readRuns();
      if (!rows) return;
      const totals = new Map<number, { all: number; final: number }>();
      for (const row of rows) {
        const total = totals.get(row.runId) ?? { all: 0, final: 0 };
        total.all += row.count;
        if (isFinal(row.state)) total.final += row.count;
        totals.set(row.runId, total);
      }
      for (const [runId, total] of totals) this.set({ run: String(runId) }, total.all > 0 ? total.final / total.all : 0);
    },
  });
}
