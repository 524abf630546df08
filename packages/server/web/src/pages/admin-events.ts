/** Admin: sign-ins and refusals over time, and the recent security events. */
import { api } from '../api.js';
import { barChart } from '../chart.js';
import { field, h, replace } from '../dom.js';
import { relative, when } from '../time.js';
import { table } from './table.js';

interface Activity {
  range: string;
  bucket_seconds: number;
  buckets: { start: number; sign_ins: number; refusals: number }[];
  events: {
    id: number;
    at: number;
    type: string;
    actor: string | null;
    subject: string | null;
    address: string | null;
  }[];
}

const EVENT_NAMES: Record<string, string> = {
  'login.failed': 'Failed sign-in',
  'login.throttled': 'Throttled',
  'refresh.reused': 'Refresh token reuse detected',
  'user.revoked': 'Everything revoked',
  'logout.everywhere': 'Signed out everywhere',
};

export async function adminEventsPage(main: HTMLElement): Promise<undefined> {
  const range = h(
    'select',
    { name: 'range' },
    h('option', { value: '1h' }, 'Last hour'),
    h('option', { value: '24h', selected: true }, 'Last 24 hours'),
    h('option', { value: '7d' }, 'Last 7 days'),
  );
  const chart = h('div', { class: 'chart-wrap' });
  const legend = h(
    'ul',
    { class: 'legend', 'aria-hidden': 'true' },
    h('li', {}, h('span', { class: 'swatch sign-ins' }), 'Sign-ins'),
    h('li', {}, h('span', { class: 'swatch refusals' }), 'Refusals (wrong password, throttled)'),
  );
  const totals = h('p', { class: 'totals', 'data-testid': 'activity-totals' });
  const events = h('div', {});

  const load = async () => {
    const a = await api<Activity>('GET', `/admin/console/activity?range=${range.value}`);
    const short = a.bucket_seconds < 86_400;
    const labels = a.buckets.map((b) =>
      new Date(b.start * 1000).toLocaleString(
        undefined,
        short && a.range !== '7d'
          ? { hour: '2-digit', minute: '2-digit' }
          : { weekday: 'short', hour: '2-digit' },
      ),
    );
    const signIns = a.buckets.map((b) => b.sign_ins);
    const refusals = a.buckets.map((b) => b.refusals);
    const sum = (v: number[]) => v.reduce((x, y) => x + y, 0);
    totals.textContent = `${sum(signIns)} sign-ins, ${sum(refusals)} refusals.`;
    replace(
      chart,
      barChart(
        'Sign-ins and refusals',
        labels,
        [
          { label: 'Sign-ins', className: 'sign-ins', values: signIns },
          { label: 'Refusals', className: 'refusals', values: refusals },
        ],
        chart.clientWidth || 720,
      ),
    );
    replace(
      events,
      table(
        'Recent security events',
        [
          {
            title: 'Event',
            cell: (e) =>
              h(
                'span',
                { class: `badge event ${e.type.replace(/\W/g, '-')}` },
                EVENT_NAMES[e.type] ?? e.type,
              ),
          },
          { title: 'User', cell: (e) => e.subject ?? e.actor ?? '—' },
          { title: 'Address', cell: (e) => h('code', {}, e.address ?? '—') },
          { title: 'When', cell: (e) => h('span', { title: when(e.at) }, relative(e.at)) },
        ],
        a.events,
        'No failed sign-ins, throttling or reuse detections recorded.',
      ),
    );
  };
  range.addEventListener('change', () => void load());

  main.append(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'activity-title' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', { id: 'activity-title' }, 'Sign-ins and refusals'),
        field('Range', range),
      ),
      totals,
      chart,
      legend,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'events-title' },
      h('h2', { id: 'events-title' }, 'Recent security events'),
      h('p', { class: 'hint' }, 'Failed sign-ins, throttling, refresh-token reuse, and revocations.'),
      events,
    ),
  );
  await load();
  return undefined;
}
