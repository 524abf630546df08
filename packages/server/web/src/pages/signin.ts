/** Sign in with cookies: the service sets HttpOnly token cookies and readable CSRF cookies. */
import { api, problem } from '../api.js';
import { field, h, statusLine } from '../dom.js';

export function signInPage(main: HTMLElement): undefined {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 150 });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    maxlength: 1024,
  });
  const status = statusLine();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title' }, 'Sign in to the console'),
    field('Username', username),
    field('Password', password),
    submit,
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.say('Signing in…');
    try {
      // cookies: true asks for cookie mode; the answer's body carries no token, only CSRF values.
      await api('POST', '/auth/login', {
        json: { username: username.value, password: password.value, cookies: true },
        noRefresh: true,
      });
      password.value = '';
      status.say('Signed in.', 'ok');
      window.dispatchEvent(new Event('tessera:signed-in'));
    } catch (error) {
      status.say(problem(error), 'error');
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(
    h(
      'p',
      { class: 'lead' },
      'Manage your sessions and API keys, inspect tokens, and administer the service.',
    ),
    form,
  );
  username.focus();
  return undefined;
}
