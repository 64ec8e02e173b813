/// <reference lib="dom" />
import { SCREEN_KINDS } from '../../../adapters/screens/index.js';
import { api, ApiError, can, describeError } from '../api.js';
import { h, replaceChildren } from '../dom.js';
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

/** Register a screen (admins): its token and player URL are shown this once, never again. */
function addScreenForm(): HTMLElement {
  const id = h('input', { type: 'text', id: 'screen-id', pattern: '[a-z0-9][a-z0-9-]*', required: true });
  const name = h('input', { type: 'text', id: 'screen-name', required: true });
  const kind = h('select', { id: 'screen-kind' }, ...SCREEN_KINDS.map((value) => h('option', { value }, value)));
  const province = h('input', { type: 'text', id: 'screen-province' });
  const result = h('div', { role: 'status' });
  return h(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault();
        const body = { id: id.value.trim(), name: name.value.trim(), kind: kind.value, ...(province.value.trim() ? { province: province.value.trim() } : {}) };
        api<{ screen: { id: string }; token: string }>('POST', '/v1/screens', body).then(
          (added) => {
            const player = `${location.origin}/v1/screens/${added.screen.id}/player?token=${encodeURIComponent(added.token)}`;
            replaceChildren(result, h('div', { class: 'card', id: 'screen-token' }, h('p', {}, t('console.screens.tokenOnce')), h('p', {}, t('console.screens.token'), ' ', h('code', {}, added.token)), h('p', {}, t('console.screens.player'), ' ', h('code', {}, player))));
          },
          (error: unknown) => replaceChildren(result, h('p', { class: 'error' }, describeError(error))),
        );
      },
    },
    h('h2', {}, t('console.screens.add')),
    h('label', { for: 'screen-id' }, t('console.screens.column.id')),
    id,
    h('label', { for: 'screen-name' }, t('console.screens.column.name')),
    name,
    h('label', { for: 'screen-kind' }, t('console.screens.column.kind')),
    kind,
    h('label', { for: 'screen-province' }, t('console.audience.province')),
    province,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'add-screen' }, t('console.screens.addButton'))),
    result,
  );
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
    can('admin') ? addScreenForm() : '',
  );
}
