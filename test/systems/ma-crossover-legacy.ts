/**
 * The ma-crossover averages and relation as they were computed before the running averages: both
 * averages rebuilt from the closes window on every frame with trading-signals (getAverage over the tail
 * for SMA, an EMA object fed the whole window). The reference the incremental system must agree with,
 * and the producer of states in the previous shape (what running sessions carry across continue-as-new).
 */
import { EMA, getAverage } from 'trading-signals';
import type { MaCrossoverParams, MaRelation } from '../../systems';

export type LegacyState = { closes: number[]; relation: MaRelation | null; fast: number | null; slow: number | null };

export const legacyInitialState = (): LegacyState => ({ closes: [], relation: null, fast: null, slow: null });

function average(type: MaCrossoverParams['maType'], period: number, closes: readonly number[]): number | null {
  if (type === 'sma') return closes.length >= period ? getAverage(closes.slice(-period)) : null;
  const ma = new EMA(period);
  for (const c of closes) ma.add(c);
  return ma.isStable ? ma.getResult() : null;
}

/** One frame of the old decide: the new state and whether the relation changed (a cross, i.e. a signal). */
export function legacyStep(state: LegacyState, close: number, p: MaCrossoverParams): { state: LegacyState; cross: MaRelation | null } {
  const closes = [...state.closes, close].slice(-(p.maType === 'ema' ? 4 * p.slowPeriod : p.slowPeriod));
  const fast = average(p.maType, p.fastPeriod, closes);
  const slow = average(p.maType, p.slowPeriod, closes);
  if (fast === null || slow === null) return { state: { closes, relation: null, fast, slow }, cross: null };
  const now: MaRelation | null = fast > slow ? 'above' : fast < slow ? 'below' : state.relation;
  const changed = state.relation !== null && now !== null && now !== state.relation;
  return { state: { closes, relation: now, fast, slow }, cross: changed ? now : null };
}
