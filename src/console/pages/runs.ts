/// <reference lib="dom" />
import { CARRIER_PROFILES } from '../../../adapters/carriers/index.js';
import type { RunErrorCount } from '../../api/routes/console.js';
import type { CarrierProgress, RunStatus } from '../../jobs/engine-contract.js';
import { api, can, describeError } from '../api.js';
import { ask, h, replaceChildren } from '../dom.js';
import { formatDuration, formatNumber, formatTime, t, tOr } from '../i18n.js';
import { runState, type RunView } from './campaigns.js';
import { pausedByMessage } from '../../domain/pause-codes.js';

/** Who paused the run, in the person's language (the code itself when the catalogue has none). */
function pausedBy(code: string): string {
  const message = pausedByMessage(code);
  return message ? t(message.key, 'params' in message ? message.params : undefined) : code;
}

const FINAL = new Set(['completed', 'cancelled', 'failed']);
/** Error groups need a scan of the run's failed messages: every few seconds, not every event. */
const ERRORS_EVERY_MS = 10_000;

function errorsTable(errors: RunErrorCount[]): HTMLElement {
  if (errors.length === 0) return h('p', { class: 'muted' }, t('console.run.noErrors'));
  return h(
    'table',
    { id: 'run-errors' },
    h('thead', {}, h('tr', {}, ...(['carrier', 'code', 'state', 'count', 'meaning'] as const).map((column) => h('th', { scope: 'col' }, t(`console.run.errors.${column}`))))),
    h(
      'tbody',
      {},
      errors.map((error) =>
        h(
          'tr',
          {},
          h('td', {}, error.carrier ?? '—'),
          h('td', {}, error.submitStatus !== null ? `0x${error.submitStatus.toString(16).padStart(8, '0')}` : t('console.run.errors.receipt', { code: error.errorCode ?? '' })),
          h('td', {}, tOr(`console.messageState.${error.state}`, error.state)),
          h('td', { class: 'num' }, formatNumber(error.count)),
          h('td', {}, error.name ? [h('strong', {}, error.name), ' ', error.description ?? ''] : '—'),
        ),
      ),
    ),
  );
}
const CHART_POINTS = 120;

export async function runsPage(main: HTMLElement): Promise<void> {
  const runs = await api<RunView[]>('GET', '/v1/runs?limit=100');
  main.append(
    h('h1', {}, t('console.runs.title')),
    runs.length === 0
      ? h('p', {}, t('console.runs.none'))
      : h(
          'table',
          {},
          h('caption', { class: 'muted' }, t('console.timeZoneNote')),
          h('thead', {}, h('tr', {}, ...(['run', 'campaign', 'state', 'audience', 'started', 'by'] as const).map((column) => h('th', { scope: 'col' }, t(`console.runs.column.${column}`))))),
          h(
            'tbody',
            {},
            runs.map((run) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `#/runs/${run.id}` }, `#${run.id}`)),
                h('td', {}, run.campaignId, run.testList ? h('span', { class: 'muted' }, ` (${t('console.runs.test', { list: run.testList })})`) : null),
                h('td', {}, runState(run.state)),
                h('td', { class: 'num' }, run.audienceSize === null ? '—' : formatNumber(run.audienceSize)),
                h('td', {}, formatTime(run.startedAt ?? run.scheduledFor)),
                h('td', {}, run.launchedBy),
              ),
            ),
          ),
        ),
  );
}

/** What the CLI's `loa status` shows per carrier: sent is everything past the queue; ambiguous and unknown are not failed. */
function figures(progress: CarrierProgress): Record<'sent' | 'delivered' | 'failed' | 'ambiguous', number> {
  const c = progress.counts;
  return {
    sent: progress.total - c.queued - c.submitting,
    delivered: c.delivered,
    failed: c.expired + c.deleted + c.undeliverable + c.rejected + c.failed,
    ambiguous: c.ambiguous + c.unknown,
  };
}

const COLUMNS = ['total', 'sent', 'delivered', 'failed', 'ambiguous', 'rate', 'eta'] as const;

function carrierRow(progress: CarrierProgress): HTMLElement {
  const f = figures(progress);
  const cells: Record<(typeof COLUMNS)[number], string> = {
    total: formatNumber(progress.total),
    sent: formatNumber(f.sent),
    delivered: formatNumber(f.delivered),
    failed: formatNumber(f.failed),
    ambiguous: formatNumber(f.ambiguous),
    rate: formatNumber(progress.submitRate, 1),
    eta: formatDuration(progress.etaSeconds),
  };
  return h('tr', { 'data-carrier': progress.carrier }, h('th', { scope: 'row' }, CARRIER_PROFILES[progress.carrier].name), COLUMNS.map((column) => h('td', { class: 'num', 'data-field': column }, cells[column])));
}

/** Sending (submitted/s) and delivery (delivered/s) rates over the last samples, as two SVG lines. */
function chart(samples: Array<{ at: number; sent: number; delivered: number }>): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('viewBox', '0 0 400 100');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const rates = samples.slice(1).map((sample, i) => {
    const before = samples[i]!;
    const seconds = Math.max((sample.at - before.at) / 1000, 0.001);
    return { sent: (sample.sent - before.sent) / seconds, delivered: (sample.delivered - before.delivered) / seconds };
  });
  const top = Math.max(1, ...rates.map((rate) => Math.max(rate.sent, rate.delivered)));
  svg.setAttribute('aria-label', t('console.run.chartLabel', { max: formatNumber(top, 1) }));
  for (const [series, colour] of [['sent', '#0b5cad'], ['delivered', '#1e6b2b']] as const) {
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', colour);
    line.setAttribute('stroke-width', '2');
    line.setAttribute('points', rates.map((rate, i) => `${(i / Math.max(1, CHART_POINTS - 1)) * 400},${100 - (rate[series] / top) * 95}`).join(' '));
    svg.append(line);
  }
  return svg;
}

export async function runPage(main: HTMLElement, params: string[]): Promise<() => void> {
  const id = Number(params[0]);
  const heading = h('h1', {}, t('console.run.title', { id }));
  const summary = h('div', { id: 'run-summary', 'aria-live': 'polite' });
  const table = h('tbody', {});
  const totals = h('tfoot', {});
  const chartBox = h('div', {});
  const errorsBox = h('div', {});
  let errorsReadAt = 0;
  const readErrors = (): void => {
    errorsReadAt = Date.now();
    void api<RunErrorCount[]>('GET', `/v1/runs/${id}/errors`).then((errors) => replaceChildren(errorsBox, errorsTable(errors)), (error: unknown) => replaceChildren(errorsBox, h('p', { class: 'error' }, describeError(error))));
  };
  const controls = h('div', { class: 'actions' });
  const status = h('p', { role: 'status' });
  const samples: Array<{ at: number; sent: number; delivered: number }> = [];
  let current: RunStatus | undefined;
  main.append(
    heading,
    summary,
    controls,
    status,
    h('table', { id: 'run-carriers' }, h('caption', {}, t('console.run.perCarrier')), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('preview.column.carrier')), COLUMNS.map((column) => h('th', { scope: 'col', class: 'num' }, t(`console.run.column.${column}`))))), table, totals),
    h('h2', {}, t('console.run.errorsTitle')),
    errorsBox,
    h('h2', {}, t('console.run.chart')),
    h('p', { class: 'muted' }, t('console.run.chartLegend')),
    chartBox,
  );

  const act = (action: 'pause' | 'resume' | 'cancel') => async () => {
    if (action === 'cancel') {
      const answer = await ask(t('console.run.cancelTitle', { id }), [h('p', {}, t('console.run.cancelText'))], [
        { label: t('console.no'), value: 'no', kind: 'secondary' },
        { label: t('console.run.cancel'), value: 'yes', kind: 'danger' },
      ]);
      if (answer !== 'yes') return;
    }
    try {
      const result = await api<{ state: string }>('POST', `/v1/runs/${id}/${action}`);
      status.textContent = t('console.run.now', { state: t(`state.${result.state}` as 'state.paused') });
    } catch (error) {
      status.textContent = describeError(error);
    }
  };

  const render = (run: RunStatus): void => {
    current = run;
    const sent = run.carriers.reduce((n, carrier) => n + figures(carrier).sent, 0);
    const delivered = run.carriers.reduce((n, carrier) => n + carrier.counts.delivered, 0);
    samples.push({ at: Date.now(), sent, delivered });
    if (samples.length > CHART_POINTS) samples.shift();
    replaceChildren(
      summary,
      h('p', {}, t('console.run.campaign'), ' ', h('a', { href: `#/campaigns/${run.campaignId}` }, run.campaignId), ' · ', h('span', { id: 'run-state', 'data-state': run.state }, runState(run.state)), run.pausedReason ? ` (${pausedBy(run.pausedReason)})` : ''),
      h('p', {}, t('console.run.audience', { count: run.audienceSize === null ? '—' : formatNumber(run.audienceSize), unroutable: formatNumber(run.unroutable), started: formatTime(run.startedAt), finished: formatTime(run.finishedAt) })),
      run.state === 'scheduled' ? h('p', { class: 'warn', id: 'run-scheduled' }, t('console.run.scheduledFor', { at: formatTime(run.scheduledFor) })) : null,
      run.error ? h('p', { class: 'error' }, run.error) : null,
      h('p', { class: 'muted' }, t('console.run.asOf', { at: formatTime(run.asOf) })),
    );
    replaceChildren(table, run.carriers.map(carrierRow));
    const all: CarrierProgress = {
      carrier: 'viettel',
      total: run.carriers.reduce((n, carrier) => n + carrier.total, 0),
      counts: run.totals,
      submitRate: run.carriers.reduce((n, carrier) => n + carrier.submitRate, 0),
      etaSeconds: Math.max(0, ...run.carriers.map((carrier) => carrier.etaSeconds ?? 0)),
    };
    const totalRow = carrierRow(all);
    totalRow.setAttribute('data-carrier', 'all');
    totalRow.firstElementChild!.textContent = t('console.run.total');
    replaceChildren(totals, totalRow);
    replaceChildren(chartBox, chart(samples));
    if (Date.now() - errorsReadAt >= ERRORS_EVERY_MS || FINAL.has(run.state)) readErrors();
    if (can('operator')) {
      replaceChildren(
        controls,
        run.state === 'running' || run.state === 'compiling' || run.state === 'scheduled' ? h('button', { type: 'button', id: 'pause', class: 'secondary', onclick: act('pause') }, t('console.run.pause')) : null,
        run.state === 'paused' ? h('button', { type: 'button', id: 'resume', onclick: act('resume') }, t('console.run.resume')) : null,
        FINAL.has(run.state) ? null : h('button', { type: 'button', id: 'cancel', class: 'danger', onclick: act('cancel') }, t('console.run.cancel')),
      );
    }
    if (!performance.getEntriesByName('loa:dashboard-rendered').length) performance.mark('loa:dashboard-rendered');
  };

  // Server-sent events: one status a second, then the stream ends when the run is final. A paused
  // run's stream goes on, so resume shows up without a reload.
  let source: EventSource | undefined;
  let stopped = false;
  const connect = (): void => {
    source = new EventSource(`/v1/runs/${id}/events`);
    source.addEventListener('status', (event) => render(JSON.parse((event as MessageEvent<string>).data) as RunStatus));
    source.onerror = () => {
      source?.close();
      if (!stopped && !(current && FINAL.has(current.state))) setTimeout(connect, 2000);
    };
  };
  render(await api<RunStatus>('GET', `/v1/runs/${id}`));
  if (!FINAL.has(current!.state)) connect();
  return () => {
    stopped = true;
    source?.close();
  };
}
