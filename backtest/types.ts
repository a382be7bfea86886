import type { PaperConfig } from '../brokers/paper/config';
import type { SessionConfigInput } from '../config/session-config';
import type { TradingStateChange } from '../risk/trading-state';
import type { RiskRefusal } from '../workflows/risk-view';
import type { OrderSide } from '../brokers/adapter';
import type { Frame, FrameColumns } from '../market/frame';
import type { TradingSystem } from '../systems/types';
import type { Position } from '../trading/position';
import type { Trade } from '../trading/trade';
import type { WorkingOrder } from '../trading/working-order';

/** Called every `progressEveryBars` bars and once at the end with (bars done, bars in all). */
export type ProgressFn = (done: number, total: number) => void;

export interface BacktestOptions {
  /**
   * One stream (same symbol and timeframe), strictly increasing starts, each valid under FrameSchema: as
   * frame objects, or as columns (`frameColumnsOf`, market/frame.ts), which a long run reads through one
   * reused frame object instead of an object per bar (same results).
   */
  frames: readonly Frame[] | FrameColumns;
  /**
   * A system name from the registry (`systems/registry.ts`), e.g. `ma-crossover`, or a system object
   * not (yet) registered, e.g. one under development or a test's scripted system.
   */
  system: string | TradingSystem;
  /** Raw parameters, validated by the system's schema (defaults applied); `undefined` = all defaults. */
  params?: unknown;
  /** The paper venue's fill model (spreadBps, slippageBps) and initialBalance; PaperConfigSchema defaults. */
  paper?: Partial<PaperConfig>;
  /** Starting equity; defaults to `paper.initialBalance` (what a live session reads from the venue). */
  startingBalance?: number;
  onProgress?: ProgressFn;
  /** Default 10,000. */
  progressEveryBars?: number;
  /** Account id used in clientOrderIds (`<account>-000001`), as the live session does. Default `backtest`. */
  account?: string;
  /** System id of the session config (`systems[].id`), written into trades and orders. Default `bt`. */
  systemId?: string;
  /** The account's pre-trade limits, as a live session's `risk` config (RiskLimitsSchema defaults). */
  risk?: SessionConfigInput['risk'];
  /** Daily loss, drawdown, stop-loss guard, loss cooldown, as a live session's `protections` config. */
  protections?: SessionConfigInput['protections'];
  /** Flatten-at-close and reopen times (UTC), as a live session's `schedule`. */
  schedule?: SessionConfigInput['schedule'];
}

/**
 * How an order came about: a system's entry (market, or a working limit/stop entry that triggered), a
 * system's exit (signal, reversal, or the close after a refused stop), the venue's protective stop (its
 * fill, or its refusal), or a market close for an emulated take-profit / trailing stop.
 */
export type BacktestOrderKind = 'entry' | 'exit' | 'stop' | 'take-profit' | 'trailing-stop';

/**
 * One order, shaped like the live session's `mt_<account>.orders` row (OrderRecord) plus the bar it
 * happened on. Market orders carry the session's sequence; the protective stop leg (`<ref>-S`) has
 * `seq: null` and appears when it fills or when the venue refuses it.
 */
export interface BacktestOrder {
  clientOrderId: string;
  seq: number | null;
  systemId: string;
  symbol: string;
  side: OrderSide;
  quantity: number;
  intent: 'open' | 'close';
  kind: BacktestOrderKind;
  positionRef?: string;
  stopLevel?: number;
  /** `rejected`: the paper venue refused it (a protective stop on the wrong side of the price after the entry filled). */
  status: 'filled' | 'rejected';
  /** Fill price; absent when rejected. */
  fillPrice?: number;
  /** Epoch ms the venue stamps on the fill: the end of the bar whose price filled it. */
  filledAt: number | null;
  reason?: string;
  /** Start of the bar on which the order happened, and its index in `frames`. */
  frameStart: number;
  frameIndex: number;
}

/**
 * A limit/stop entry the backtest held, with how it ended (`working`: still waiting after the last bar),
 * like the live session's `working_orders` rows. `endedAt`: start of the bar on which it triggered,
 * expired or was cancelled (replaced by a newer one, or by a `close`).
 */
export interface BacktestWorkingOrder extends WorkingOrder {
  status: 'working' | 'triggered' | 'expired' | 'cancelled';
  endedAt?: number;
}

/** Equity at the close of a bar, like `mt_<account>.equity`: ts = bar end, equity = balance + unrealised. */
export interface EquityPoint {
  ts: number;
  equity: number;
}

/**
 * The equity points of a run as two columns of the same length: `ts[k]` and `equity[k]` are point k.
 * Columns, not an array of EquityPoint: a million-bar run would otherwise keep a million objects alive,
 * which the garbage collector marks again on every major collection. `equityPoints` (equity-curve.ts)
 * materialises the points where objects are wanted (tests, small curves).
 */
export interface EquityCurve {
  readonly ts: Float64Array;
  readonly equity: Float64Array;
}

export interface BacktestStats {
  bars: number;
  /** Timeframe the stats were annualised with. */
  timeframe: Frame['timeframe'];
  startingBalance: number;
  endEquity: number;
  /** endEquity − startingBalance, in percent of startingBalance. */
  returnPct: number;
  /** Realised P&L of the closed trades (Σ pnl, rounded like the DECIMAL columns). */
  netPnl: number;
  /** Unrealised P&L of the position still open at the last bar's close (0 when flat). */
  openPnl: number;
  trades: number;
  wins: number;
  losses: number;
  /** wins / trades (pnl > 0 is a win); null without trades. */
  winRate: number | null;
  grossProfit: number;
  grossLoss: number;
  /** grossProfit / |grossLoss|; null when there is no losing trade. */
  profitFactor: number | null;
  /** Largest fall of equity from a running peak (starting balance included), account currency. */
  maxDrawdown: number;
  /** Largest fall of equity from a running peak, in percent of that peak. */
  maxDrawdownPct: number;
  /**
   * mean / sample standard deviation of per-bar equity returns × √periodsPerYear; null with fewer than
   * two bars or flat equity.
   */
  sharpe: number | null;
  periodsPerYear: number;
  /** Bars during which a position was held (opened at an earlier close, still open during the bar). */
  barsInMarket: number;
  /** barsInMarket / bars; 0 without bars. */
  exposure: number;
}

export interface BacktestResult {
  trades: Trade[];
  orders: BacktestOrder[];
  /** Every limit/stop entry placed, in the order placed. */
  workingOrders: BacktestWorkingOrder[];
  /** One point per bar, in bar order. */
  equityCurve: EquityCurve;
  stats: BacktestStats;
  /** The position still open after the last bar, or null. */
  openPosition: Position | null;
  /** Parameters the system ran with (schema defaults applied). */
  params: unknown;
  /** Intents the risk engine refused before any order (the rule and its numbers), in order. */
  refusals: RiskRefusal[];
  /** Trading-state changes (a protection's breach, its lift), in order. */
  tradingStateChanges: TradingStateChange[];
  /** What the live session would have logged and skipped: system exceptions, invalid decisions, refused stops. */
  diagnostics: { systemErrors: number; invalidDecisions: number; rejectedOrders: number };
}
