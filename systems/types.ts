import type { z } from 'zod';
import type { Frame } from '../market/frame';

/** What a trading system wants done on the frame it just saw. */
export type Action = 'none' | 'buy' | 'sell' | 'close';

/**
 * How an entry goes to market. `market` (the default) goes on the frame of the decision; `limit` and
 * `stop` entries wait, emulated by the session from frames, until a frame reaches `price` (limit: at or
 * better; stop: at or beyond) or `expiresAfterMs` has passed since the decision's frame.
 */
export type EntryOrder = { type: 'market' } | { type: 'limit' | 'stop'; price: number; expiresAfterMs?: number };

/**
 * A system's decision. `buy` means "be long `quantity`", `sell` means "be short `quantity`"
 * (reversing an opposite position first), `close` means "be flat". For the new position: `stop` is
 * the protective stop (placed at the broker), `takeProfit` the exit at a profit target and
 * `trailingStop` a stop trailing the best price by that distance (both emulated from frames).
 * `stop` with `takeProfit` is a bracket. The framework places, tracks and cancels all of them.
 */
export interface Decision {
  action: Action;
  quantity: number;
  stop?: number;
  takeProfit?: number;
  /** Distance in price units between the best price since entry and the stop. */
  trailingStop?: number;
  entry?: EntryOrder;
  reason?: string;
}

export const NO_DECISION: Decision = Object.freeze({ action: 'none', quantity: 0 }) as Decision;

export type Side = 'long' | 'short';

/** The part of the portfolio a system may look at: its own position on its own symbol. */
export interface PositionView {
  side: Side;
  quantity: number;
  entryPrice: number;
  stop?: number;
}

export interface PortfolioView {
  position: PositionView | null;
  /** Realised P&L of this system so far, in account currency. */
  realisedPnl: number;
}

/** JSON-serialisable system state: it is carried across continue-as-new and snapshotted to MySQL. */
export type SystemState = Record<string, unknown>;

export interface DecisionInput<P, S extends SystemState> {
  frame: Frame;
  portfolio: PortfolioView;
  params: P;
  state: S;
  /**
   * An output object the caller lends for this call, or absent. A system may fill in its two fields and
   * return it instead of a new object (`decisionOf`): no allocation per frame. The caller reads it at once
   * and lends it again on the next frame, so neither side keeps it.
   */
  output?: DecisionOutput<S>;
}

export interface DecisionOutput<S extends SystemState> {
  decision: Decision;
  state: S;
}

/** `{ decision, state }` in the output the caller lent (`input.output`), else in a new object. */
export function decisionOf<S extends SystemState>(input: DecisionInput<unknown, S>, decision: Decision, state: S): DecisionOutput<S> {
  const out = input.output;
  if (out === undefined) return { decision, state };
  out.decision = decision;
  out.state = state;
  return out;
}

/**
 * A trading system: a zod parameter schema plus one pure, deterministic decision function.
 * The same object runs inside the AccountSession workflow and in the backtester, so it must not
 * do I/O, read the clock or use randomness.
 */
export interface TradingSystem<P = any, S extends SystemState = SystemState> {
  readonly name: string;
  readonly description: string;
  readonly paramsSchema: z.ZodType<P, z.ZodTypeDef, unknown>;
  initialState(params: P): S;
  /**
   * `decide` may update the state object it is given in place and return it as `out.state`: callers keep
   * only `out.state` and no other reference to the state they passed. The input object itself may be
   * reused by the caller from one frame to the next (the backtester sets its fields on each bar), so a
   * system must not keep it, nor its frame (the backtester may reuse one frame object for every bar of a
   * columnar series) nor its lent `output`.
   */
  decide(input: DecisionInput<P, S>): DecisionOutput<S>;
}
