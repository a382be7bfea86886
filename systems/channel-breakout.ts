import { z } from 'zod';
import { getMaximum, getMinimum } from 'trading-signals';
import { timeframeMs } from '../market/timeframe';
import type { Frame } from '../market/frame';
import { finiteNumber, periodParam, quantityParam } from './param-bounds';
import type { Decision, DecisionInput, DecisionOutput, PortfolioView, TradingSystem } from './types';

/**
 * Donchian channel breakout, showing the framework's order features. The channel is the highest high
 * and lowest low of the last `period` frames (trading-signals' getMaximum / getMinimum).
 *
 * Entries: `stop` (default) rests a buy stop at the channel high, or a sell stop at the channel low when
 * the close sits in the channel's lower half and shorting is allowed, and lets it work for `expiryBars`
 * frames' worth of time; the framework emulates it and enters when a frame breaks the level. `market`
 * enters at once when a close breaks out of the previous frames' channel. Every entry carries a
 * protective stop (`stopPct`), and optionally a take-profit (a bracket) and a trailing stop, all measured
 * from the entry level (stop entry: its price; market entry: the signal close). A close beyond the
 * opposite side of the previous channel exits (or reverses, for market entries with shorting allowed).
 */

export const ChannelBreakoutParamsSchema = z
  .object({
    /** At most 1000 (tighter than MAX_PERIOD): the state keeps `period` highs and lows. */
    period: periodParam('period', 2, 1_000).default(20),
    quantity: quantityParam().default(1),
    entry: z.enum(['stop', 'market']).default('stop'),
    /**
     * Stop entries: the order lives expiryBars × timeframe after the decision; the session drops it on
     * the frame that ends at its expiry, so it can trigger on the expiryBars − 1 frames after the decision.
     */
    expiryBars: periodParam('expiryBars', 2, 1_000).default(3),
    /** Protective stop distance from the entry level, percent; 0 = none. */
    stopPct: finiteNumber('stopPct').min(0, 'stopPct must not be negative').lt(50, 'stopPct must be less than 50').default(1),
    /** Take-profit distance from the entry level, percent; 0 = none. With a stop it makes a bracket. */
    takeProfitPct: finiteNumber('takeProfitPct').min(0, 'takeProfitPct must not be negative').max(1_000, 'takeProfitPct must be at most 1000').default(2),
    /** Trailing stop distance, percent of the entry level; 0 = none. */
    trailingStopPct: finiteNumber('trailingStopPct').min(0, 'trailingStopPct must not be negative').lt(50, 'trailingStopPct must be less than 50').default(0),
    allowShort: z.boolean().default(true),
  })
  .strict();

export type ChannelBreakoutParams = z.infer<typeof ChannelBreakoutParamsSchema>;

/** JSON-serialisable and bounded: carried across continue-as-new and snapshotted. */
export type ChannelBreakoutState = {
  /** Highs and lows of the most recent frames, oldest first, at most `period` of each. */
  highs: number[];
  lows: number[];
  /** Stop entries: frames left before a new entry order replaces the resting one (0 = place one now). */
  entryBarsLeft: number;
  /** The channel after the last frame, for status queries; null while warming up. */
  upper: number | null;
  lower: number | null;
};

function roundPrice(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}

/** The entry for `side`, with its stop, take-profit and trailing distance measured from `level`. */
function entryAt(side: 'buy' | 'sell', level: number, params: ChannelBreakoutParams, reason: string): Decision {
  const dir = side === 'buy' ? 1 : -1;
  const d: Decision = { action: side, quantity: params.quantity, reason };
  if (params.stopPct > 0) d.stop = roundPrice(level * (1 - (dir * params.stopPct) / 100));
  if (params.takeProfitPct > 0) d.takeProfit = roundPrice(level * (1 + (dir * params.takeProfitPct) / 100));
  if (params.trailingStopPct > 0) d.trailingStop = roundPrice((level * params.trailingStopPct) / 100);
  return d;
}

const NONE = (reason: string): Decision => ({ action: 'none', quantity: 0, reason });

/** In a position: out when a close breaks the opposite side of the previous frames' channel. */
function exitDecision(frame: Frame, upper: number, lower: number, params: ChannelBreakoutParams, portfolio: PortfolioView): Decision {
  const side = portfolio.position!.side;
  const broke = side === 'long' ? frame.close < lower : frame.close > upper;
  if (!broke) return NONE(`${side}; inside the channel`);
  const reverse = params.entry === 'market' && params.allowShort;
  if (side === 'long') return reverse ? entryAt('sell', frame.close, params, 'close broke below the channel: reverse') : { action: 'close', quantity: portfolio.position!.quantity, reason: 'close broke below the channel' };
  return reverse ? entryAt('buy', frame.close, params, 'close broke above the channel: reverse') : { action: 'close', quantity: portfolio.position!.quantity, reason: 'close broke above the channel' };
}

/** Flat, market entries: a close beyond the previous frames' channel. */
function marketEntry(frame: Frame, upper: number, lower: number, params: ChannelBreakoutParams): Decision {
  if (frame.close > upper) return entryAt('buy', frame.close, params, 'close broke above the channel');
  if (frame.close < lower && params.allowShort) return entryAt('sell', frame.close, params, 'close broke below the channel');
  return NONE('flat; inside the channel');
}

/** Flat, stop entries: a stop order at the side of the channel (this frame included) the close leans to. */
function stopEntry(frame: Frame, upper: number, lower: number, params: ChannelBreakoutParams): Decision {
  const short = params.allowShort && frame.close - lower < upper - frame.close;
  const d = short ? entryAt('sell', lower, params, 'sell stop at the channel low') : entryAt('buy', upper, params, 'buy stop at the channel high');
  d.entry = { type: 'stop', price: short ? lower : upper, expiresAfterMs: params.expiryBars * timeframeMs(frame.timeframe) };
  return d;
}

export const channelBreakout: TradingSystem<ChannelBreakoutParams, ChannelBreakoutState> = Object.freeze({
  name: 'channel-breakout',
  description: 'Donchian channel breakout: stop (or market) entries at the channel, with a protective stop, take-profit and trailing stop.',
  paramsSchema: ChannelBreakoutParamsSchema,

  initialState(): ChannelBreakoutState {
    return { highs: [], lows: [], entryBarsLeft: 0, upper: null, lower: null };
  },

  decide({ frame, portfolio, params, state }: DecisionInput<ChannelBreakoutParams, ChannelBreakoutState>): DecisionOutput<ChannelBreakoutState> {
    const warm = state.highs.length >= params.period;
    // The previous frames' channel: what a close must break (this frame cannot break its own range).
    const prevUpper = warm ? getMaximum(state.highs.slice(-params.period)) : null;
    const prevLower = warm ? getMinimum(state.lows.slice(-params.period)) : null;
    const highs = [...state.highs, frame.high].slice(-params.period);
    const lows = [...state.lows, frame.low].slice(-params.period);
    const upper = highs.length >= params.period ? getMaximum(highs) : null;
    const lower = lows.length >= params.period ? getMinimum(lows) : null;
    const next = (entryBarsLeft: number): ChannelBreakoutState => ({ highs, lows, entryBarsLeft, upper, lower });

    if (portfolio.position !== null) {
      if (prevUpper === null || prevLower === null) return { decision: NONE('warming up'), state: next(0) };
      return { decision: exitDecision(frame, prevUpper, prevLower, params, portfolio), state: next(0) };
    }
    if (params.entry === 'market') {
      if (prevUpper === null || prevLower === null) return { decision: NONE('warming up'), state: next(0) };
      return { decision: marketEntry(frame, prevUpper, prevLower, params), state: next(0) };
    }
    if (upper === null || lower === null) return { decision: NONE('warming up'), state: next(0) };
    if (state.entryBarsLeft > 1) return { decision: NONE('flat; the stop entry is working'), state: next(state.entryBarsLeft - 1) };
    return { decision: stopEntry(frame, upper, lower, params), state: next(params.expiryBars) };
  },
});
