/// <reference lib="dom" />
import { api, ApiError, can, describeError } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { listenControl } from '../listen.js';

interface Window {
  from: string;
  to: string;
}
interface LoudspeakerView {
  id: string;
  name: string;
  province: string | null;
  commune: string | null;
  hamlet: string | null;
  airtime: Window[];
  blackout: Window[];
  lastSeen: string | null;
  status: 'online' | 'offline' | 'never';
}

interface Schedule {
  now: string;
  loudspeaker: { timeZone: string };
  slots: Array<{ start: string; duration: number; priority: 'normal' | 'urgent'; text: string | null; campaignId: string | null }>;
  unplaced: Array<{ day: string; count: number }>;
}

const WINDOW = /^([01]\d|2[0-3]):[0-5]\d$/;
const windowsText = (windows: Window[]) => windows.map((w) => `${w.from}–${w.to}`).join(', ') || '—';

/** "17:00-17:30, 06:00-06:30" → windows; a bad one throws naming the field and the window. */
export function parseWindows(text: string, field: string): Window[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [from = '', to = ''] = part.split(/\s*[-–]\s*/);
      if (!WINDOW.test(from) || !WINDOW.test(to)) throw new Error(t('console.loudspeakers.badWindow', { field, value: part }));
      return { from, to };
    });
}

/** Today's broadcasts of a cluster (its local day), loaded when the person opens them. */
function todaySchedule(id: string): HTMLElement {
  const body = h('div', {});
  let loaded = false;
  const details = h('details', { 'data-schedule': id }, h('summary', {}, t('console.loudspeakers.today')), body);
  details.addEventListener('toggle', () => {
    if (!details.open || loaded) return;
    loaded = true;
    api<Schedule>('GET', `/v1/loudspeakers/${id}/schedule`).then(
      (schedule) => {
        const zone = schedule.loudspeaker.timeZone;
        const day = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(iso));
        const clock = new Intl.DateTimeFormat('vi-VN', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
        const today = day(schedule.now);
        const slots = schedule.slots.filter((slot) => day(slot.start) === today);
        const unplaced = schedule.unplaced.filter((entry) => entry.day === today).reduce((sum, entry) => sum + entry.count, 0);
        replaceChildren(
          body,
          slots.length === 0
            ? h('p', { class: 'muted' }, t('console.loudspeakers.noneToday'))
            : h('ul', {}, slots.map((slot) => h('li', {}, `${clock.format(new Date(slot.start))} (${Math.round(slot.duration)} s) `, slot.priority === 'urgent' ? h('strong', {}, t('console.loudspeakers.urgent'), ' ') : '', slot.text ?? slot.campaignId ?? ''))),
          unplaced > 0 ? h('p', { class: 'warn' }, t('console.loudspeakers.unplaced', { count: unplaced })) : '',
        );
      },
      (error: unknown) => replaceChildren(body, h('p', { class: 'error' }, describeError(error))),
    );
  });
  return details;
}

/** Register a cluster (admins): its token and player URL are shown this once, never again. */
function addForm(onAdded: () => Promise<unknown>): HTMLElement {
  const field = (id: string, attrs: Record<string, string | boolean> = {}) => h('input', { type: 'text', id, ...attrs });
  const id = field('ls-id', { pattern: '[a-z0-9][a-z0-9-]*', required: true });
  const name = field('ls-name', { required: true });
  const province = field('ls-province');
  const commune = field('ls-commune', { required: true });
  const airtime = field('ls-airtime', { required: true, placeholder: '06:00-06:30, 17:00-17:30', 'aria-describedby': 'ls-windows-help' });
  const blackout = field('ls-blackout', { placeholder: '21:00-05:00', 'aria-describedby': 'ls-windows-help' });
  const result = h('div', { role: 'status' });
  const label = (target: string, key: Parameters<typeof t>[0]) => h('label', { for: target }, t(key));
  return h(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault();
        let body: Record<string, unknown>;
        try {
          body = {
            id: id.value.trim(),
            name: name.value.trim(),
            commune: commune.value.trim(),
            airtime: parseWindows(airtime.value, t('console.loudspeakers.column.airtime')),
            blackout: parseWindows(blackout.value, t('console.loudspeakers.column.blackout')),
            ...(province.value.trim() ? { province: province.value.trim() } : {}),
          };
        } catch (error) {
          return void replaceChildren(result, h('p', { class: 'error' }, (error as Error).message));
        }
        api<{ loudspeaker: { id: string }; token: string }>('POST', '/v1/loudspeakers', body).then(
          (added) => {
            const player = `${location.origin}/v1/loudspeakers/${added.loudspeaker.id}/player?token=${encodeURIComponent(added.token)}`;
            replaceChildren(result, h('div', { class: 'card', id: 'ls-token' }, h('p', {}, t('console.loudspeakers.tokenOnce')), h('p', {}, t('console.screens.token'), ' ', h('code', {}, added.token)), h('p', {}, t('console.screens.player'), ' ', h('code', {}, player))));
            // The registry shows the new cluster; the token stays on screen whatever happens.
            onAdded().catch((error: unknown) => result.append(h('p', { class: 'error' }, describeError(error))));
          },
          (error: unknown) => replaceChildren(result, h('p', { class: 'error' }, describeError(error))),
        );
      },
    },
    h('h2', {}, t('console.loudspeakers.add')),
    label('ls-id', 'console.screens.column.id'),
    id,
    label('ls-name', 'console.screens.column.name'),
    name,
    label('ls-province', 'console.audience.province'),
    province,
    label('ls-commune', 'console.loudspeakers.commune'),
    commune,
    label('ls-airtime', 'console.loudspeakers.column.airtime'),
    airtime,
    label('ls-blackout', 'console.loudspeakers.column.blackout'),
    blackout,
    h('p', { class: 'muted', id: 'ls-windows-help' }, t('console.loudspeakers.windowsHelp')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'add-loudspeaker' }, t('console.screens.addButton'))),
    result,
  );
}

/** The registry table: one row per cluster, its windows and today's broadcasts. */
function registryTable(clusters: LoudspeakerView[]): HTMLElement {
  return (
    clusters.length === 0
      ? h('p', {}, t('console.loudspeakers.none'))
      : h(
          'table',
          { id: 'loudspeakers' },
          h('caption', { class: 'muted' }, t('console.loudspeakers.caption')),
          h('thead', {}, h('tr', {}, ...(['id', 'name', 'area', 'status', 'lastSeen'] as const).map((column) => h('th', { scope: 'col' }, t(`console.screens.column.${column}`))), h('th', { scope: 'col' }, t('console.loudspeakers.column.airtime')), h('th', { scope: 'col' }, t('console.loudspeakers.column.blackout')), h('th', { scope: 'col' }, t('console.loudspeakers.column.schedule')))),
          h(
            'tbody',
            {},
            clusters.map((cluster) =>
              h(
                'tr',
                { 'data-loudspeaker': cluster.id },
                h('td', {}, cluster.id),
                h('td', {}, cluster.name),
                h('td', {}, [cluster.province, cluster.commune, cluster.hamlet].filter(Boolean).join(' · ') || '—'),
                h('td', {}, h('span', { class: `state ${cluster.status === 'online' ? 'ok' : 'muted'}` }, t(`console.screens.status.${cluster.status}`))),
                h('td', {}, formatTime(cluster.lastSeen)),
                h('td', {}, windowsText(cluster.airtime)),
                h('td', {}, windowsText(cluster.blackout)),
                h('td', {}, todaySchedule(cluster.id)),
              ),
            ),
          ),
        )
  );
}

/** The loudspeaker registry (operators; GET /v1/loudspeakers) and "listen" to any text. */
export async function loudspeakersPage(main: HTMLElement): Promise<void> {
  main.append(h('h1', {}, t('console.loudspeakers.title')));
  if (!can('operator')) return void main.append(h('p', {}, t('console.screens.operatorOnly')));
  const registry = h('div', { id: 'loudspeaker-registry' });
  // A service started without the screens' Redis channel has no /v1/loudspeakers.
  const loadRegistry = async (): Promise<boolean> => {
    let clusters: LoudspeakerView[];
    try {
      clusters = await api<LoudspeakerView[]>('GET', '/v1/loudspeakers');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
    replaceChildren(registry, registryTable(clusters));
    return true;
  };
  if (!(await loadRegistry())) return void main.append(h('p', {}, t('console.screens.notEnabled')));
  const sample = h('textarea', { id: 'listen-text', rows: '3' });
  main.append(
    registry,
    h('h2', {}, t('console.listen.title')),
    h('label', { for: 'listen-text' }, t('console.listen.text')),
    sample,
    listenControl(() => sample.value, t('console.listen.title')),
    can('admin') ? addForm(loadRegistry) : '',
  );
}
