/**
 * Charts (lightweight-charts, served by the gateway from node_modules): candles of the traded symbol
 * with entries, exits and stops marked, and the equity curve over its drawdown. What each chart shows is
 * also on its element (`data-candles`, `data-entries`, `data-exits`, `data-stops`, `data-points`) and in
 * `window.maoDesk.charts`, so a person or a test can check the data behind the picture.
 */
import { createChart, createSeriesMarkers, AreaSeries, CandlestickSeries, HistogramSeries, LineSeries, LineStyle } from '/ui/vendor/lightweight-charts.mjs';

const COLORS = { up: '#1f9d6b', down: '#d64545', stop: '#c2410c', target: '#15803d', trail: '#b45309', line: '#2563eb', grid: '#eef1f5', text: '#3b4452' };
const TF_MS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000 };

const secs = (ms) => Math.floor(Number(ms) / 1000);
const n = (x) => (x === null || x === undefined ? null : Number(x));

window.maoDesk = window.maoDesk ?? { charts: {} };

function baseChart(el) {
  return createChart(el, {
    autoSize: true,
    layout: { background: { color: '#ffffff' }, textColor: COLORS.text, fontFamily: 'system-ui, sans-serif' },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    rightPriceScale: { borderVisible: false },
    timeScale: { borderVisible: false, timeVisible: true, secondsVisible: false },
  });
}

/** The start of the candle a time falls in (candles sorted by start), or null outside the candles. */
function snap(candles, tfMs, t) {
  if (!candles.length || t < candles[0].start || t > candles[candles.length - 1].start + tfMs) return null;
  let lo = 0;
  let hi = candles.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (candles[mid].start <= t) lo = mid;
    else hi = mid - 1;
  }
  return candles[lo].start;
}

/**
 * Markers from closed trades (`mt_<account>.trades` rows or Trade objects), open positions and the
 * orders' stop levels (rows or BacktestOrder objects): one entry per position, one exit per trade, one stop per position with a stop.
 */
export function tradeMarkers({ candles, timeframe, trades = [], positions = [], orders = [] }) {
  const tfMs = TF_MS[timeframe] ?? 60_000;
  const t = (row, camel, snake) => n(row[camel] ?? row[snake]);
  // A position's first stop: its stop leg (`<ref>-S`, position_ref set) or the entry order's stop level.
  const stopOf = new Map();
  for (const o of orders) {
    const ref = o.position_ref ?? o.positionRef ?? (o.intent === 'open' ? (o.client_order_id ?? o.clientOrderId) : null);
    const stop = n(o.stop_level ?? o.stopLevel);
    if (ref && stop !== null && !stopOf.has(ref)) stopOf.set(ref, stop);
  }
  const entries = new Map();
  const exits = [];
  const stops = new Map();
  const entry = (ref, systemId, side, at, price) => {
    if (entries.has(ref)) return;
    const time = snap(candles, tfMs, at);
    if (time !== null) entries.set(ref, { kind: 'entry', ref, systemId, side, time, price });
  };
  for (const tr of trades) {
    const ref = tr.position_ref ?? tr.positionRef;
    const side = tr.side;
    entry(ref, tr.system_id ?? tr.systemId, side, t(tr, 'openedAt', 'opened_at'), t(tr, 'entryPrice', 'entry_price'));
    const time = snap(candles, tfMs, t(tr, 'closedAt', 'closed_at'));
    if (time !== null) exits.push({ kind: 'exit', ref, systemId: tr.system_id ?? tr.systemId, side, time, price: t(tr, 'exitPrice', 'exit_price'), pnl: t(tr, 'pnl', 'pnl'), reason: tr.exit_reason ?? tr.exitReason });
    const stop = stopOf.get(ref);
    if (stop !== null && stop !== undefined && entries.has(ref)) stops.set(ref, { kind: 'stop', ref, time: entries.get(ref).time, price: stop });
  }
  for (const p of positions) {
    entry(p.positionRef, p.systemId, p.side, n(p.openedAt), n(p.entryPrice));
    const stop = n(p.stop) ?? stopOf.get(p.positionRef);
    if (stop !== null && stop !== undefined && entries.has(p.positionRef)) stops.set(p.positionRef, { kind: 'stop', ref: p.positionRef, time: entries.get(p.positionRef).time, price: stop, live: true });
  }
  return { entries: [...entries.values()], exits, stops: [...stops.values()] };
}

function asSeriesMarkers({ entries, exits, stops }) {
  const all = [
    ...entries.map((m) => ({
      time: secs(m.time),
      position: m.side === 'long' ? 'belowBar' : 'aboveBar',
      shape: m.side === 'long' ? 'arrowUp' : 'arrowDown',
      color: m.side === 'long' ? COLORS.up : COLORS.down,
      text: `${m.systemId} ${m.side}`,
    })),
    ...exits.map((m) => ({ time: secs(m.time), position: 'atPriceMiddle', price: m.price, shape: 'circle', color: m.pnl >= 0 ? COLORS.up : COLORS.down, text: m.reason })),
    ...stops.map((m) => ({ time: secs(m.time), position: 'atPriceMiddle', price: m.price, shape: 'square', size: 0.6, color: COLORS.stop, text: 'stop' })),
  ];
  return all.sort((a, b) => a.time - b.time);
}

/** A candle chart; `update` redraws it from candles, trades, open positions and orders. */
export function candleChart(el, name = 'candles') {
  const chart = baseChart(el);
  const series = chart.addSeries(CandlestickSeries, { upColor: COLORS.up, downColor: COLORS.down, borderVisible: false, wickUpColor: COLORS.up, wickDownColor: COLORS.down });
  const markers = createSeriesMarkers(series, []);
  let lines = [];
  let fitted = false;
  return {
    update({ candles, timeframe, trades, positions = [], orders }) {
      const sorted = [...candles].map((c) => ({ ...c, start: n(c.start) })).sort((a, b) => a.start - b.start);
      series.setData(sorted.map((c) => ({ time: secs(c.start), open: n(c.open), high: n(c.high), low: n(c.low), close: n(c.close) })));
      const marked = tradeMarkers({ candles: sorted, timeframe, trades, positions, orders });
      markers.setMarkers(asSeriesMarkers(marked));
      for (const l of lines) series.removePriceLine(l);
      lines = positions.flatMap((p) => [
        p.stop !== undefined && { price: p.stop, color: COLORS.stop, title: `stop ${p.systemId}` },
        p.takeProfit !== undefined && { price: p.takeProfit, color: COLORS.target, title: `target ${p.systemId}` },
        p.trailing && { price: p.trailing.level, color: COLORS.trail, title: `trail ${p.systemId}` },
      ]).filter(Boolean).map((l) => series.createPriceLine({ ...l, lineWidth: 1, lineStyle: LineStyle.Dashed, axisLabelVisible: true }));
      Object.assign(el.dataset, { candles: sorted.length, entries: marked.entries.length, exits: marked.exits.length, stops: marked.stops.length, priceLines: lines.length });
      window.maoDesk.charts[name] = { candles: sorted.length, ...marked, priceLines: lines.length };
      if (!fitted && sorted.length) {
        chart.timeScale().fitContent();
        fitted = true;
      }
    },
    remove: () => chart.remove(),
  };
}

/** Equity with its running peak, and the drawdown from that peak in percent (≤ 0). */
export function drawdownOf(points) {
  let peak = -Infinity;
  return points.map((p) => {
    peak = Math.max(peak, p.equity);
    return { ts: p.ts, equity: p.equity, drawdownPct: peak > 0 ? ((p.equity - peak) / peak) * 100 : 0 };
  });
}

/** Equity (top pane) over the drawdown in percent (bottom pane). */
export function equityChart(el, name = 'equity') {
  const chart = baseChart(el);
  const equity = chart.addSeries(AreaSeries, { lineColor: COLORS.line, topColor: 'rgba(37, 99, 235, 0.25)', bottomColor: 'rgba(37, 99, 235, 0.02)', lineWidth: 2, title: 'equity' });
  const drawdown = chart.addSeries(HistogramSeries, { color: 'rgba(214, 69, 69, 0.6)', title: 'drawdown %', priceFormat: { type: 'percent' } }, 1);
  const peakLine = chart.addSeries(LineSeries, { color: '#94a3b8', lineWidth: 1, lineStyle: LineStyle.Dotted, priceLineVisible: false, lastValueVisible: false, title: 'peak' });
  let fitted = false;
  return {
    update(points) {
      const rows = drawdownOf(points.map((p) => ({ ts: n(p.ts), equity: n(p.equity) })).sort((a, b) => a.ts - b.ts));
      equity.setData(rows.map((r) => ({ time: secs(r.ts), value: r.equity })));
      let peak = -Infinity;
      peakLine.setData(rows.map((r) => ({ time: secs(r.ts), value: (peak = Math.max(peak, r.equity)) })));
      drawdown.setData(rows.map((r) => ({ time: secs(r.ts), value: r.drawdownPct })));
      const maxDrawdownPct = rows.reduce((m, r) => Math.min(m, r.drawdownPct), 0);
      Object.assign(el.dataset, { points: rows.length, maxDrawdownPct: maxDrawdownPct.toFixed(4) });
      window.maoDesk.charts[name] = { points: rows.length, maxDrawdownPct, last: rows.at(-1) ?? null };
      if (!fitted && rows.length) {
        chart.timeScale().fitContent();
        fitted = true;
      }
    },
    remove: () => chart.remove(),
  };
}
