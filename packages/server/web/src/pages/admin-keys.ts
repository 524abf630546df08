/** Admin: the signing keys, the rotation schedule, rotate now. */
import { api, problem } from '../api.js';
import { h, replace, statusLine } from '../dom.js';
import { relative, spanWords, when } from '../time.js';
import { table } from './table.js';

interface Key {
  kid: string;
  alg: string;
  createdAt: number;
  expiresAt: number | null;
  signing: boolean;
}

interface Schedule {
  keys: Key[];
  rotation_seconds: number;
  grace_seconds: number;
  algorithm: string;
  next_rotation_at: number | null;
}

export async function adminKeysPage(main: HTMLElement): Promise<undefined> {
  const status = statusLine();
  const facts = h('dl', { class: 'facts' });
  const list = h('div', {});
  const rotate = h('button', { type: 'button', class: 'primary' }, 'Rotate now');

  const load = async () => {
    const s = await api<Schedule>('GET', '/admin/console/keys');
    const row = (term: string, value: string) => [h('dt', {}, term), h('dd', {}, value)];
    replace(
      facts,
      row('Algorithm', s.algorithm),
      row(
        'Next rotation',
        s.next_rotation_at === null ? '—' : `${when(s.next_rotation_at)} (${relative(s.next_rotation_at)})`,
      ),
      row('Rotation period', spanWords(s.rotation_seconds)),
      row('Old keys verify for', spanWords(s.grace_seconds)),
    );
    replace(
      list,
      table<Key>(
        'Signing keys',
        [
          { title: 'Key id', cell: (k) => h('code', { class: 'kid' }, k.kid) },
          { title: 'Algorithm', cell: (k) => k.alg },
          {
            title: 'State',
            cell: (k) =>
              h(
                'span',
                { class: `badge ${k.signing ? 'on' : 'muted'}` },
                k.signing ? 'Signing' : 'Verifying only',
              ),
          },
          { title: 'Created', cell: (k) => when(k.createdAt) },
          {
            title: 'Retires',
            cell: (k) => (k.expiresAt === null ? '—' : `${when(k.expiresAt)} (${relative(k.expiresAt)})`),
          },
        ],
        s.keys,
        'No keys.',
      ),
    );
  };

  rotate.addEventListener('click', async () => {
    rotate.disabled = true;
    try {
      const { kid } = await api<{ kid: string | null }>('POST', '/admin/keys/rotate');
      status.say(
        `Rotated: new signing key ${kid ?? ''}. The previous key keeps verifying for its grace period.`,
        'ok',
      );
      await load();
    } catch (error) {
      status.say(problem(error), 'error');
    } finally {
      rotate.disabled = false;
    }
  });

  main.append(
    status,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'schedule-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'schedule-title' }, 'Rotation'), rotate),
      facts,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'keys-title' },
      h('h2', { id: 'keys-title' }, 'Keys'),
      list,
    ),
  );
  await load();
  return undefined;
}
