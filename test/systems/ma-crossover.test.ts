import type { Frame } from '../../market/frame';
import { generateFrames } from '../../market/synthetic';
import {
  type Decision,
  type MaCrossoverParams,
  type MaCrossoverState,
  MaCrossoverParamsSchema,
  type PositionView,
  maCrossover,
} from '../../systems';
import { linearCloses } from '../../systems/window-averages';

// The typings of trading-signals sit behind its `exports` map (see systems/ma-crossover.ts).
import { SMA } from 'trading-signals';

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 0, 1);

function frame(i: number, close: number): Frame {
  return { symbol: 'TEST', timeframe: '1m', start: T0 + i * MINUTE, open: close, high: close, low: close, close, volume: 0 };
}

const params = (p: Partial<MaCrossoverParams> = {}): MaCrossoverParams =>
  MaCrossoverParamsSchema.parse({ fastPeriod: 2, slowPeriod: 4, ...p });

/** Runs a series through the system, tracking the position the decisions would leave. */
function run(closes: number[], p: MaCrossoverParams, opts: { state?: MaCrossoverState; position?: PositionView | null } = {}) {
  let state = opts.state ?? maCrossover.initialState(p);
  let position: PositionView | null = opts.position ?? null;
  const decisions: Array<{ i: number; decision: Decision }> = [];
  closes.forEach((close, i) => {
    const out = maCrossover.decide({ frame: frame(i, close), portfolio: { position, realisedPnl: 0 }, params: p, state });
    state = out.state;
    decisions.push({ i, decision: out.decision });
    const d = out.decision;
    if (d.action === 'buy') position = { side: 'long', quantity: d.quantity, entryPrice: close, stop: d.stop };
    if (d.action === 'sell') position = { side: 'short', quantity: d.quantity, entryPrice: close, stop: d.stop };
    if (d.action === 'close') position = null;
  });
  return { decisions, state, trades: decisions.filter((d) => d.decision.action !== 'none') };
}

// fast SMA(2) vs slow SMA(4): flat at 10, falls (fast below), rises (cross up at index 8), falls (cross down at 11).
const SERIES = [10, 10, 10, 10, 9, 8, 7, 9, 12, 14, 12, 8, 6];

describe('ma-crossover decide', () => {
  it('buys on the up-cross and sells on the down-cross with stops 1% beyond the close', () => {
    const { trades } = run(SERIES, params());
    expect(trades).toEqual([
      { i: 8, decision: { action: 'buy', quantity: 1, stop: 11.88, reason: 'fast crossed above slow' } },
      { i: 11, decision: { action: 'sell', quantity: 1, stop: 8.08, reason: 'fast crossed below slow' } },
    ]);
  });

  it('is the handcrafted series what the test claims (fast/slow relation per frame)', () => {
    // Guards the fixture: at i=7 fast (8) < slow (8.25); at i=8 fast (10.5) > slow (9); at i=11 fast (10) < slow (11.5).
    const { decisions, state } = run(SERIES, params());
    expect(decisions.slice(0, 3).every((d) => d.decision.reason === 'warming up')).toBe(true);
    expect(decisions[3].decision).toEqual({ action: 'none', quantity: 0 });
    expect(linearCloses(state)).toEqual([14, 12, 8, 6]);
    expect(state).toMatchObject({ relation: 'below', fast: 7, slow: 10 });
  });

  it('uses trading-signals averages', () => {
    const closes = [1, 5, 2, 8, 3, 9, 4];
    const { state } = run(closes, params({ fastPeriod: 3, slowPeriod: 5 }));
    const fast = new SMA(3);
    const slow = new SMA(5);
    closes.forEach((c) => (fast.add(c), slow.add(c)));
    expect(state.fast).toBe(fast.getResult());
    expect(state.slow).toBe(slow.getResult());
  });

  it('honours quantity and stopDistancePct', () => {
    const { trades } = run(SERIES, params({ quantity: 3, stopDistancePct: 10 }));
    expect(trades.map((t) => [t.decision.action, t.decision.quantity, t.decision.stop])).toEqual([
      ['buy', 3, 10.8],
      ['sell', 3, 8.8],
    ]);
  });

  it('closes a long instead of selling short when allowShort is false', () => {
    const { trades } = run(SERIES, params({ allowShort: false }));
    expect(trades.map((t) => [t.i, t.decision.action, t.decision.quantity])).toEqual([
      [8, 'buy', 1],
      [11, 'close', 1],
    ]);
    expect(trades[1].decision.stop).toBeUndefined();
  });

  it('does nothing on a down-cross when flat and shorting is not allowed', () => {
    // The first relation (i=4) is 'above' without a trade; the down-cross at i=7 finds the system flat.
    const { trades } = run([10, 10, 10, 10, 12, 14, 10, 6], params({ allowShort: false }));
    expect(trades).toEqual([]);
  });

  it('returns none when the position already has the side the signal asks for', () => {
    const long: PositionView = { side: 'long', quantity: 1, entryPrice: 9, stop: 8 };
    const p = params();
    const warm = run(SERIES.slice(0, 8), p).state; // relation below, next frame crosses up
    const out = maCrossover.decide({ frame: frame(8, 12), portfolio: { position: long, realisedPnl: 0 }, params: p, state: warm });
    expect(out.decision.action).toBe('none');
    expect(out.state.relation).toBe('above');

    const short: PositionView = { side: 'short', quantity: 1, entryPrice: 9 };
    const warm2 = run(SERIES.slice(0, 11), p).state; // relation above, next frame crosses down
    const out2 = maCrossover.decide({ frame: frame(11, 8), portfolio: { position: short, realisedPnl: 0 }, params: p, state: warm2 });
    expect(out2.decision.action).toBe('none');
  });

  it('reverses from short on an up-cross (buy)', () => {
    const short: PositionView = { side: 'short', quantity: 1, entryPrice: 9 };
    const p = params();
    const warm = run(SERIES.slice(0, 8), p).state;
    const out = maCrossover.decide({ frame: frame(8, 12), portfolio: { position: short, realisedPnl: 0 }, params: p, state: warm });
    expect(out.decision.action).toBe('buy');
  });

  it('does not trade on the first stable frame, only on a change of relation', () => {
    const { trades } = run([1, 2, 3, 4, 5, 6, 7, 8], params());
    expect(trades).toEqual([]);
  });

  it('keeps at most windowLength closes in state', () => {
    expect(run(SERIES, params()).state.closes).toHaveLength(4);
    expect(run(SERIES, params({ maType: 'ema' })).state.closes).toHaveLength(13);
    const long = run(Array.from({ length: 40 }, (_, i) => 10 + i), params({ maType: 'ema' }));
    expect(long.state.closes).toHaveLength(16);
  });

  it('updates the state it is given in place and returns it (callers keep only out.state)', () => {
    const p = params();
    const state = run(SERIES.slice(0, 5), p).state;
    const out = maCrossover.decide({ frame: frame(5, 99), portfolio: { position: null, realisedPnl: 0 }, params: p, state });
    expect(out.state).toBe(state);
    expect(linearCloses(state)).toEqual([10, 10, 9, 99]);
  });

  it('leaves a state built for other parameters as it was and returns a rebuilt one', () => {
    const state = run(SERIES.slice(0, 5), params()).state;
    const before = JSON.stringify(state);
    const out = maCrossover.decide({ frame: frame(5, 99), portfolio: { position: null, realisedPnl: 0 }, params: params({ fastPeriod: 3 }), state });
    expect(JSON.stringify(state)).toBe(before);
    expect(out.state).not.toBe(state);
    expect(out.state.builtFor).toEqual({ maType: 'sma', fastPeriod: 3, slowPeriod: 4 });
    expect(out.state.fast).toBe((10 + 9 + 99) / 3);
  });

  it.each(['sma', 'ema'] as const)('a JSON round-trip of the state gives identical later decisions (%s)', (maType) => {
    const frames = generateFrames({ count: 400, seed: 7 });
    const closes = frames.map((f) => f.close);
    const p = MaCrossoverParamsSchema.parse({ maType });
    const first = run(closes.slice(0, 200), p);
    const revived = JSON.parse(JSON.stringify(first.state)) as MaCrossoverState;
    expect(revived).toEqual(first.state);
    const position: PositionView | null = null;
    const a = run(closes.slice(200), p, { state: first.state, position });
    const b = run(closes.slice(200), p, { state: revived, position });
    expect(b.decisions).toEqual(a.decisions);
    expect(a.trades.length).toBeGreaterThan(0);
  });

  it('is deterministic: the same input gives the same output', () => {
    const frames = generateFrames({ count: 300, seed: 3 });
    const p = MaCrossoverParamsSchema.parse({});
    const closes = frames.map((f) => f.close);
    expect(run(closes, p).decisions).toEqual(run(closes, p).decisions);
  });
});

describe('parameter bounds (issue 11: safe defaults)', () => {
  /** [field, message] of every issue the schema raises for `raw`. */
  const issues = (raw: unknown): Array<[string, string]> => {
    const r = MaCrossoverParamsSchema.safeParse(raw);
    if (r.success) throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
    return r.error.issues.map((i) => [i.path.join('.'), i.message]);
  };

  it('keeps the defaults valid', () => {
    expect(MaCrossoverParamsSchema.parse({})).toEqual({ fastPeriod: 10, slowPeriod: 30, quantity: 1, stopDistancePct: 1, allowShort: true, maType: 'sma' });
  });

  it('accepts the bounds themselves', () => {
    expect(MaCrossoverParamsSchema.parse({ quantity: 1_000_000, fastPeriod: 9_999, slowPeriod: 10_000 }).quantity).toBe(1_000_000);
    expect(MaCrossoverParamsSchema.parse({ maType: 'ema', slowPeriod: 2_500 }).slowPeriod).toBe(2_500);
  });

  it('refuses a quantity above 1,000,000 or not finite, naming quantity and the reason', () => {
    expect(issues({ quantity: 1_000_001 })).toEqual([['quantity', 'quantity must be at most 1,000,000 (a sane order size)']]);
    expect(issues({ quantity: Infinity })).toContainEqual(['quantity', 'quantity must be a finite number']);
    expect(issues({ quantity: NaN }).map(([f]) => f)).toEqual(['quantity']);
    expect(issues({ quantity: '5' })).toEqual([['quantity', 'quantity must be a number']]);
  });

  it('refuses periods above 10,000, naming the field', () => {
    expect(issues({ slowPeriod: 10_001 })).toEqual([['slowPeriod', 'slowPeriod must be at most 10000']]);
    expect(issues({ fastPeriod: 20_000, slowPeriod: 30_000 }).map(([f]) => f)).toEqual(['fastPeriod', 'slowPeriod']);
    expect(issues({ fastPeriod: Infinity }).map(([f]) => f)).toContain('fastPeriod');
  });

  it('refuses an EMA window above 10,000 closes kept in state, naming slowPeriod', () => {
    expect(issues({ maType: 'ema', slowPeriod: 2_501 })).toEqual([
      ['slowPeriod', 'slowPeriod (2501) with maType ema keeps 10004 closes in state; at most 10000 (an EMA keeps 4 × slowPeriod)'],
    ]);
  });

  it('refuses a non-finite stop distance and keeps the existing refinements and messages', () => {
    expect(issues({ stopDistancePct: Infinity })).toContainEqual(['stopDistancePct', 'stopDistancePct must be a finite number']);
    expect(issues({ fastPeriod: 30, slowPeriod: 10 })).toEqual([['slowPeriod', 'slowPeriod (10) must be greater than fastPeriod (30)']]);
    expect(issues({ fastPeriod: 0 })).toEqual([['fastPeriod', 'fastPeriod must be at least 1']]);
  });
});
