/// <reference lib="dom" />
import { ApiError, currentUser, describeError, loadSession, signIn, signOut } from './api.js';
import { h, replaceChildren } from './dom.js';
import { currentLanguage, setLanguage, t } from './i18n.js';
import { audiencePage } from './pages/audience.js';
import { campaignsPage } from './pages/campaigns.js';
import { editorPage } from './pages/editor.js';
import { runPage, runsPage } from './pages/runs.js';
import { loudspeakersPage } from './pages/loudspeakers.js';
import { reportPage } from './pages/report.js';
import { screensPage } from './pages/screens.js';
import { usersPage } from './pages/users.js';

/** A page renders into `main` and may return a function that stops what it started (an event stream). */
export type Page = (main: HTMLElement, params: string[]) => Promise<(() => void) | void>;

const ROUTES: Array<{ pattern: RegExp; page: Page; nav?: string }> = [
  { pattern: /^#\/campaigns\/new$/, page: editorPage, nav: 'campaigns' },
  { pattern: /^#\/campaigns\/([a-z0-9-]+)$/, page: editorPage, nav: 'campaigns' },
  { pattern: /^#\/runs\/(\d+)$/, page: runPage, nav: 'runs' },
  { pattern: /^#\/runs$/, page: runsPage, nav: 'runs' },
  { pattern: /^#\/audience$/, page: audiencePage, nav: 'audience' },
  { pattern: /^#\/screens$/, page: screensPage, nav: 'screens' },
  { pattern: /^#\/loudspeakers$/, page: loudspeakersPage, nav: 'loudspeakers' },
  { pattern: /^#\/report$/, page: reportPage, nav: 'report' },
  { pattern: /^#\/users$/, page: usersPage, nav: 'users' },
  { pattern: /^#\/campaigns$|^#?\/?$/, page: campaignsPage, nav: 'campaigns' },
];

const app = document.getElementById('app')!;
let stopPage: (() => void) | void;

function navItem(id: string, label: string, current: string | undefined): HTMLElement {
  return h('li', {}, h('a', { href: `#/${id}`, 'aria-current': current === id ? 'page' : undefined }, label));
}

async function render(): Promise<void> {
  if (stopPage) stopPage();
  stopPage = undefined;
  document.documentElement.lang = currentLanguage();
  const user = currentUser();
  if (!user) return renderSignIn();
  const route = ROUTES.find((candidate) => candidate.pattern.test(location.hash)) ?? ROUTES[ROUTES.length - 1]!;
  const params = route.pattern.exec(location.hash)?.slice(1) ?? [];
  const main = h('main', { id: 'main', tabindex: '-1' });
  const other = currentLanguage() === 'vi' ? 'en' : 'vi';
  replaceChildren(
    app,
    h('a', { class: 'skip', href: '#main', onclick: (event) => (event.preventDefault(), main.focus()) }, t('console.skipToContent')),
    h(
      'header',
      { class: 'bar' },
      h('strong', {}, 'Loa'),
      h(
        'nav',
        { 'aria-label': t('console.nav.label') },
        h('ul', {}, navItem('campaigns', t('console.nav.campaigns'), route.nav), navItem('runs', t('console.nav.runs'), route.nav), navItem('audience', t('console.nav.audience'), route.nav), navItem('screens', t('console.nav.screens'), route.nav), navItem('loudspeakers', t('console.nav.loudspeakers'), route.nav), navItem('report', t('console.nav.report'), route.nav), user.role === 'admin' ? navItem('users', t('console.nav.users'), route.nav) : null),
      ),
      h(
        'div',
        { class: 'who' },
        h('span', {}, t('console.signedInAs', { name: user.name, role: t(`console.role.${user.role}`) })),
        h('button', { type: 'button', lang: other, onclick: () => (setLanguage(other), void render()) }, other === 'en' ? 'English' : 'Tiếng Việt'),
        h('button', { type: 'button', id: 'sign-out', onclick: () => void signOut().then(render) }, t('console.signOut')),
      ),
    ),
    main,
  );
  try {
    stopPage = await route.page(main, params);
  } catch (error) {
    main.append(h('p', { class: 'error', role: 'alert' }, describeError(error)));
  }
  main.focus({ preventScroll: true });
}

function renderSignIn(): void {
  const name = h('input', { type: 'text', id: 'signin-name', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', id: 'signin-password', name: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { role: 'alert', class: 'error' });
  const form = h(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault();
        message.textContent = '';
        signIn(name.value.trim(), password.value).then(
          () => void render(),
          (error: unknown) => (message.textContent = error instanceof ApiError && error.status === 429 ? t('console.signIn.tooMany') : error instanceof ApiError && error.status === 401 ? t('console.signIn.wrong') : describeError(error)),
        );
      },
    },
    h('label', { for: 'signin-name' }, t('console.signIn.name')),
    name,
    h('label', { for: 'signin-password' }, t('console.signIn.password')),
    password,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('console.signIn.submit'))),
    message,
  );
  const other = currentLanguage() === 'vi' ? 'en' : 'vi';
  replaceChildren(
    app,
    h(
      'main',
      { class: 'signin', id: 'main' },
      h('h1', {}, t('console.signIn.title')),
      form,
      h('button', { type: 'button', class: 'secondary', lang: other, onclick: () => (setLanguage(other), renderSignIn()) }, other === 'en' ? 'English' : 'Tiếng Việt'),
    ),
  );
  name.focus();
}

window.addEventListener('hashchange', () => void render());
void loadSession().then(render, (error: unknown) => replaceChildren(app, h('p', { class: 'error', role: 'alert' }, describeError(error))));
