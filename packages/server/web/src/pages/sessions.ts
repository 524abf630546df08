/** The caller's sessions (refresh families): device, address, dates; revoke one. */
import { api, problem } from '../api.js';
import { h, replace, statusLine } from '../dom.js';
import { go } from '../router.js';
import { forget } from '../session.js';
import { relative, when } from '../time.js';
import { table } from './table.js';

interface Session {
  id: string;
  device: string;
  address: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  current: boolean;
}

/** "Chrome on Linux" from a user agent; the raw string stays in the title. */
export function deviceName(userAgent: string): string {
  if (userAgent === '') return 'Unknown device';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /HeadlessChrome\//.test(userAgent)
        ? 'Headless Chrome'
        : /Chrom(e|ium)\//.test(userAgent)
          ? 'Chrome'
          : /Safari\//.test(userAgent)
            ? 'Safari'
            : /^curl\//.test(userAgent)
              ? 'curl'
              : /^node|undici/i.test(userAgent)
                ? 'Node.js'
                : (userAgent.split(/[ /]/, 1)[0] ?? 'Unknown');
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : '';
  return os === '' ? browser : `${browser} on ${os}`;
}

export async function sessionsPage(main: HTMLElement): Promise<undefined> {
  const status = statusLine();
  const list = h('div', {});
  main.append(
    h('p', { class: 'lead' }, 'Each sign-in is a session. Revoking one signs that browser or device out.'),
    status,
    h('section', { class: 'card' }, list),
  );

  const load = async () => {
    const { sessions } = await api<{ sessions: Session[] }>('GET', '/auth/sessions');
    sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.last_used_at - a.last_used_at);
    replace(
      list,
      table<Session>(
        'Your sessions',
        [
          {
            title: 'Device',
            cell: (s) =>
              h(
                'span',
                { title: s.device },
                deviceName(s.device),
                s.current ? h('span', { class: 'badge current' }, 'This browser') : null,
              ),
          },
          { title: 'Address', cell: (s) => h('code', {}, s.address || '—') },
          { title: 'Created', cell: (s) => when(s.created_at) },
          { title: 'Last used', cell: (s) => relative(s.last_used_at) },
          {
            title: 'Actions',
            actions: true,
            cell: (s) =>
              h(
                'button',
                {
                  type: 'button',
                  class: 'danger small',
                  'aria-label': `Revoke session ${deviceName(s.device)} from ${s.address || 'unknown address'}${s.current ? ' (this browser)' : ''}`,
                  onclick: () => void revoke(s),
                },
                'Revoke',
              ),
          },
        ],
        sessions,
        'No active sessions.',
      ),
    );
  };

  const revoke = async (s: Session) => {
    try {
      await api('DELETE', `/auth/sessions/${encodeURIComponent(s.id)}`);
      if (s.current) {
        forget();
        go('/signin');
        return;
      }
      status.say('Session revoked: that device is signed out.', 'ok');
      await load();
    } catch (error) {
      status.say(problem(error), 'error');
    }
  };

  await load();
  return undefined;
}
