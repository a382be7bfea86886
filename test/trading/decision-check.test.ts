import { decisionProblem } from '../../trading/decision-check';
import type { Decision } from '../../systems/types';

const buy = (over: Partial<Decision> = {}): Decision => ({ action: 'buy', quantity: 1, ...over });

describe('decisionProblem', () => {
  it('accepts none, close, and entries with every leg and entry type', () => {
    expect(decisionProblem({ action: 'none', quantity: 0 })).toBeNull();
    expect(decisionProblem({ action: 'close', quantity: 0 })).toBeNull();
    expect(decisionProblem(buy({ stop: 95, takeProfit: 110, trailingStop: 2, entry: { type: 'market' } }))).toBeNull();
    expect(decisionProblem({ action: 'sell', quantity: 2, entry: { type: 'stop', price: 99, expiresAfterMs: 60_000 } })).toBeNull();
    expect(decisionProblem(buy({ entry: { type: 'limit', price: 98 } }))).toBeNull();
  });

  it('names what is wrong', () => {
    expect(decisionProblem({ action: 'hold' as never, quantity: 1 })).toBe('unknown action hold');
    expect(decisionProblem(buy({ quantity: 0 }))).toBe('quantity 0 is not a positive number');
    expect(decisionProblem(buy({ quantity: NaN }))).toBe('quantity NaN is not a positive number');
    expect(decisionProblem(buy({ stop: -1 }))).toBe('stop -1 is not a positive price');
    expect(decisionProblem({ action: 'none', quantity: 0, stop: NaN })).toBe('stop NaN is not a positive price');
    expect(decisionProblem(buy({ takeProfit: 0 }))).toBe('takeProfit 0 is not a positive price');
    expect(decisionProblem(buy({ trailingStop: Infinity }))).toBe('trailingStop Infinity is not a positive distance');
    expect(decisionProblem(buy({ entry: { type: 'iceberg' } as never }))).toBe('unknown entry type iceberg');
    expect(decisionProblem(buy({ entry: { type: 'stop', price: 0 } }))).toBe('entry price 0 is not a positive price');
    expect(decisionProblem(buy({ entry: { type: 'limit', price: 1, expiresAfterMs: 0 } }))).toBe('entry expiresAfterMs 0 is not a positive duration');
  });
});
