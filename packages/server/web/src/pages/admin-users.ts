/** Admin: find users, disable or enable them, set roles, revoke everything of one. */
import { api, problem } from '../api.js';
import { field, h, replace, statusLine } from '../dom.js';
import { me } from '../session.js';
import { relative } from '../time.js';
import { table } from './table.js';

interface User {
  id: number;
  username: string;
  email: string | null;
  roles: string[];
  disabled: boolean;
  created_at: number;
  last_login_at: number | null;
}

export async function adminUsersPage(main: HTMLElement): Promise<undefined> {
  const status = statusLine();
  const list = h('div', {});
  const count = h('p', { class: 'hint' });
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off', maxlength: 150 });
  const form = h(
    'form',
    { class: 'card search', role: 'search', 'aria-label': 'Users' },
    field('Search users', search, 'Part of a username; empty lists the first 50.'),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
  );

  const update = async (user: User, changes: { disabled?: boolean; roles?: string[] }, done: string) => {
    try {
      await api('PATCH', `/admin/users/${encodeURIComponent(user.username)}`, { json: changes });
      status.say(done, 'ok');
      await load();
    } catch (error) {
      status.say(problem(error), 'error');
    }
  };

  const rolesCell = (user: User) => {
    const input = h('input', {
      value: user.roles.join(' '),
      'aria-label': `Roles of ${user.username} (separated by spaces)`,
      class: 'roles-input',
      autocomplete: 'off',
    });
    const save = h('button', { type: 'submit', class: 'small' }, 'Save');
    const f = h('form', { class: 'inline' }, input, save);
    f.addEventListener('submit', (event) => {
      event.preventDefault();
      const roles = input.value.split(/[\s,]+/).filter((r) => r !== '');
      void update(
        user,
        { roles },
        `Roles of ${user.username} saved; their tokens were revoked so the change takes effect now.`,
      );
    });
    return f;
  };

  const revokeButton = (user: User) => {
    const button = h(
      'button',
      { type: 'button', class: 'danger small', 'aria-label': `Revoke everything of ${user.username}` },
      'Revoke everything',
    );
    let armed = false;
    button.addEventListener('click', async () => {
      // Two steps: the first click asks, the second acts.
      if (!armed) {
        armed = true;
        button.textContent = 'Confirm revoke';
        button.setAttribute(
          'aria-label',
          `Confirm revoke: every token, session and API key of ${user.username}`,
        );
        return;
      }
      try {
        await api('POST', `/admin/users/${encodeURIComponent(user.username)}/revoke`);
        status.say(`Every token, session and API key of ${user.username} was revoked.`, 'ok');
        await load();
      } catch (error) {
        status.say(problem(error), 'error');
      }
    });
    return button;
  };

  const load = async () => {
    const q = encodeURIComponent(search.value.trim());
    const { users, total } = await api<{ users: User[]; total: number }>(
      'GET',
      `/admin/console/users?q=${q}`,
    );
    count.textContent = `${users.length} shown of ${total} user${total === 1 ? '' : 's'}.`;
    const self = me()?.username;
    replace(
      list,
      table<User>(
        'Users',
        [
          {
            title: 'User',
            cell: (u) =>
              h(
                'span',
                {},
                h('strong', {}, u.username),
                u.email ? h('span', { class: 'muted block' }, u.email) : null,
              ),
          },
          {
            title: 'Status',
            cell: (u) =>
              h('span', { class: `badge ${u.disabled ? 'off' : 'on'}` }, u.disabled ? 'Disabled' : 'Active'),
          },
          { title: 'Roles', cell: rolesCell },
          {
            title: 'Last sign-in',
            cell: (u) => (u.last_login_at === null ? 'never' : relative(u.last_login_at)),
          },
          {
            title: 'Actions',
            actions: true,
            cell: (u) =>
              h(
                'div',
                { class: 'buttons' },
                u.username === self
                  ? null
                  : h(
                      'button',
                      {
                        type: 'button',
                        class: 'small',
                        'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.username}`,
                        onclick: () =>
                          void update(
                            u,
                            { disabled: !u.disabled },
                            u.disabled
                              ? `${u.username} enabled.`
                              : `${u.username} disabled and signed out everywhere.`,
                          ),
                      },
                      u.disabled ? 'Enable' : 'Disable',
                    ),
                revokeButton(u),
              ),
          },
        ],
        users,
        'No user matches.',
      ),
    );
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load().catch((error: unknown) => status.say(problem(error), 'error'));
  });
  main.append(status, form, h('section', { class: 'card', 'aria-label': 'Users found' }, count, list));
  await load();
  return undefined;
}
