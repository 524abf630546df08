/** The caller's API keys: create (the secret shown once), list by prefix, revoke. */
import { api, problem } from '../api.js';
import { field, h, nextId, replace, statusLine } from '../dom.js';
import { isAdmin } from '../session.js';
import { relative, when } from '../time.js';
import { table } from './table.js';

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

const SCOPES: { scope: string; about: string; admin: boolean }[] = [
  { scope: 'read:profile', about: 'read your profile (/auth/me)', admin: false },
  { scope: 'introspect', about: 'introspect tokens (RFC 7662)', admin: true },
  { scope: 'revoke', about: 'revoke tokens (RFC 7009)', admin: true },
  { scope: 'admin', about: 'the admin API', admin: true },
];

const EXPIRY: [string, number | null][] = [
  ['30 days', 30 * 86_400],
  ['90 days', 90 * 86_400],
  ['1 year', 365 * 86_400],
  ['Never', null],
];

export async function apiKeysPage(main: HTMLElement): Promise<undefined> {
  const status = statusLine();
  const reveal = h('div', {});
  const list = h('div', {});
  const name = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const expiry = h(
    'select',
    { name: 'expiry' },
    EXPIRY.map(([label], i) => h('option', { value: String(i), selected: i === 1 }, label)),
  );
  const boxes = SCOPES.filter((s) => !s.admin || isAdmin()).map((s) => {
    const id = nextId('scope');
    const box = h('input', { type: 'checkbox', id, value: s.scope, checked: s.scope === 'read:profile' });
    return {
      box,
      el: h('div', { class: 'check' }, box, h('label', { for: id }, h('code', {}, s.scope), ` — ${s.about}`)),
    };
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create key');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-key-title' },
    h('h2', { id: 'new-key-title' }, 'New API key'),
    h(
      'div',
      { class: 'row' },
      field('Name', name, 'What the key is for, e.g. "CI deploy".'),
      field('Expires after', expiry),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Scopes'),
      boxes.map((b) => b.el),
    ),
    submit,
  );

  const load = async () => {
    const { api_keys } = await api<{ api_keys: ApiKey[] }>('GET', '/auth/api-keys');
    replace(
      list,
      table<ApiKey>(
        'Your API keys',
        [
          { title: 'Name', cell: (k) => k.name },
          { title: 'Prefix', cell: (k) => h('code', { class: 'prefix' }, `${k.prefix}…`) },
          {
            title: 'Scopes',
            cell: (k) => h('span', {}, ...k.scopes.map((s) => h('span', { class: 'chip' }, s))),
          },
          { title: 'Expires', cell: (k) => (k.expires_at === null ? 'never' : relative(k.expires_at)) },
          { title: 'Last used', cell: (k) => (k.last_used_at === null ? 'never' : relative(k.last_used_at)) },
          { title: 'Created', cell: (k) => when(k.created_at) },
          {
            title: 'Actions',
            actions: true,
            cell: (k) =>
              h(
                'button',
                {
                  type: 'button',
                  class: 'danger small',
                  'aria-label': `Revoke API key ${k.name}`,
                  onclick: async () => {
                    try {
                      await api('DELETE', `/auth/api-keys/${encodeURIComponent(k.id)}`);
                      status.say(`API key "${k.name}" revoked.`, 'ok');
                      await load();
                    } catch (error) {
                      status.say(problem(error), 'error');
                    }
                  },
                },
                'Revoke',
              ),
          },
        ],
        api_keys,
        'No API keys yet.',
      ),
    );
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const scopes = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    if (scopes.length === 0) {
      status.say('Choose at least one scope.', 'error');
      return;
    }
    const expiresIn = EXPIRY[Number(expiry.value)]?.[1] ?? null;
    submit.disabled = true;
    try {
      const made = await api<ApiKey & { key: string }>('POST', '/auth/api-keys', {
        json: { name: name.value, scopes, ...(expiresIn === null ? {} : { expires_in: expiresIn }) },
      });
      name.value = '';
      showOnce(made.name, made.key);
      status.say(`API key "${made.name}" created.`, 'ok');
      await load();
    } catch (error) {
      status.say(problem(error), 'error');
    } finally {
      submit.disabled = false;
    }
  });

  /** The secret, once: it lives only in this box until the page changes or it is dismissed. */
  const showOnce = (keyName: string, secret: string) => {
    const output = h('output', { class: 'secret', 'data-testid': 'new-api-key' }, secret);
    const copy = h('button', { type: 'button', class: 'small' }, 'Copy');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Select and copy by hand';
      }
    });
    const done = h('button', { type: 'button', class: 'small ghost' }, 'Done, hide it');
    done.addEventListener('click', () => replace(reveal));
    replace(
      reveal,
      h(
        'section',
        { class: 'card callout', role: 'region', 'aria-label': 'New API key' },
        h('h2', {}, `Your new key "${keyName}"`),
        h('p', {}, 'Copy it now: this is the only time it is shown. The service keeps only a hash.'),
        h('div', { class: 'secret-row' }, output, copy, done),
      ),
    );
  };

  main.append(
    h(
      'p',
      { class: 'lead' },
      'API keys let scripts call the service as you: send one as ',
      h('code', {}, 'Authorization: Token <key>'),
      '.',
    ),
    status,
    reveal,
    form,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'keys-title' },
      h('h2', { id: 'keys-title' }, 'Your keys'),
      list,
    ),
  );
  await load();
  return undefined;
}
