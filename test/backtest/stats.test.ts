/** backtest/stats.ts on handcrafted trades and equity curves: every figure checked against a hand computation. */
import { computeStats, periodsPerYearOf } from '../../backtest/stats';
import { equityCurveOf } from '../../backtest/equity-curve';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
/** Bar k starts at T0 + k·H; its equity point is stamped at the bar's end. */
const start = (k: number) => T0 + k * H;
const curve = (equities: number[]) => equityCurveOf(equities.map((equity, k) => ({ ts: start(k) + H, equity })));

test('annualisation: bars in a 365-day, around-the-clock year', () => {
  expect(periodsPerYearOf('1m')).toBe(525_600);
  expect(periodsPerYearOf('1h')).toBe(8_760);
  expect(periodsPerYearOf('1d')).toBe(365);
});

test('drawdown: the largest absolute and the largest relative fall are found independently', () => {
  // Peak 100 (start) → 50: −50 = −50 %; peak 300 → 240: −60 = −20 %.
  const s = computeStats({ trades: [], equityCurve: curve([50, 300, 240, 260]), startingBalance: 100, timeframe: '1h' });
  expect(s.maxDrawdown).toBe(60);
  expect(s.maxDrawdownPct).toBe(50);
  expect(s.endEquity).toBe(260);
  expect(s.returnPct).toBe(160);
});

test('drawdown counts a fall below the starting balance before any new high', () => {
  const s = computeStats({ trades: [], equityCurve: curve([1000, 990, 995]), startingBalance: 1000, timeframe: '1h' });
  expect(s.maxDrawdown).toBe(10);
  expect(s.maxDrawdownPct).toBeCloseTo(1, 12);
  const up = computeStats({ trades: [], equityCurve: curve([1001, 1002, 1003]), startingBalance: 1000, timeframe: '1h' });
  expect(up.maxDrawdown).toBe(0);
  expect(up.maxDrawdownPct).toBe(0);
});

test('win rate, net P&L, gross profit and loss, profit factor', () => {
  const trades = [
    { pnl: 5, openedAt: start(0), closedAt: start(1) },
    { pnl: -2, openedAt: start(1), closedAt: start(2) },
    { pnl: 0, openedAt: start(2), closedAt: start(3) },
    { pnl: 3.25, openedAt: start(3), closedAt: start(4) },
  ];
  const s = computeStats({ trades, equityCurve: curve([1005, 1003, 1003, 1006.25, 1006.25]), startingBalance: 1000, timeframe: '1h' });
  expect(s.trades).toBe(4);
  expect(s.wins).toBe(2);
  expect(s.losses).toBe(1); // a break-even trade is neither
  expect(s.winRate).toBe(0.5);
  expect(s.netPnl).toBe(6.25);
  expect(s.grossProfit).toBe(8.25);
  expect(s.grossLoss).toBe(-2);
  expect(s.profitFactor).toBe(4.125);
  expect(s.openPnl).toBe(0);
});

test('net P&L is summed with 1e-8 rounding at each step, like the session realised P&L', () => {
  const trades = [0.1, 0.2, 0.3].map((pnl, k) => ({ pnl, openedAt: start(k), closedAt: start(k + 1) }));
  const s = computeStats({ trades, equityCurve: curve([1000.6]), startingBalance: 1000, timeframe: '1h' });
  expect(s.netPnl).toBe(0.6); // 0.1 + 0.2 + 0.3 is 0.6000000000000001 in floating point
  expect(s.winRate).toBe(1);
  expect(s.profitFactor).toBeNull(); // no losing trade
});

test('without trades: win rate null, profit factor null, zero P&L', () => {
  const s = computeStats({ trades: [], equityCurve: curve([1000, 1000]), startingBalance: 1000, timeframe: '1h' });
  expect(s.winRate).toBeNull();
  expect(s.profitFactor).toBeNull();
  expect(s.netPnl).toBe(0);
  expect(s.trades).toBe(0);
});

test('exposure: a position entered at the close of bar i and left on bar j held bars i+1..j', () => {
  const trades = [
    { pnl: 1, openedAt: start(1), closedAt: start(4) }, // bars 2, 3, 4 (left at bar 4's close: a reversal)
    { pnl: -1, openedAt: start(4), closedAt: start(5) }, // bar 5 (stopped inside bar 5)
  ];
  const s = computeStats({
    trades,
    equityCurve: curve(Array(10).fill(1000)),
    startingBalance: 1000,
    timeframe: '1h',
    openPosition: { openedAt: start(7) }, // bars 8, 9
  });
  expect(s.bars).toBe(10);
  expect(s.barsInMarket).toBe(6);
  expect(s.exposure).toBe(0.6);
  const flat = computeStats({ trades: [], equityCurve: curve(Array(4).fill(1000)), startingBalance: 1000, timeframe: '1h' });
  expect(flat.exposure).toBe(0);
  expect(computeStats({ trades: [], equityCurve: curve([]), startingBalance: 1000, timeframe: '1h' }).exposure).toBe(0);
});

test('exposure over a curve with gaps, trades in time order or not, equals a count of the bars held', () => {
  // Bars on an hourly grid with missing hours (a market closed at times), and timestamps between bars.
  const starts: number[] = [];
  for (let k = 0, seed = 7; starts.length < 3_000; k++) {
    seed = (seed * 48271) % 2147483647;
    if (seed % 5 !== 0) starts.push(start(k));
  }
  const gapped = equityCurveOf(starts.map((s) => ({ ts: s + H, equity: 1000 })));
  const held = (openedAt: number, closedAt: number) => starts.filter((s) => s > openedAt && s <= closedAt).length;
  const trades: { pnl: number; openedAt: number; closedAt: number }[] = [];
  for (let i = 0, seed = 11, at = start(-3); i < 200; i++) {
    seed = (seed * 48271) % 2147483647;
    const openedAt = at + (seed % 40) * H + (i % 3 === 0 ? H / 2 : 0);
    const closedAt = openedAt + (1 + (seed % 97)) * H;
    trades.push({ pnl: 0, openedAt, closedAt });
    at = closedAt;
  }
  const expected = trades.reduce((n, t) => n + held(t.openedAt, t.closedAt), 0);
  const openedAt = trades[trades.length - 1].closedAt - 50 * H;
  const inOrder = computeStats({ trades, equityCurve: gapped, startingBalance: 1000, timeframe: '1h', openPosition: { openedAt } });
  expect(inOrder.barsInMarket).toBe(expected + held(openedAt, Infinity));
  const shuffled = [...trades].sort((x, y) => (x.openedAt % 7) - (y.openedAt % 7));
  expect(computeStats({ trades: shuffled, equityCurve: gapped, startingBalance: 1000, timeframe: '1h' }).barsInMarket).toBe(expected);
});

test('Sharpe: mean over sample sd of per-bar returns, × √(bars per year); sign follows the returns', () => {
  // Returns +10 %, +10 %, −10 %: mean 1/30, sample variance 1/75 → per-bar Sharpe √75/30 = √3/6.
  const s = computeStats({ trades: [], equityCurve: curve([110, 121, 108.9]), startingBalance: 100, timeframe: '1d' });
  expect(s.periodsPerYear).toBe(365);
  expect(s.sharpe).toBeCloseTo((Math.sqrt(3) / 6) * Math.sqrt(365), 10);
  expect(s.sharpe!).toBeGreaterThan(0);

  const down = computeStats({ trades: [], equityCurve: curve([90, 81, 89.1]), startingBalance: 100, timeframe: '1d' });
  expect(down.sharpe).toBeCloseTo(-(Math.sqrt(3) / 6) * Math.sqrt(365), 10);

  const custom = computeStats({ trades: [], equityCurve: curve([110, 121, 108.9]), startingBalance: 100, timeframe: '1d', periodsPerYear: 252 });
  expect(custom.sharpe).toBeCloseTo((Math.sqrt(3) / 6) * Math.sqrt(252), 10);
});

test('Sharpe is null when it is undefined: flat equity, or fewer than two bars', () => {
  expect(computeStats({ trades: [], equityCurve: curve([100, 100, 100]), startingBalance: 100, timeframe: '1h' }).sharpe).toBeNull();
  expect(computeStats({ trades: [], equityCurve: curve([101]), startingBalance: 100, timeframe: '1h' }).sharpe).toBeNull();
  expect(computeStats({ trades: [], equityCurve: curve([]), startingBalance: 100, timeframe: '1h' }).sharpe).toBeNull();
});

test('open P&L is the part of the end equity not yet realised', () => {
  const s = computeStats({
    trades: [{ pnl: 10, openedAt: start(0), closedAt: start(1) }],
    equityCurve: curve([1002, 1010, 1013.5]),
    startingBalance: 1000,
    timeframe: '1h',
    openPosition: { openedAt: start(1) },
  });
  expect(s.netPnl).toBe(10);
  expect(s.openPnl).toBe(3.5);
  expect(s.barsInMarket).toBe(2); // bar 1 (first trade) + bar 2 (the open one)
});
