/// <reference lib="dom" />
import { api, ApiError, can } from '../api.js';
import { h } from '../dom.js';
import { formatTime, t } from '../i18n.js';

interface ScreenView {
  id: string;
  name: string;
  kind: string;
  province: string | null;
  commune: string | null;
  location: string | null;
  lastSeen: string | null;
  status: 'online' | 'offline' | 'never';
}

/** The screens registry (operators read it; GET /v1/screens needs the operator role). */
export async function screensPage(main: HTMLElement): Promise<void> {
  main.append(h('h1', {}, t('console.screens.title')));
  if (!can('operator')) return void main.append(h('p', {}, t('console.screens.operatorOnly')));
  let screens: ScreenView[];
  try {
    screens = await api<ScreenView[]>('GET', '/v1/screens');
  } catch (error) {
    // A service started without the screens' Redis channel has no /v1/screens.
    if (error instanceof ApiError && error.status === 404) return void main.append(h('p', {}, t('console.screens.notEnabled')));
    throw error;
  }
  main.append(
    screens.length === 0
      ? h('p', {}, t('console.screens.none'))
      : h(
          'table',
          { id: 'screens' },
          h('caption', { class: 'muted' }, t('console.timeZoneNote')),
          h('thead', {}, h('tr', {}, ...(['id', 'name', 'kind', 'area', 'status', 'lastSeen'] as const).map((column) => h('th', { scope: 'col' }, t(`console.screens.column.${column}`))))),
          h(
            'tbody',
            {},
            screens.map((screen) =>
              h(
                'tr',
                { 'data-screen': screen.id },
                h('td', {}, screen.id),
                h('td', {}, screen.name),
                h('td', {}, screen.kind),
                h('td', {}, [screen.province, screen.commune, screen.location].filter(Boolean).join(' · ') || '—'),
                h('td', {}, h('span', { class: `state ${screen.status === 'online' ? 'ok' : 'muted'}` }, t(`console.screens.status.${screen.status}`))),
                h('td', {}, formatTime(screen.lastSeen)),
              ),
            ),
          ),
        ),
  );
}
