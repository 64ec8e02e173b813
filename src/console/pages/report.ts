/// <reference lib="dom" />
import { api, can, describeError } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { currentLanguage, formatNumber, t, TIME_ZONE } from '../i18n.js';

/** The channels of a manual entry, as POST /v1/reports/entries takes them. */
const CHANNELS = ['web', 'loudspeaker', 'newspaper', 'radio', 'television', 'screen', 'other'] as const;

interface AreaGroup {
  id: string;
  name: string;
  province: string | null;
}
interface Entry {
  id: number;
  channel: string;
  count: number;
  minutes: number | null;
  text: string;
  createdBy: string;
}

/** Today in Vietnam, as the report's date field wants it (YYYY-MM-DD). */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE }).format(new Date());

/**
 * The daily quick report (issue 13 item 7): the service renders it (GET /v1/reports/daily, HTML)
 * and the console shows that page in a frame, so what is printed or downloaded is what is seen.
 * Manual entries (channels Loa does not send through) are added and removed here.
 */
export async function reportPage(main: HTMLElement): Promise<void> {
  const groups = await api<AreaGroup[]>('GET', '/v1/reports/areas');
  const provinces = [...new Set(groups.map((group) => group.province).filter((p): p is string => p !== null))].sort();
  const date = h('input', { type: 'date', id: 'report-date', value: today(), required: true });
  const area = h(
    'select',
    { id: 'report-area' },
    h('option', { value: 'all' }, t('console.report.areaAll')),
    provinces.map((province) => h('option', { value: `province:${province}` }, t('console.report.areaProvince', { province }))),
    groups.map((group) => h('option', { value: `group:${group.id}` }, group.name)),
  );
  const frame = h('iframe', { id: 'report-frame', title: t('console.report.frameTitle'), class: 'report' });
  const downloads = h('span', { class: 'downloads' });
  const entries = h('div', { id: 'report-entries' });
  const status = h('p', { role: 'status', id: 'report-status' });

  const query = (format: string) => `/v1/reports/daily?${new URLSearchParams({ date: date.value, area: area.value, format, lang: currentLanguage() }).toString()}`;
  const refresh = async (): Promise<void> => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) return void ((status.textContent = t('console.report.badDate')), (status.className = 'error'));
    frame.src = query('html');
    replaceChildren(
      downloads,
      h('a', { href: query('html'), download: `bao-cao-${date.value}.html`, id: 'download-html' }, t('console.report.downloadHtml')),
      ' · ',
      h('a', { href: query('csv'), download: `bao-cao-${date.value}.csv`, id: 'download-csv' }, t('console.report.downloadCsv')),
    );
    const list = await api<Entry[]>('GET', `/v1/reports/entries?${new URLSearchParams({ date: date.value, area: area.value }).toString()}`);
    replaceChildren(entries, entryTable(list));
  };
  const guarded = (work: () => Promise<void>) => () => void work().catch((error: unknown) => ((status.textContent = describeError(error)), (status.className = 'error')));

  const entryTable = (list: Entry[]): HTMLElement =>
    list.length === 0
      ? h('p', { class: 'muted' }, t('console.report.noEntries'))
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...(['channel', 'count', 'minutes', 'text', 'by'] as const).map((column) => h('th', { scope: 'col' }, t(`console.report.column.${column}`))), can('operator') ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('console.report.delete'))) : null)),
          h(
            'tbody',
            {},
            list.map((entry) =>
              h(
                'tr',
                { 'data-entry': entry.id },
                h('td', {}, t(`report.channel.${entry.channel}` as Parameters<typeof t>[0])),
                h('td', { class: 'num' }, formatNumber(entry.count)),
                h('td', { class: 'num' }, entry.minutes === null ? '—' : formatNumber(entry.minutes, 1)),
                h('td', {}, entry.text),
                h('td', {}, entry.createdBy),
                can('operator')
                  ? h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': t('console.report.deleteEntry', { id: entry.id }), onclick: guarded(async () => {
                      await api('DELETE', `/v1/reports/entries/${entry.id}`);
                      await refresh();
                      status.textContent = t('console.report.deleted');
                      status.className = 'ok';
                    }) }, t('console.report.delete')))
                  : null,
              ),
            ),
          ),
        );

  const channel = h('select', { id: 'entry-channel' }, CHANNELS.map((value) => h('option', { value }, t(`report.channel.${value}`))));
  const count = h('input', { type: 'number', id: 'entry-count', min: '0', max: '1000000', step: '1', value: '1', required: true });
  const minutes = h('input', { type: 'number', id: 'entry-minutes', min: '0', max: '1000000', step: '0.5' });
  const text = h('textarea', { id: 'entry-text', rows: '3', maxlength: '2000', required: true });
  const addForm = h(
    'form',
    {
      id: 'entry-form',
      onsubmit: (event) => {
        event.preventDefault();
        guarded(async () => {
          const body = { date: date.value, area: area.value, channel: channel.value, count: Number(count.value), text: text.value.trim(), ...(minutes.value ? { minutes: Number(minutes.value) } : {}) };
          await api('POST', '/v1/reports/entries', body);
          text.value = '';
          await refresh();
          status.textContent = t('console.report.added');
          status.className = 'ok';
        })();
      },
    },
    h('h2', {}, t('console.report.addTitle')),
    h('label', { for: 'entry-channel' }, t('console.report.column.channel')),
    channel,
    h('label', { for: 'entry-count' }, t('console.report.column.count')),
    count,
    h('label', { for: 'entry-minutes' }, t('console.report.minutesOptional')),
    minutes,
    h('label', { for: 'entry-text' }, t('console.report.column.text')),
    text,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'add-entry' }, t('console.report.add'))),
  );

  const reselect = guarded(async () => {
    status.textContent = '';
    await refresh();
  });
  date.addEventListener('change', reselect);
  area.addEventListener('change', reselect);
  main.append(
    h('h1', {}, t('console.report.title')),
    h(
      'div',
      { class: 'grid2 no-print' },
      h('div', {}, h('label', { for: 'report-date' }, t('console.report.date')), date),
      h('div', {}, h('label', { for: 'report-area' }, t('console.report.area')), area),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'print-report', class: 'secondary', onclick: () => frame.contentWindow?.print() }, t('console.report.print')), downloads),
    status,
    frame,
    h('section', { class: 'no-print', 'aria-labelledby': 'entries-title' }, h('h2', { id: 'entries-title' }, t('console.report.entriesTitle')), entries, can('operator') ? addForm : null),
  );
  await refresh();
}
