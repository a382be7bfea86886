/**
 * The fleet: every running session the caller may view (GET /sessions), each with its status query
 * and the P&L of its latest day; degraded, halted, reducing and paused rows stand out.
 */
import { api, routes } from './api.js';
import { badge, fill, h, section, table } from './dom.js';
import { age, pnl } from './format.js';
import { poll } from './poll.js';

const lastFrameOf = (status) => {
  const starts = Object.values(status?.lastFrames ?? {});
  return starts.length ? Math.max(...starts) : null;
};

/** How a row stands out: the worst of its status and trading state. */
export function rowKind(s) {
  if (!s.status) return 'unknown';
  if (s.status.status === 'degraded') return 'degraded';
  if (s.status.tradingState === 'halted') return 'halted';
  if (s.status.tradingState === 'reducing') return 'reducing';
  if (s.status.status === 'paused') return 'paused';
  return 'ok';
}

async function load() {
  const { sessions } = await api(routes.sessions());
  return Promise.all(
    sessions.map(async (s) => {
      const [status, today] = await Promise.all([api(routes.status(s.account)).catch(() => null), api(routes.pnlToday(s.account)).catch(() => null)]);
      return { ...s, listedStatus: s.status, status, today };
    }),
  );
}

const COLUMNS = [
  { label: 'Account', value: (s) => h('a', { href: `#/account/${encodeURIComponent(s.account)}`, 'data-testid': 'account-link' }, s.account) },
  { label: 'Broker', value: (s) => s.broker },
  { label: 'Status', value: (s) => badge(s.status?.status ?? s.listedStatus ?? 'unknown') },
  { label: 'Trading state', value: (s) => (s.status ? badge(s.status.tradingState) : '—') },
  { label: 'Mode', value: (s) => (s.status ? (s.status.tradingEnabled ? 'live' : 'dry run') : '—') },
  {
    label: 'P&L today',
    num: true,
    value: (s) => {
      const p = pnl(s.today?.pnl);
      return h('span', { class: p.cls, title: s.today?.day ? `UTC day ${s.today.day}` : '' }, p.text);
    },
  },
  { label: 'Last frame', num: true, value: (s) => age(lastFrameOf(s.status)) },
  { label: 'Orders', num: true, value: (s) => (s.status ? String(s.status.counters.ordersPlaced) : '—') },
  { label: 'Refused', num: true, value: (s) => (s.status ? String(s.status.counters.ordersRefused) : '—') },
  { label: 'Note', value: (s) => s.status?.degraded?.reason ?? s.status?.lastRejection ?? '' },
];

export function render(root) {
  const summary = h('div', { class: 'summary', 'data-testid': 'fleet-summary' });
  const body = h('div', {}, h('p', { class: 'empty' }, 'Loading…'));
  const updated = h('span', { class: 'updated' });
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, 'Fleet'), updated), summary, section('Sessions', body));
  const live = poll(async () => {
    let rows;
    try {
      rows = await load();
    } catch (err) {
      fill(body, h('p', { class: 'error' }, `Could not list sessions: ${err.message}`));
      return;
    }
    rows.sort((a, b) => String(a.account).localeCompare(String(b.account)));
    const count = (k) => rows.filter((r) => rowKind(r) === k).length;
    fill(
      summary,
      h('div', { class: 'stat' }, h('b', {}, String(rows.length)), ' sessions'),
      ...['degraded', 'halted', 'reducing', 'paused'].map((k) => h('div', { class: `stat stat-${k}${count(k) ? ' on' : ''}` }, h('b', {}, String(count(k))), ` ${k}`)),
    );
    fill(
      body,
      table({
        columns: COLUMNS,
        rows,
        empty: 'No running session you may view.',
        testid: 'fleet',
        rowClass: (r) => `row-${rowKind(r)}`,
      }),
    );
    for (const tr of body.querySelectorAll('tbody tr')) tr.dataset.account = tr.querySelector('a')?.textContent ?? '';
    fill(updated, `updated ${new Date().toISOString().slice(11, 19)} UTC`);
  });
  return live.stop;
}
