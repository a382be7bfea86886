/** A scripted system and hand-made bars, so backtest tests say exactly which decision meets which bar. */
import { z } from 'zod';
import type { Frame } from '../../market/frame';
import type { Decision, TradingSystem } from '../../systems/types';

export const T0 = Date.UTC(2024, 0, 1);
export const MIN = 60_000;

/** Bars of symbol T, 1m, from T0: each [open, high, low, close]. */
export function bars(...ohlc: [number, number, number, number][]): Frame[] {
  return ohlc.map(([open, high, low, close], i) => ({ symbol: 'T', timeframe: '1m', start: T0 + i * MIN, open, high, low, close, volume: 0 }));
}

/** A flat bar at `price`: touches nothing away from it. */
export const flat = (price: number): [number, number, number, number] => [price, price, price, price];

/** Decides `script[i]` on bar i (none elsewhere) and records the position it was shown on each bar. */
export function scripted(script: Record<number, Decision>): TradingSystem<Record<string, never>, { bar: number }> & { seen: (string | null)[] } {
  const seen: (string | null)[] = [];
  return {
    name: 'scripted',
    description: 'test script',
    paramsSchema: z.object({}).strict(),
    seen,
    initialState: () => ({ bar: 0 }),
    decide({ portfolio, state }) {
      seen.push(portfolio.position ? `${portfolio.position.side}@${portfolio.position.entryPrice}${portfolio.position.stop !== undefined ? ` stop ${portfolio.position.stop}` : ''}` : null);
      return { decision: script[state.bar] ?? { action: 'none', quantity: 0 }, state: { bar: state.bar + 1 } };
    },
  };
}

/** No spread or slippage: every market order fills at the bar's close exactly. */
export const EXACT = { spreadBps: 0, slippageBps: 0 };
