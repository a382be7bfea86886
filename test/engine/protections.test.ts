/**
 * The protections as the engine applies them, with no Temporal server: daily loss and max drawdown
 * tighten the trading state at the equity mark that reaches them (and only then), the stop-loss guard
 * and the loss cooldown lock entries after the trades that trigger them; each lift runs on its timer.
 */
import { BARS_BASE, bars, flat, scriptedSystem, type Ohlc } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';
const MIN = 60_000;
const at = (close: number): Ohlc => [close, close + 0.05, close - 0.05, close];
const refusals = (h: EngineHarness) => h.outcomes.flatMap((o) => o.refusals ?? []);
const controlEvents = (h: EngineHarness) => h.outcomes.flatMap((o) => o.controlEvents ?? []).map((c) => [c.from, c.to, c.by, c.source]);

describe('daily loss', () => {
  const config = (action?: 'reducing' | 'halted') => ({
    protections: { dailyLoss: { limit: 50, ...(action ? { action } : {}) } },
    systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy' as const, quantity: 10 }, { frame: 4, action: 'buy' as const, quantity: 1 }, { frame: 5, action: 'close' as const }])],
  });

  test('a loss of 49 does nothing; the mark at a loss of 50 sets reducing; entries are refused, the close passes', () => {
    const h = new EngineHarness(config());
    h.feed(bars(SYM, [at(100), at(95.1)]));
    expect(h.engine.state.tradingState).toBe('active');
    h.feed(bars(SYM, [at(100), at(95.1), at(95)]).slice(2));
    expect(h.engine.state.tradingState).toBe('reducing');
    expect(h.engine.state.tradingStateBy).toBe('protection:daily-loss');
    expect(controlEvents(h)).toEqual([['active', 'reducing', 'protection:daily-loss', 'protection']]);
    expect(h.engine.state.tradingStateHistory[0].reason).toBe('daily loss 50 (day start equity 100,000, equity 99,950) reaches dailyLoss.limit 50');
    // Lifted at the next UTC midnight.
    expect(h.engine.state.dailyLossLiftAt).toBe(Date.UTC(2026, 0, 6));
    expect(h.engine.nextDeadline()).toBe(Date.UTC(2026, 0, 6));
    h.feed(bars(SYM, [at(100), at(95.1), at(95), at(95), at(95)]).slice(3));
    // Frame 4's buy is the same side as the open position (ignored); frame 5's close passes.
    expect(refusals(h)).toEqual([]);
    expect(h.engine.trades()).toEqual([expect.objectContaining({ exitReason: 'signal', pnl: -50 })]);
  });

  test('reducing from the daily loss is lifted by its timer at UTC midnight, and the new day starts afresh', () => {
    const h = new EngineHarness(config());
    h.feed(bars(SYM, [at(100), at(94)]));
    expect(h.engine.state.tradingState).toBe('reducing');
    const mark = h.effects.length;
    h.advance(Date.UTC(2026, 0, 6) - h.clock - 1);
    expect(h.engine.state.tradingState).toBe('reducing');
    h.advance(1);
    expect(h.engine.state.tradingState).toBe('active');
    expect(h.engine.state.dailyLossLiftAt).toBeNull();
    expect(h.kinds().slice(mark)).toEqual(['recordOutcome']);
    expect(controlEvents(h).pop()).toEqual(['reducing', 'active', 'protection:daily-loss', 'protection']);
  });

  test('the lift never loosens a state a person set since: a halt stays', () => {
    const h = new EngineHarness(config());
    h.feed(bars(SYM, [at(100), at(94)]));
    h.run(h.engine.setTradingState({ state: 'halted', by: 'ops', reason: 'incident' }));
    h.advance(Date.UTC(2026, 0, 6) - h.clock);
    expect(h.engine.state.tradingState).toBe('halted');
    expect(h.engine.state.dailyLossLiftAt).toBeNull();
  });

  test('with action halted the breach halts, and halted refuses even the close', () => {
    const h = new EngineHarness(config('halted'));
    h.feed(bars(SYM, [at(100), at(94), at(94), at(94), at(94)]));
    expect(h.engine.state.tradingState).toBe('halted');
    expect(refusals(h).map((r) => [r.rule, r.intent])).toEqual([['trading-state', 'close']]);
    expect(h.engine.positions()).toHaveLength(1);
  });

  test('a person re-activating re-arms the limit from the current equity: the same loss does not breach again', () => {
    const h = new EngineHarness(config());
    h.feed(bars(SYM, [at(100), at(94)]));
    h.run(h.engine.setTradingState({ state: 'active', by: 'ops', reason: 'checked' }));
    expect(h.engine.state.protection).toMatchObject({ dayStartEquity: 99_940, peakEquity: 99_940 });
    expect(h.engine.state.dailyLossLiftAt).toBeNull();
    h.feed(bars(SYM, [at(100), at(94), at(93.9)]).slice(2));
    expect(h.engine.state.tradingState).toBe('active');
    h.feed(bars(SYM, [at(100), at(94), at(93.9), at(88.9)]).slice(3));
    expect(h.engine.state.tradingState).toBe('reducing');
  });
});

describe('max drawdown', () => {
  const config = { protections: { maxDrawdown: { pct: 1 } }, systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy' as const, quantity: 100 }])] };

  test('measured from the equity peak: 0.99 % does nothing, 1.0099 % halts; no timer lifts it', () => {
    const h = new EngineHarness(config);
    h.feed(bars(SYM, [at(100), at(110), at(100)]));
    expect(h.engine.state.protection?.peakEquity).toBe(101_000);
    expect(h.engine.state.tradingState).toBe('active');
    h.feed(bars(SYM, [at(100), at(110), at(100), at(99.8)]).slice(3));
    expect(h.engine.state.tradingState).toBe('halted');
    expect(controlEvents(h)).toEqual([['active', 'halted', 'protection:max-drawdown', 'protection']]);
    expect(h.engine.state.tradingStateHistory[0].reason).toBe('drawdown 1.01% (peak equity 101,000, equity 99,980) reaches maxDrawdown.pct 1%');
    expect(h.engine.nextDeadline()).toBeNull();
    h.advance(3 * 86_400_000);
    expect(h.engine.state.tradingState).toBe('halted');
  });

  test('only a person lifts it, and that re-arms the peak at the current equity', () => {
    const h = new EngineHarness(config);
    h.feed(bars(SYM, [at(100), at(110), at(99)]));
    expect(h.engine.state.tradingState).toBe('halted');
    h.run(h.engine.setTradingState({ state: 'active', by: 'ops', reason: 'reviewed' }));
    expect(h.engine.state.protection?.peakEquity).toBe(99_900);
    h.feed(bars(SYM, [at(100), at(110), at(99), at(98.5)]).slice(3));
    expect(h.engine.state.tradingState).toBe('active');
  });

  test('a breach that is milder than the current state changes nothing (a protection only tightens)', () => {
    const h = new EngineHarness({ protections: { maxDrawdown: { pct: 1, action: 'reducing' } }, systems: config.systems });
    h.feed(bars(SYM, [at(100)]));
    h.run(h.engine.setTradingState({ state: 'halted', by: 'ops', reason: 'incident' }));
    h.feed(bars(SYM, [at(100), at(90)]).slice(1));
    expect(h.engine.state.tradingState).toBe('halted');
    expect(h.engine.state.tradingStateBy).toBe('ops');
  });
});

describe('stop-loss guard', () => {
  const stopHit: Ohlc = [99.5, 99.6, 98.5, 99.5];

  test('the second stop exit in the window locks entries on every symbol for the cooldown; its timer lifts the lock', () => {
    const h = new EngineHarness({
      protections: { stopLossGuard: { maxStops: 2, windowMinutes: 10, cooldownMinutes: 5 } },
      systems: [
        scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 99 }, { frame: 2, action: 'buy', quantity: 1, stop: 98.9 }, { frame: 3, action: 'buy', quantity: 1, stop: 98 }, { frame: 8, action: 'buy', quantity: 1 }]),
        scriptedSystem('o', 'OTHER', [{ frame: 1, action: 'buy', quantity: 1 }]),
      ],
    });
    const unit = bars(SYM, [at(100), stopHit, stopHit, ...flat(5, 99.5)]);
    h.feed(unit.slice(0, 2));
    expect(h.engine.state.locks).toEqual([]);
    h.feed([unit[2]]);
    const lockedAt = BARS_BASE + 3 * MIN;
    expect(h.engine.trades().map((t) => t.exitReason)).toEqual(['stop', 'stop']);
    expect(h.engine.state.locks).toEqual([expect.objectContaining({ id: `stop-loss-guard:*:${lockedAt}`, kind: 'stop-loss-guard', since: lockedAt, until: lockedAt + 5 * MIN })]);
    expect(h.engine.state.locks[0].symbol).toBeUndefined();
    // Frame 3's own buy comes after the stop on the same frame: refused by the lock.
    expect(refusals(h).map((r) => [r.rule, r.systemId])).toEqual([['stop-loss-guard', 's']]);
    // Every symbol: the other system's entry is refused too.
    h.feed(bars('OTHER', flat(1, 50)).map((f) => ({ ...f, start: BARS_BASE + 3 * MIN })));
    expect(refusals(h).map((r) => [r.rule, r.systemId, r.symbol])).toEqual([['stop-loss-guard', 's', SYM], ['stop-loss-guard', 'o', 'OTHER']]);
    expect(h.engine.nextDeadline()).toBe(lockedAt + 5 * MIN);
    h.feed(unit.slice(3, 7));
    h.advance(lockedAt + 5 * MIN - h.clock - 1);
    expect(h.engine.state.locks).toHaveLength(1);
    h.advance(1);
    expect(h.engine.state.locks).toEqual([]);
    expect(h.logs.some((l) => l.message === 'protection stop-loss-guard lifted')).toBe(true);
    h.feed([unit[7]]);
    expect(h.engine.positions().map((p) => p.systemId)).toEqual(['s']);
  });

  test('exits other than stops do not count, and stops outside the window are forgotten', () => {
    const h = new EngineHarness({
      protections: { stopLossGuard: { maxStops: 2, windowMinutes: 2, cooldownMinutes: 5 } },
      systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1, stop: 99 }, { frame: 3, action: 'buy', quantity: 1 }, { frame: 4, action: 'close' }, { frame: 5, action: 'buy', quantity: 1, stop: 99 }])],
    });
    // Stop at frame 2, signal close at frame 4, stop at frame 6: four minutes apart, window two.
    h.feed(bars(SYM, [at(100), stopHit, at(100), at(98), at(100), stopHit]));
    expect(h.engine.trades().map((t) => t.closedAt - BARS_BASE)).toEqual([1 * MIN, 3 * MIN, 5 * MIN]);
    expect(h.engine.trades().map((t) => t.exitReason)).toEqual(['stop', 'signal', 'stop']);
    expect(h.engine.state.locks).toEqual([]);
  });
});

describe('loss cooldown', () => {
  test('a losing exit locks entries on its symbol only, for its minutes; a winning exit locks nothing', () => {
    const h = new EngineHarness({
      protections: { lossCooldown: { minutes: 3 } },
      systems: [
        scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'close' }, { frame: 3, action: 'buy', quantity: 1 }, { frame: 4, action: 'close' }, { frame: 5, action: 'buy', quantity: 1 }, { frame: 6, action: 'close' }]),
        scriptedSystem('o', 'OTHER', [{ frame: 1, action: 'buy', quantity: 1 }]),
      ],
    });
    // A win first: no lock.
    h.feed(bars(SYM, [at(100), at(101)]));
    expect(h.engine.state.locks).toEqual([]);
    h.feed(bars(SYM, [at(100), at(101), at(101), at(100)]).slice(2));
    const lockedAt = BARS_BASE + 4 * MIN;
    expect(h.engine.state.locks).toEqual([expect.objectContaining({ id: `loss-cooldown:${SYM}:${lockedAt}`, kind: 'loss-cooldown', symbol: SYM, until: lockedAt + 3 * MIN })]);
    // Another symbol trades on.
    h.feed(bars('OTHER', flat(1, 50)).map((f) => ({ ...f, start: BARS_BASE + 4 * MIN })));
    expect(h.engine.positions().map((p) => p.systemId)).toEqual(['o']);
    h.feed(bars(SYM, flat(5, 100)).slice(4));
    expect(refusals(h)).toEqual([expect.objectContaining({ rule: 'loss-cooldown', systemId: 's', symbol: SYM, numbers: { lockId: `loss-cooldown:${SYM}:${lockedAt}`, since: lockedAt, until: lockedAt + 3 * MIN, now: BARS_BASE + 5 * MIN } })]);
    h.advance(3 * MIN);
    expect(h.engine.state.locks).toEqual([]);
  });

  test('its lift timer fires exactly at the lock end, and an entry at that instant passes', () => {
    const h = new EngineHarness({ protections: { lossCooldown: { minutes: 2 } }, systems: [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity: 1 }, { frame: 2, action: 'close' }, { frame: 4, action: 'buy', quantity: 1 }])] });
    h.feed(bars(SYM, [at(100), at(99)]));
    const until = BARS_BASE + 2 * MIN + 2 * MIN;
    expect(h.engine.nextDeadline()).toBe(until);
    h.feed(bars(SYM, [at(100), at(99), at(99), at(99)]).slice(2));
    // Frame 4 ends at `until`: the lock has expired (until is exclusive).
    expect(refusals(h)).toEqual([]);
    expect(h.engine.positions()).toHaveLength(1);
  });
});
