import { z } from 'zod';
import { EMA, getAverage } from 'trading-signals';
import type { Decision, DecisionInput, DecisionOutput, PortfolioView, TradingSystem } from './types';

/**
 * Moving-average crossover with a protective stop.
 *
 * Fast MA crosses above slow MA → be long; crosses below → be short (or flat when shorting is
 * not allowed). The stop sits `stopDistancePct` percent beyond the close of the signal frame.
 * Averages come from `trading-signals`, rebuilt from the closes window on every frame.
 */

export const MaCrossoverParamsSchema = z
  .object({
    fastPeriod: z.number().int('fastPeriod must be an integer').min(1, 'fastPeriod must be at least 1').default(10),
    slowPeriod: z.number().int('slowPeriod must be an integer').min(2, 'slowPeriod must be at least 2').default(30),
    quantity: z.number().finite().positive('quantity must be positive').default(1),
    stopDistancePct: z
      .number()
      .finite()
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
  }));

export type MaCrossoverParams = z.infer<typeof MaCrossoverParamsSchema>;

export type MaRelation = 'above' | 'below';

/** JSON-serialisable: carried across continue-as-new and snapshotted. */
export type MaCrossoverState = {
  /** The most recent closes, oldest first, at most `windowLength(params)` of them. */
  closes: number[];
  /** Fast vs slow on the last frame where they differed; null until the slow average is stable. */
  relation: MaRelation | null;
  /** Averages of the last frame, for status queries; null while warming up. */
  fast: number | null;
  slow: number | null;
};

/**
 * How many closes the state keeps. An SMA needs exactly `slowPeriod`. An EMA is recursive, so it
 * is rebuilt from a longer window (4 × slowPeriod leaves the seed a weight of about e^-8).
 */
export function windowLength(p: Pick<MaCrossoverParams, 'slowPeriod' | 'maType'>): number {
  return p.maType === 'ema' ? 4 * p.slowPeriod : p.slowPeriod;
}

function average(type: MaCrossoverParams['maType'], period: number, closes: readonly number[]): number | null {
  if (type === 'sma') {
    // trading-signals' own average over the last `period` closes: the value its SMA class gives, without
    // building an indicator object every frame (the backtester runs this a million times).
    return closes.length >= period ? getAverage(closes.slice(-period)) : null;
  }
  const ma = new EMA(period);
  for (const c of closes) ma.add(c);
  return ma.isStable ? ma.getResult() : null;
}

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

  initialState(): MaCrossoverState {
    return { closes: [], relation: null, fast: null, slow: null };
  },

  decide({ frame, portfolio, params, state }: DecisionInput<MaCrossoverParams, MaCrossoverState>): DecisionOutput<MaCrossoverState> {
    const closes = [...state.closes, frame.close].slice(-windowLength(params));
    const fast = average(params.maType, params.fastPeriod, closes);
    const slow = average(params.maType, params.slowPeriod, closes);

    if (fast === null || slow === null) {
      return { decision: { action: 'none', quantity: 0, reason: 'warming up' }, state: { closes, relation: null, fast, slow } };
    }

    // Equal averages are not a cross: the previous relation stands until they part.
    const now: MaRelation | null = fast > slow ? 'above' : fast < slow ? 'below' : state.relation;
    const next: MaCrossoverState = { closes, relation: now, fast, slow };
    if (state.relation === null || now === null || now === state.relation) {
      return { decision: { action: 'none', quantity: 0 }, state: next };
    }
    return { decision: signal(now, frame.close, params, portfolio), state: next };
  },
});
