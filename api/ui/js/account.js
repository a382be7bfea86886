/**
 * One account: its session's status, controls (trader grant), open positions with their live stop and
 * take-profit, working orders and orders in flight, the candle chart with trades marked, the equity and
 * drawdown curve, recent trades, risk refusals and the trading-state history with who and why.
 */
import { api, routes } from './api.js';
import { badge, fill, h, section, table } from './dom.js';
import { age, money, pnl, price, qty, time } from './format.js';
import { poll } from './poll.js';
import { candleChart, equityChart } from './charts.js';
import { closeButton, controlBar } from './controls.js';

const RECENT_TRADES = 50;

const signed = (x) => {
  const p = pnl(x);
  return h('span', { class: p.cls }, p.text);
};

function header(account, status, pnlView) {
  const last = Math.max(...Object.values(status.lastFrames ?? {}), -Infinity);
  return h(
    'div',
    { class: 'facts', 'data-testid': 'account-facts' },
    h('div', {}, h('small', {}, 'status'), badge(status.status), status.degraded ? h('span', { class: 'muted' }, ` ${status.degraded.reason}`) : null),
    h('div', {}, h('small', {}, 'trading state'), badge(status.tradingState)),
    h('div', {}, h('small', {}, 'broker'), status.broker, status.tradingEnabled ? '' : ' (dry run)'),
    h('div', {}, h('small', {}, 'last frame'), Number.isFinite(last) ? `${time(last)} (${age(last)} ago)` : '—'),
    h('div', {}, h('small', {}, 'realised'), signed(pnlView?.realised)),
    h('div', {}, h('small', {}, 'unrealised'), signed(pnlView?.unrealised)),
    h('div', {}, h('small', {}, 'orders'), `${status.counters.ordersPlaced} placed, ${status.counters.ordersRefused} refused, ${status.unknownOrders} unknown`),
  );
}

function positionsTable(me, account, positions, pnlView, refresh) {
  return table({
    testid: 'positions',
    empty: 'No open position.',
    rows: positions,
    columns: [
      { label: 'System', value: (p) => p.systemId },
      { label: 'Symbol', value: (p) => p.symbol },
      { label: 'Side', value: (p) => badge(p.side) },
      { label: 'Quantity', num: true, value: (p) => qty(p.quantity) },
      { label: 'Entry', num: true, value: (p) => price(p.entryPrice) },
      // stopLive false: a refused close left the stop off the broker and putting it back failed (the session retries each frame).
      { label: 'Stop', num: true, value: (p) => (p.stopLive === false ? h('span', {}, price(p.stop), ' ', badge('NOT AT BROKER', 'halted')) : price(p.stop)) },
      { label: 'Take-profit', num: true, value: (p) => price(p.takeProfit) },
      { label: 'Trailing', num: true, value: (p) => (p.trailing ? `${price(p.trailing.level)} (±${price(p.trailing.distance)})` : '—') },
      { label: 'Unrealised', num: true, value: (p) => signed(pnlView?.bySystem?.[p.systemId]?.unrealised) },
      { label: 'Opened', value: (p) => time(p.openedAt) },
      { label: '', value: (p) => closeButton(me, account, p, refresh) },
    ],
  });
}

const workingTable = (orders) =>
  table({
    testid: 'working-orders',
    empty: 'No working order.',
    rows: orders,
    columns: [
      { label: 'Ref', value: (o) => o.ref },
      { label: 'System', value: (o) => o.systemId },
      { label: 'Side', value: (o) => o.side },
      { label: 'Type', value: (o) => o.type },
      { label: 'Price', num: true, value: (o) => price(o.price) },
      { label: 'Quantity', num: true, value: (o) => qty(o.quantity) },
      { label: 'Stop', num: true, value: (o) => price(o.stop) },
      { label: 'Take-profit', num: true, value: (o) => price(o.takeProfit) },
      { label: 'Expires', value: (o) => (o.expiresAt ? time(o.expiresAt) : 'good till cancelled') },
    ],
  });

const inFlightTable = (orders) =>
  table({
    testid: 'orders-in-flight',
    empty: 'No order in flight.',
    rows: orders,
    columns: [
      { label: 'Order', value: (o) => o.clientOrderId },
      { label: 'System', value: (o) => o.systemId },
      { label: 'Intent', value: (o) => o.intent },
      { label: 'State', value: (o) => badge(o.state) },
      { label: 'Filled', num: true, value: (o) => `${qty(o.filledQuantity)} / ${qty(o.quantity)}` },
      { label: 'Since', value: (o) => time(o.since) },
    ],
  });

const tradesTable = (trades) =>
  table({
    testid: 'trades',
    empty: 'No closed trade yet.',
    rows: [...trades].reverse().slice(0, RECENT_TRADES),
    columns: [
      { label: 'Closed', value: (t) => time(t.closed_at) },
      { label: 'System', value: (t) => t.system_id },
      { label: 'Side', value: (t) => badge(t.side) },
      { label: 'Quantity', num: true, value: (t) => qty(t.quantity) },
      { label: 'Entry', num: true, value: (t) => price(t.entry_price) },
      { label: 'Exit', num: true, value: (t) => price(t.exit_price) },
      { label: 'P&L', num: true, value: (t) => signed(t.pnl) },
      { label: 'Why', value: (t) => t.exit_reason },
    ],
  });

const refusalsTable = (refusals) =>
  table({
    testid: 'refusals',
    empty: 'No refusal.',
    rows: [...refusals].reverse(),
    columns: [
      { label: 'At', value: (r) => time(r.at) },
      { label: 'System', value: (r) => r.systemId },
      { label: 'Intent', value: (r) => `${r.intent} ${r.side} ${qty(r.quantity)}` },
      { label: 'Rule', value: (r) => h('code', {}, r.rule) },
      { label: 'Why', value: (r) => r.detail },
    ],
  });

const historyTable = (changes) =>
  table({
    testid: 'trading-state-history',
    empty: 'No trading-state change.',
    rows: [...changes].reverse(),
    columns: [
      { label: 'At', value: (c) => time(c.at) },
      { label: 'Change', value: (c) => h('span', {}, badge(c.from), ' → ', badge(c.to)) },
      { label: 'By', value: (c) => c.by },
      { label: 'Why', value: (c) => c.reason },
      { label: 'Source', value: (c) => c.source },
    ],
  });

/** Reads everything the page shows; the chart's records only when asked (they change once a frame). */
async function load(account) {
  const [status, positions, pnlView, risk] = await Promise.all([
    api(routes.status(account)),
    api(routes.positions(account)).then((r) => r.positions),
    api(routes.pnl(account)),
    api(routes.risk(account)),
  ]);
  const [candles, trades, orders, equity] = await Promise.all([
    api(routes.candles(account)),
    api(routes.trades(account)).then((r) => r.trades).catch(() => []),
    api(routes.orders(account)).then((r) => r.orders).catch(() => []),
    api(routes.equity(account)).then((r) => r.equity).catch(() => []),
  ]);
  return { status, positions, pnlView, risk, candles, trades, orders, equity };
}

export function render(root, { me, account }) {
  const facts = h('div', {}, h('p', { class: 'empty' }, 'Loading…'));
  const updated = h('span', { class: 'updated' });
  const parts = Object.fromEntries(['positions', 'working', 'inflight', 'trades', 'refusals', 'history'].map((k) => [k, h('div')]));
  const candleEl = h('div', { class: 'chart', id: 'candle-chart', 'data-testid': 'candle-chart' });
  const equityEl = h('div', { class: 'chart', id: 'equity-chart', 'data-testid': 'equity-chart' });
  const chartTitle = h('span');
  let refresh = () => {};
  const controls = controlBar(me, account, () => refresh());
  fill(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, h('a', { href: '#/fleet', class: 'muted' }, 'Fleet'), ' / ', h('span', { 'data-testid': 'account-name' }, account)), updated),
    section('Session', facts, controls),
    section('Open positions', parts.positions),
    h('div', { class: 'grid2' }, section(h('span', {}, 'Candles ', chartTitle), candleEl), section('Equity and drawdown', equityEl)),
    h('div', { class: 'grid2' }, section('Working orders', parts.working), section('Orders in flight', parts.inflight)),
    section(`Recent trades (last ${RECENT_TRADES})`, parts.trades),
    h('div', { class: 'grid2' }, section('Risk refusals', parts.refusals), section('Trading-state history', parts.history)),
  );
  const candles = candleChart(candleEl);
  const equity = equityChart(equityEl);

  const live = poll(async () => {
    let d;
    try {
      d = await load(account);
    } catch (err) {
      fill(facts, h('p', { class: 'error', 'data-testid': 'account-error' }, err.status === 404 ? `No running session for ${account}.` : `${err.status ?? ''} ${err.message}`));
      return;
    }
    fill(facts, header(account, d.status, d.pnlView));
    fill(parts.positions, positionsTable(me, account, d.positions, d.pnlView, () => refresh()));
    fill(parts.working, workingTable(d.risk.workingOrders ?? []));
    fill(parts.inflight, inFlightTable(d.status.ordersInFlight ?? []));
    fill(parts.trades, tradesTable(d.trades));
    fill(parts.refusals, refusalsTable(d.risk.lastRefusals ?? []));
    fill(parts.history, historyTable(d.risk.tradingStateHistory ?? []));
    fill(chartTitle, d.candles.symbol ? `${d.candles.symbol} · ${d.candles.timeframe} · equity ${money(d.equity.at(-1)?.equity)}` : '(no frame yet)');
    candles.update({ candles: d.candles.candles, timeframe: d.candles.timeframe, trades: d.trades, positions: d.positions, orders: d.orders });
    equity.update(d.equity);
    fill(updated, `updated ${new Date().toISOString().slice(11, 19)} UTC`);
    root.dataset.loaded = String(Number(root.dataset.loaded ?? 0) + 1);
  });
  refresh = () => void live.now();
  return () => {
    live.stop();
    candles.remove();
    equity.remove();
    delete root.dataset.loaded;
  };
}
