import { z } from 'zod';
import { NO_DECISION, decisionOf, type Decision, type DecisionInput, type DecisionOutput, type PortfolioView, type TradingSystem } from './types';
import { finiteNumber, MAX_WINDOW_LENGTH, periodParam, quantityParam } from './param-bounds';
import { builtFor, pushClose, rebuildAverages, windowLength, type WindowAverages } from './window-averages';

export { windowLength } from './window-averages';

/**
 * Moving-average crossover with a protective stop.
 *
 * Fast MA crosses above slow MA → be long; crosses below → be short (or flat when shorting is
 * not allowed). The stop sits `stopDistancePct` percent beyond the close of the signal frame.
 * The averages are trading-signals' values over the closes window, kept as running values in the state
 * (`window-averages.ts`): O(1) per frame, because the backtester runs this a million times.
 */

export const MaCrossoverParamsSchema = z
  .object({
    fastPeriod: periodParam('fastPeriod', 1).default(10),
    slowPeriod: periodParam('slowPeriod', 2).default(30),
    quantity: quantityParam().default(1),
    stopDistancePct: finiteNumber('stopDistancePct')
      .gt(0, 'stopDistancePct must be greater than 0')
      .lt(50, 'stopDistancePct must be less than 50')
      .default(1),
    allowShort: z.boolean().default(true),
    maType: z.enum(['sma', 'ema']).default('sma'),
  })
  .strict()
  .refine((p) => p.slowPeriod > p.fastPeriod, (p) => ({
    path: ['slowPeriod'],
    message: `slowPeriod (${p.slowPeriod}) must be greater than fastPeriod (${p.fastPeriod})`,
  }))
  // An SMA keeps slowPeriod closes (bounded by MAX_PERIOD); an EMA keeps 4 × slowPeriod.
  .refine((p) => p.maType !== 'ema' || windowLength(p) <= MAX_WINDOW_LENGTH, (p) => ({
    path: ['slowPeriod'],
    message: `slowPeriod (${p.slowPeriod}) with maType ${p.maType} keeps ${windowLength(p)} closes in state; at most ${MAX_WINDOW_LENGTH} (an EMA keeps 4 × slowPeriod)`,
  }));

export type MaCrossoverParams = z.infer<typeof MaCrossoverParamsSchema>;

export type MaRelation = 'above' | 'below';

/**
 * JSON-serialisable: carried across continue-as-new and snapshotted. Bounded: at most
 * `windowLength(params)` closes. A state of the previous shape (`closes` oldest first, no running values)
 * is still accepted: the running values are rebuilt from its closes, as they are after a parameter change.
 */
export type MaCrossoverState = WindowAverages & {
  /** Fast vs slow on the last frame where they differed; null until the slow average is stable. */
  relation: MaRelation | null;
  /** Averages of the last frame, for status queries; null while warming up. */
  fast: number | null;
  slow: number | null;
};

/** What a running session may carry from before the running averages: closes oldest first, nothing else. */
type LegacyMaCrossoverState = Pick<MaCrossoverState, 'closes' | 'relation' | 'fast' | 'slow'>;

/**
 * The per-frame imports, bound once. Under tsx (per-module CommonJS, how the bench and the workers run
 * TypeScript) every use of an imported binding is a call of two export getters; `decide` used four per
 * frame. Same functions, same values: nothing here can change a decision.
 */
const isBuiltFor = builtFor;
const push = pushClose;
const lentOutput = decisionOf;
const NONE = NO_DECISION;

const WARMING_UP: Decision = Object.freeze({ action: 'none', quantity: 0, reason: 'warming up' }) as Decision;

function roundPrice(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}

function signal(
  cross: MaRelation,
  close: number,
  params: MaCrossoverParams,
  portfolio: PortfolioView,
): Decision {
  const side = portfolio.position?.side;
  const offset = params.stopDistancePct / 100;
  if (cross === 'above') {
    if (side === 'long') return { action: 'none', quantity: 0, reason: 'fast crossed above slow; already long' };
    return {
      action: 'buy',
      quantity: params.quantity,
      stop: roundPrice(close * (1 - offset)),
      reason: 'fast crossed above slow',
    };
  }
  if (params.allowShort) {
    if (side === 'short') return { action: 'none', quantity: 0, reason: 'fast crossed below slow; already short' };
    return {
      action: 'sell',
      quantity: params.quantity,
      stop: roundPrice(close * (1 + offset)),
      reason: 'fast crossed below slow',
    };
  }
  if (side === 'long') {
    return { action: 'close', quantity: portfolio.position!.quantity, reason: 'fast crossed below slow; shorting not allowed' };
  }
  return { action: 'none', quantity: 0, reason: 'fast crossed below slow; shorting not allowed and not long' };
}

export const maCrossover: TradingSystem<MaCrossoverParams, MaCrossoverState> = Object.freeze({
  name: 'ma-crossover',
  description: 'Moving-average crossover (SMA or EMA) with a percentage stop; long and optionally short.',
  paramsSchema: MaCrossoverParamsSchema,

  initialState(params: MaCrossoverParams): MaCrossoverState {
    return { ...rebuildAverages({ closes: [] }, params), relation: null, fast: null, slow: null };
  },

  /**
   * Updates the state it is given IN PLACE and returns it (a new object only when the state was built
   * for other parameters or is of the previous shape). Both callers replace their state with `out.state`
   * and keep no other reference to it: the workflow (`rt.state = out.state`; queries, snapshots and
   * continue-as-new serialise it before the next frame) and the backtester. The output is the one the
   * caller lent (`input.output`) when there is one: no object per frame. Nothing below can throw
   * between the first write and the return, so a half-updated state is never left behind.
   */
  decide(input: DecisionInput<MaCrossoverParams, MaCrossoverState>): DecisionOutput<MaCrossoverState> {
    const { frame, params, state } = input;
    const s: MaCrossoverState = isBuiltFor(state, params) ? state : migrated(state, params);
    const before = s.relation;
    push(s, frame.close, s);
    const { fast, slow } = s;
    if (fast === null || slow === null) {
      s.relation = null;
      return lentOutput(input, WARMING_UP, s);
    }
    // Equal averages are not a cross: the previous relation stands until they part.
    const now: MaRelation | null = fast > slow ? 'above' : fast < slow ? 'below' : before;
    s.relation = now;
    if (before === null || now === null || now === before) return lentOutput(input, NONE, s);
    return lentOutput(input, signal(now, frame.close, params, input.portfolio), s);
  },
});

/** A state built for other parameters, or of the previous shape: the running values rebuilt from its closes. */
function migrated(state: MaCrossoverState | LegacyMaCrossoverState, params: MaCrossoverParams): MaCrossoverState {
  return { ...rebuildAverages(state, params), relation: state.relation, fast: state.fast, slow: state.slow };
}
