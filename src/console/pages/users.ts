/// <reference lib="dom" />
import { api, can, describeError, type Role } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { formatTime, t } from '../i18n.js';

interface UserView {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  disabled: boolean;
}

/** Staff accounts (admins only): the list, and a form to add one (the same POST /v1/users as `loa users add`). */
export async function usersPage(main: HTMLElement): Promise<void> {
  main.append(h('h1', {}, t('console.users.title')));
  if (!can('admin')) return void main.append(h('p', {}, t('console.users.adminOnly')));
  const listBox = h('div', {});
  const refresh = async () => {
    const users = await api<UserView[]>('GET', '/v1/users');
    replaceChildren(
      listBox,
      h(
        'table',
        { id: 'users' },
        h('caption', { class: 'muted' }, t('console.timeZoneNote')),
        h('thead', {}, h('tr', {}, ...(['name', 'role', 'created'] as const).map((column) => h('th', { scope: 'col' }, t(`console.users.column.${column}`))))),
        h('tbody', {}, users.map((user) => h('tr', { 'data-user': user.name }, h('td', {}, user.name, user.disabled ? t('console.users.disabledSuffix') : ''), h('td', {}, t(`console.role.${user.role}`)), h('td', {}, formatTime(user.createdAt))))),
      ),
    );
  };
  await refresh();
  const name = h('input', { type: 'text', id: 'user-name', autocomplete: 'off', required: true });
  const role = h('select', { id: 'user-role' }, ...(['viewer', 'operator', 'admin'] as const).map((value) => h('option', { value }, t(`console.role.${value}`))));
  const password = h('input', { type: 'password', id: 'user-password', autocomplete: 'new-password', minlength: '10', required: true });
  const result = h('p', { role: 'status' });
  const form = h(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault();
        api<UserView>('POST', '/v1/users', { name: name.value.trim(), role: role.value, password: password.value }).then(
          async (user) => {
            result.textContent = t('console.users.added', { id: user.id, name: user.name, role: t(`console.role.${user.role}`) });
            password.value = '';
            await refresh();
          },
          (error: unknown) => (result.textContent = describeError(error)),
        );
      },
    },
    h('h2', {}, t('console.users.add')),
    h('label', { for: 'user-name' }, t('console.signIn.name')),
    name,
    h('label', { for: 'user-role' }, t('console.users.column.role')),
    role,
    h('label', { for: 'user-password' }, t('console.users.password')),
    password,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'add-user' }, t('console.users.addButton'))),
    result,
  );
  main.append(listBox, form);
}
