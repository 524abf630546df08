/**
 * The console's shell: header (who is signed in, sign out, sign out
 * everywhere), navigation, and the page of the current hash route.
 */
import './style.css';
import { api, onSignedOut, problem } from './api.js';
import { h, replace, statusLine } from './dom.js';
import { accountPage } from './pages/account.js';
import { adminEventsPage } from './pages/admin-events.js';
import { adminKeysPage } from './pages/admin-keys.js';
import { adminUsersPage } from './pages/admin-users.js';
import { apiKeysPage } from './pages/api-keys.js';
import { inspectorPage } from './pages/inspector.js';
import { sessionsPage } from './pages/sessions.js';
import { signInPage } from './pages/signin.js';
import { currentPath, go, type Route } from './router.js';
import { forget, isAdmin, loadMe, me } from './session.js';

const routes: Route[] = [
  { path: '/signin', title: 'Sign in', page: signInPage, public: true },
  { path: '/', title: 'Account', page: accountPage },
  { path: '/sessions', title: 'Sessions', page: sessionsPage },
  { path: '/api-keys', title: 'API keys', page: apiKeysPage },
  { path: '/inspector', title: 'Token inspector', page: inspectorPage, public: true },
  { path: '/admin/users', title: 'Users', page: adminUsersPage, admin: true },
  { path: '/admin/keys', title: 'Signing keys', page: adminKeysPage, admin: true },
  { path: '/admin/events', title: 'Auth events', page: adminEventsPage, admin: true },
];

const root = document.getElementById('app')!;
const header = h('header', { class: 'topbar' });
const nav = h('nav', { class: 'nav', 'aria-label': 'Console' });
const main = h('main', { id: 'main', tabindex: '-1' });
const notice = statusLine();
root.append(header, h('div', { class: 'layout' }, nav, h('div', { class: 'content' }, notice, main)));

// The skip link focuses the content; following its #main would be read as a route.
document.querySelector('a.skip')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

let cleanup: (() => void) | undefined;
/** The /auth/me answer, asked once per sign-in (shared by overlapping renders). */
let whoAmI: Promise<unknown> | undefined;
/** Bumped by each render: a slower, older render never writes over a newer one. */
let generation = 0;
/** A message to show after the next render (the session ended). */
let pending: string | undefined;

async function signOut(everywhere: boolean): Promise<void> {
  try {
    // With a silent refresh first if the access cookie has expired, so the session is really revoked.
    await api('POST', everywhere ? '/auth/logout-all' : '/auth/logout');
  } catch (error) {
    // Already signed out elsewhere: the cookies are gone or dead either way.
    pending = problem(error);
  }
  forget();
  go('/signin');
}

function renderChrome(path: string): void {
  const user = me();
  replace(
    header,
    h(
      'a',
      { class: 'brand', href: '#/' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }, 'T'),
      'Tessera',
    ),
    user === undefined
      ? h('span', { class: 'who' }, 'Not signed in')
      : h(
          'div',
          { class: 'who' },
          h('span', { class: 'user', 'data-testid': 'signed-in-user' }, user.username),
          isAdmin() ? h('span', { class: 'badge' }, 'admin') : null,
          h('button', { type: 'button', class: 'ghost', onclick: () => void signOut(false) }, 'Sign out'),
          h(
            'button',
            { type: 'button', class: 'ghost', onclick: () => void signOut(true) },
            'Sign out everywhere',
          ),
        ),
  );
  const visible = routes.filter((r) =>
    user === undefined ? r.public : r.path !== '/signin' && (!r.admin || isAdmin()),
  );
  const link = (r: Route) =>
    h(
      'li',
      {},
      h('a', { href: `#${r.path}`, 'aria-current': r.path === path ? 'page' : undefined }, r.title),
    );
  const mine = visible.filter((r) => !r.admin);
  const admin = visible.filter((r) => r.admin);
  replace(
    nav,
    h('ul', {}, mine.map(link)),
    admin.length > 0
      ? [
          h('p', { class: 'nav-group', id: 'nav-admin' }, 'Admin'),
          h('ul', { 'aria-labelledby': 'nav-admin' }, admin.map(link)),
        ]
      : null,
  );
}

async function render(): Promise<void> {
  const mine = ++generation;
  cleanup?.();
  cleanup = undefined;
  main.dataset.ready = 'false';
  whoAmI ??= loadMe();
  await whoAmI;
  if (mine !== generation) return;
  let path = currentPath();
  let route = routes.find((r) => r.path === path);
  if (route === undefined) {
    go(me() === undefined ? '/signin' : '/');
    return;
  }
  if (me() === undefined && !route.public) {
    go('/signin');
    return;
  }
  if (me() !== undefined && path === '/signin') {
    go('/');
    return;
  }
  if (route.admin && !isAdmin()) {
    path = '/';
    route = routes.find((r) => r.path === path)!;
  }
  document.title = `${route.title} · Tessera console`;
  renderChrome(path);
  notice.say(pending ?? '');
  pending = undefined;
  // Each render draws into its own container: a page still loading when the route changes writes into a detached one.
  const view = h('div', { class: 'view' });
  replace(main, h('h1', {}, route.title), view);
  let done: (() => void) | undefined;
  try {
    done = (await route.page(view)) ?? undefined;
  } catch (error) {
    if (mine === generation) notice.say(problem(error), 'error');
  }
  if (mine !== generation) {
    done?.();
    return;
  }
  cleanup = done;
  main.dataset.page = path;
  main.dataset.ready = 'true';
}

window.addEventListener('hashchange', () => {
  void render().then(() => {
    // Keyboard and screen-reader users land on the new page's heading.
    if (main.dataset.ready === 'true' && !main.contains(document.activeElement)) main.focus();
  });
});
window.addEventListener('tessera:signed-in', () => {
  whoAmI = undefined;
  go('/');
});
onSignedOut(() => {
  if (me() === undefined) return;
  forget();
  pending = 'Your session ended; sign in again.';
  go('/signin');
});
void render();
