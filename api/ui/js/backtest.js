/**
 * A backtest report in the desk's look: open the JSON of a run (`JSON.stringify` of runBacktest's
 * result, backtest/types.ts BacktestResult, with the run's `frames` beside it for the candles and
 * `statsRows` from backtest/report.ts for the labelled stats) with the file input. Nothing leaves the browser: the file is read locally, no route is called.
 */
import { badge, fill, h, section, table } from './dom.js';
import { money, pnl, price, qty, time } from './format.js';
import { candleChart, equityChart } from './charts.js';

/** A column as JSON.stringify leaves it: an array, or a typed array's `{ "0": x, "1": y }`. */
const column = (c) => (Array.isArray(c) ? c : c && typeof c === 'object' ? Object.keys(c).sort((a, b) => a - b).map((k) => c[k]) : []);

/** The report's equity points, from `equityCurve` (columns) or `equity` (points). */
export function equityPoints(report) {
  if (Array.isArray(report.equity)) return report.equity;
  const ts = column(report.equityCurve?.ts);
  const eq = column(report.equityCurve?.equity);
  return ts.map((t, i) => ({ ts: t, equity: eq[i] }));
}

/**
 * The stats as labelled rows: the report's own `statsRows` (backtest/report.ts, the terminal table's and
 * the HTML report's one source) when it carries them, else every stat by its name.
 */
function statsRows(report) {
  if (Array.isArray(report.statsRows)) return report.statsRows;
  return Object.entries(report.stats).map(([k, v]) => [k, typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 4 }) : String(v ?? 'n/a')]);
}

const signed = (x) => {
  const p = pnl(x);
  return h('span', { class: p.cls }, p.text);
};

function show(out, report, charts) {
  const s = report.stats;
  const candleEl = h('div', { class: 'chart', 'data-testid': 'backtest-candle-chart' });
  const equityEl = h('div', { class: 'chart', 'data-testid': 'backtest-equity-chart' });
  fill(
    out,
    h('div', { class: 'grid2' }, section('Result', h('dl', { class: 'stats', 'data-testid': 'backtest-stats' }, statsRows(report).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))), section('Equity and drawdown', equityEl)),
    report.frames?.length ? section('Candles', candleEl) : null,
    section(
      `Trades (${report.trades.length})`,
      table({
        testid: 'backtest-trades',
        empty: 'No trade.',
        rows: report.trades,
        columns: [
          { label: 'Opened', value: (t) => time(t.openedAt) },
          { label: 'Closed', value: (t) => time(t.closedAt) },
          { label: 'Side', value: (t) => badge(t.side) },
          { label: 'Quantity', num: true, value: (t) => qty(t.quantity) },
          { label: 'Entry', num: true, value: (t) => price(t.entryPrice) },
          { label: 'Exit', num: true, value: (t) => price(t.exitPrice) },
          { label: 'P&L', num: true, value: (t) => signed(t.pnl) },
          { label: 'Why', value: (t) => t.exitReason },
        ],
      }),
    ),
    h(
      'div',
      { class: 'grid2' },
      section('Risk refusals', table({ testid: 'backtest-refusals', empty: 'No refusal.', rows: report.refusals ?? [], columns: [{ label: 'At', value: (r) => time(r.at) }, { label: 'Rule', value: (r) => r.rule }, { label: 'Why', value: (r) => r.detail }] })),
      section('Trading-state changes', table({ testid: 'backtest-states', empty: 'No change.', rows: report.tradingStateChanges ?? [], columns: [{ label: 'At', value: (c) => time(c.at) }, { label: 'Change', value: (c) => `${c.from} → ${c.to}` }, { label: 'By', value: (c) => c.by }, { label: 'Why', value: (c) => c.reason }] })),
    ),
  );
  charts.push(equityChart(equityEl, 'backtestEquity'));
  charts.at(-1).update(equityPoints(report));
  if (report.frames?.length) {
    charts.push(candleChart(candleEl, 'backtestCandles'));
    charts.at(-1).update({ candles: report.frames, timeframe: s.timeframe, trades: report.trades, positions: report.openPosition ? [report.openPosition] : [], orders: report.orders });
  }
}

export function render(root) {
  const out = h('div', { 'data-testid': 'backtest-report' });
  const message = h('p', { class: 'error' });
  let charts = [];
  const clear = () => {
    for (const c of charts) c.remove();
    charts = [];
  };
  const open = async (file) => {
    clear();
    fill(message);
    try {
      const report = JSON.parse(await file.text());
      if (!report.stats || !Array.isArray(report.trades)) throw new Error('not a backtest result (no stats or trades)');
      show(out, report, charts);
      root.dataset.report = file.name;
    } catch (err) {
      fill(out);
      fill(message, `${file.name}: ${err.message}`);
    }
  };
  const input = h('input', { type: 'file', accept: '.json,application/json', id: 'report-file', onchange: (e) => e.target.files[0] && void open(e.target.files[0]) });
  fill(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Backtest report')),
    section('Open a report', h('p', {}, 'A JSON file of a backtest result (backtest/types.ts ', h('code', {}, 'BacktestResult'), ', with ', h('code', {}, 'frames'), ' for the candles, ', h('code', {}, 'statsRows'), ' for the labelled stats). It is read in this browser only.'), h('label', { for: 'report-file' }, 'Report file '), input, message),
    out,
  );
  return () => {
    clear();
    delete root.dataset.report;
  };
}
