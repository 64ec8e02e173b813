/// <reference lib="dom" />
import { api, can, describeError, upload } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { formatNumber, formatTime, t, tOr } from '../i18n.js';

interface ListsView {
  lists: Array<{ id: string; name: string; createdAt: string; subscribers: number }>;
  optOuts: number;
}

interface ImportReport {
  rows: number;
  loaded: number;
  rejected: number;
  inserted: number;
  updated: number;
  unchanged: number;
  removed: number;
  rejectedByReason: Record<string, number>;
  rejectedLines: Array<{ line: number; reason: string; value?: string }>;
  list?: { id: string; subscribers: number };
}

interface Breakdown {
  listId: string;
  subscribers: number;
  optedOut: number;
  ported: number;
  carriers: Record<string, number>;
  communes: Array<{ province: string | null; commune: string | null; subscribers: number }>;
}

function breakdownView(breakdown: Breakdown): HTMLElement {
  return h(
    'div',
    { id: 'breakdown', class: 'card' },
    h('h2', {}, t('console.audience.breakdownTitle', { id: breakdown.listId })),
    h('p', {}, t('console.audience.breakdownSummary', { subscribers: formatNumber(breakdown.subscribers), optedOut: formatNumber(breakdown.optedOut), ported: formatNumber(breakdown.ported) })),
    h(
      'div',
      { class: 'grid2' },
      h(
        'table',
        { id: 'breakdown-carriers' },
        h('caption', {}, t('console.audience.byCarrier')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('preview.column.carrier')), h('th', { scope: 'col', class: 'num' }, t('console.audience.column.subscribers')))),
        h('tbody', {}, Object.entries(breakdown.carriers).map(([carrier, count]) => h('tr', { 'data-carrier': carrier }, h('th', { scope: 'row' }, carrier), h('td', { class: 'num' }, formatNumber(count))))),
      ),
      h(
        'table',
        { id: 'breakdown-communes' },
        h('caption', {}, t('console.audience.byCommune')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('console.audience.province')), h('th', { scope: 'col' }, t('console.audience.commune')), h('th', { scope: 'col', class: 'num' }, t('console.audience.column.subscribers')))),
        h('tbody', {}, breakdown.communes.map((area) => h('tr', {}, h('td', {}, area.province ?? '—'), h('td', {}, area.commune ?? '—'), h('td', { class: 'num' }, formatNumber(area.subscribers))))),
      ),
    ),
  );
}

function listsTable(view: ListsView, show: (id: string) => void): HTMLElement {
  return h(
    'table',
    { id: 'lists' },
    h('caption', {}, t('console.audience.optOuts', { count: formatNumber(view.optOuts) })),
    h('thead', {}, h('tr', {}, ...(['id', 'name', 'subscribers', 'created'] as const).map((column) => h('th', { scope: 'col' }, t(`console.audience.column.${column}`))), h('th', { scope: 'col' }, t('console.audience.column.details')))),
    h(
      'tbody',
      {},
      view.lists.map((list) => h('tr', { 'data-list': list.id }, h('td', {}, list.id), h('td', {}, list.name), h('td', { class: 'num', 'data-field': 'subscribers' }, formatNumber(list.subscribers)), h('td', {}, formatTime(list.createdAt)), h('td', {}, h('button', { type: 'button', class: 'secondary', 'data-breakdown': list.id, onclick: () => show(list.id) }, t('console.audience.showBreakdown', { id: list.id }))))),
    ),
  );
}

function reportView(report: ImportReport): HTMLElement {
  return h(
    'div',
    { id: 'import-report', class: 'card' },
    h('p', { class: 'ok' }, t('console.audience.result', { rows: formatNumber(report.rows), loaded: formatNumber(report.loaded), rejected: formatNumber(report.rejected), inserted: formatNumber(report.inserted), updated: formatNumber(report.updated), removed: formatNumber(report.removed) })),
    Object.keys(report.rejectedByReason).length > 0
      ? h('ul', {}, Object.entries(report.rejectedByReason).map(([reason, count]) => h('li', {}, `${tOr(`import.reason.${reason}`, reason, { value: '' })}: ${formatNumber(count)}`)))
      : null,
    report.rejectedLines.length > 0
      ? h('ul', { class: 'muted' }, report.rejectedLines.map((line) => h('li', {}, t('console.audience.badLine', { line: line.line, value: line.value ?? '', reason: tOr(`import.reason.${line.reason}`, line.reason, { value: line.value ?? '' }) }))))
      : null,
  );
}

/** Lists, and a CSV upload with a progress bar: to a list, or to the opt-out register. */
export async function audiencePage(main: HTMLElement): Promise<void> {
  const listsBox = h('div', {});
  const breakdownBox = h('div', { 'aria-live': 'polite' });
  const show = (id: string) =>
    void api<Breakdown>('GET', `/v1/lists/${id}/breakdown`).then(
      (breakdown) => replaceChildren(breakdownBox, breakdownView(breakdown)),
      (error: unknown) => replaceChildren(breakdownBox, h('p', { class: 'error' }, describeError(error))),
    );
  const refresh = async () => replaceChildren(listsBox, listsTable(await api<ListsView>('GET', '/v1/lists'), show));
  await refresh();
  main.append(h('h1', {}, t('console.audience.title')), listsBox, breakdownBox);
  if (!can('operator')) return;
  const target = h('select', { id: 'upload-target' }, h('option', { value: 'list' }, t('console.audience.toList')), h('option', { value: 'optouts' }, t('console.audience.toOptOuts')));
  const listId = h('input', { type: 'text', id: 'upload-list', pattern: '[a-z0-9][a-z0-9-]*', 'aria-describedby': 'upload-list-help' });
  const file = h('input', { type: 'file', id: 'upload-file', accept: '.csv,text/csv' });
  const replace = h('input', { type: 'checkbox', id: 'upload-replace' });
  const progress = h('progress', { id: 'upload-progress', max: '100', value: '0', 'aria-label': t('console.audience.progress') });
  const result = h('div', { role: 'status' });
  const form = h(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen) return void (result.textContent = t('console.audience.noFile'));
        if (target.value === 'list' && !/^[a-z0-9][a-z0-9-]*$/.test(listId.value)) return void (result.textContent = t('console.audience.badListId'));
        const path = target.value === 'list' ? `/v1/lists/${listId.value}/import${replace.checked ? '?replace=true' : ''}` : '/v1/optouts/import';
        result.textContent = t('console.working');
        upload<ImportReport>(path, chosen, (fraction) => (progress.value = Math.round(fraction * 100))).then(
          async (report) => {
            replaceChildren(result, reportView(report));
            await refresh();
          },
          (error: unknown) => replaceChildren(result, h('p', { class: 'error' }, describeError(error))),
        );
      },
    },
    h('h2', {}, t('console.audience.upload')),
    h('label', { for: 'upload-target' }, t('console.audience.target')),
    target,
    h('label', { for: 'upload-list' }, t('console.audience.listId')),
    listId,
    h('p', { class: 'muted', id: 'upload-list-help' }, t('console.audience.listIdHelp')),
    h('label', { for: 'upload-file' }, t('console.audience.file')),
    file,
    h('label', { for: 'upload-replace', style: 'font-weight:normal' }, replace, ' ', t('console.audience.replace')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'upload' }, t('console.audience.send'))),
    progress,
    result,
  );
  main.append(form);
}
