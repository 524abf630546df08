/** Who is signed in: name, roles, dates. */
import { h } from '../dom.js';
import { me } from '../session.js';
import { relative, when } from '../time.js';

export function accountPage(main: HTMLElement): undefined {
  const user = me()!;
  const row = (term: string, value: string | Node) => [h('dt', {}, term), h('dd', {}, value)];
  main.append(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'account-title' },
      h('h2', { id: 'account-title' }, `Signed in as ${user.username}`),
      h(
        'dl',
        { class: 'facts' },
        row('Username', user.username),
        row('Email', user.email ?? '—'),
        row(
          'Roles',
          user.roles.length === 0
            ? 'none'
            : h('span', {}, ...user.roles.map((r) => h('span', { class: 'chip' }, r))),
        ),
        row('Member since', when(user.created_at)),
        row(
          'Last sign-in',
          user.last_login_at === null ? '—' : `${when(user.last_login_at)} (${relative(user.last_login_at)})`,
        ),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Where to go'),
      h(
        'ul',
        { class: 'links' },
        h(
          'li',
          {},
          h('a', { href: '#/sessions' }, 'Sessions'),
          ': the browsers and devices signed in as you.',
        ),
        h('li', {}, h('a', { href: '#/api-keys' }, 'API keys'), ': keys for scripts, shown once when made.'),
        h('li', {}, h('a', { href: '#/inspector' }, 'Token inspector'), ': decode and check any JWT.'),
      ),
    ),
  );
  return undefined;
}
