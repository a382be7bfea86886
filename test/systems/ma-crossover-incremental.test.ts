import type { Frame } from '../../market/frame';
import { generateFrames } from '../../market/synthetic';
import { type MaCrossoverParams, type MaCrossoverState, MaCrossoverParamsSchema, maCrossover, windowLength } from '../../systems';
import { linearCloses } from '../../systems/window-averages';
import { type LegacyState, legacyInitialState, legacyStep } from './ma-crossover-legacy';

const FLAT = { position: null, realisedPnl: 0 };
const T0 = Date.UTC(2024, 0, 1);
const frameAt = (i: number, close: number): Frame => ({ symbol: 'T', timeframe: '1m', start: T0 + i * 60_000, open: close, high: close, low: close, close, volume: 0 });

type Step = { relation: string | null; action: string; fast: number | null; slow: number | null };

/** The old algorithm over `closes`, from `state`, always flat and allowed to short: a cross is a buy or a sell. */
function legacyRun(closes: readonly number[], p: MaCrossoverParams, from: LegacyState = legacyInitialState()) {
  let state = from;
  const steps: Step[] = [];
  for (const c of closes) {
    const r = legacyStep(state, c, p);
    state = r.state;
    steps.push({ relation: state.relation, action: r.cross === null ? 'none' : r.cross === 'above' ? 'buy' : 'sell', fast: state.fast, slow: state.slow });
  }
  return { steps, state };
}

function incrementalRun(closes: readonly number[], p: MaCrossoverParams, from: unknown = maCrossover.initialState(p), i0 = 0) {
  let state = from as MaCrossoverState;
  const steps: Step[] = [];
  closes.forEach((c, i) => {
    const out = maCrossover.decide({ frame: frameAt(i0 + i, c), portfolio: FLAT, params: p, state });
    state = out.state;
    steps.push({ relation: state.relation, action: out.decision.action, fast: state.fast, slow: state.slow });
  });
  return { steps, state };
}

/** Same decisions and relations on every frame; averages equal up to float rounding. */
function expectSameRun(actual: Step[], expected: Step[]): void {
  expect(actual).toHaveLength(expected.length);
  // The first difference only (a diff of 200k lines is useless and slow).
  const at = actual.findIndex((a, i) => a.relation !== expected[i].relation || a.action !== expected[i].action);
  expect(at === -1 ? 'none' : { frame: at, actual: actual[at], expected: expected[at] }).toBe('none');
  let worst = 0;
  actual.forEach((a, i) => {
    const e = expected[i];
    if ((a.fast === null) !== (e.fast === null) || (a.slow === null) !== (e.slow === null)) throw new Error(`frame ${i}: warm-up differs`);
    if (a.fast !== null) worst = Math.max(worst, Math.abs(a.fast - e.fast!) / e.fast!);
    if (a.slow !== null) worst = Math.max(worst, Math.abs(a.slow - e.slow!) / e.slow!);
  });
  expect(worst).toBeLessThan(1e-12);
}

const BARS = 200_000;
const walk = generateFrames({ count: BARS, seed: 11 }).map((f) => f.close);
// On a 0.25 grid in a narrow range the sums are exact and the averages are often equal: ties must keep the relation.
const grid = generateFrames({ count: 20_000, seed: 5, volatilityPct: 0.05, trendAmplitudePct: 0.3 }).map((f) => Math.round(f.close * 4) / 4);

describe('ma-crossover running averages against the old per-frame rebuild', () => {
  it.each([
    ['sma', 10, 30],
    ['ema', 10, 30],
    ['sma', 1, 2],
    ['ema', 3, 7],
  ] as const)('%s %i/%i: identical decisions over 200k generated bars', (maType, fastPeriod, slowPeriod) => {
    const p = MaCrossoverParamsSchema.parse({ maType, fastPeriod, slowPeriod });
    const expected = legacyRun(walk, p).steps;
    expectSameRun(incrementalRun(walk, p).steps, expected);
    expect(expected.filter((s) => s.action !== 'none').length).toBeGreaterThan(1_000);
  });

  it.each(['sma', 'ema'] as const)('%s: identical decisions where the averages tie', (maType) => {
    const p = MaCrossoverParamsSchema.parse({ maType, fastPeriod: 4, slowPeriod: 8 });
    const expected = legacyRun(grid, p).steps;
    if (maType === 'sma') expect(expected.filter((s) => s.fast !== null && s.fast === s.slow).length).toBeGreaterThan(100);
    expectSameRun(incrementalRun(grid, p).steps, expected);
  });

  it('stays bounded: at most windowLength closes, whatever the run length', () => {
    for (const maType of ['sma', 'ema'] as const) {
      const p = MaCrossoverParamsSchema.parse({ maType });
      const { state } = incrementalRun(walk.slice(0, 10_000), p);
      expect(state.closes).toHaveLength(windowLength(p));
      expect(linearCloses(state)).toEqual(walk.slice(10_000 - windowLength(p), 10_000));
    }
  });
});

describe('ma-crossover state of the previous shape (carried by running sessions across continue-as-new)', () => {
  it.each(['sma', 'ema'] as const)('%s: is accepted and migrated; later decisions are the old algorithm\'s', (maType) => {
    const p = MaCrossoverParamsSchema.parse({ maType, fastPeriod: 5, slowPeriod: 20 });
    const before = legacyRun(walk.slice(0, 1_000), p);
    const carried = JSON.parse(JSON.stringify(before.state)) as LegacyState;
    expect(Object.keys(carried).sort()).toEqual(['closes', 'fast', 'relation', 'slow']);

    const expected = legacyRun(walk.slice(1_000, 6_000), p, before.state).steps;
    const resumed = incrementalRun(walk.slice(1_000, 6_000), p, carried, 1_000);
    expectSameRun(resumed.steps, expected);
    // The migrated state is the one a session running the new code from the start would hold.
    const fresh = incrementalRun(walk.slice(0, 6_000), p).state;
    expect(linearCloses(resumed.state)).toEqual(linearCloses(fresh));
    expect(resumed.state.builtFor).toEqual({ maType, fastPeriod: 5, slowPeriod: 20 });
    expect(resumed.state.fastAcc).toBeCloseTo(fresh.fastAcc, 9);
  });

  it('keeps the relation it carries: the first frame after migration can be a cross', () => {
    const p = MaCrossoverParamsSchema.parse({ fastPeriod: 2, slowPeriod: 4 });
    const old: LegacyState = { closes: [10, 9, 8, 7], relation: 'below', fast: 7.5, slow: 8.5 };
    const out = maCrossover.decide({ frame: frameAt(4, 20), portfolio: FLAT, params: p, state: old as unknown as MaCrossoverState });
    expect(out.decision).toMatchObject({ action: 'buy', reason: 'fast crossed above slow' });
    expect(linearCloses(out.state)).toEqual([9, 8, 7, 20]);
    expect(out.state).toMatchObject({ relation: 'above', fast: 13.5, slow: 11 });
  });
});

describe('ma-crossover parameter changes mid-run', () => {
  it('rebuilds the running values from the closes it holds, as the old algorithm re-sliced its window', () => {
    const phases: Array<Partial<MaCrossoverParams>> = [
      { fastPeriod: 10, slowPeriod: 30 },
      { fastPeriod: 10, slowPeriod: 60 },
      { fastPeriod: 5, slowPeriod: 20 },
      { maType: 'ema', fastPeriod: 5, slowPeriod: 20 },
      { maType: 'ema', fastPeriod: 8, slowPeriod: 40 },
      { maType: 'sma', fastPeriod: 8, slowPeriod: 40 },
    ];
    let legacy = legacyInitialState();
    let state = maCrossover.initialState(MaCrossoverParamsSchema.parse(phases[0]));
    const expected: Step[] = [];
    const actual: Step[] = [];
    phases.forEach((ph, k) => {
      const p = MaCrossoverParamsSchema.parse(ph);
      const closes = walk.slice(k * 2_000, (k + 1) * 2_000);
      const l = legacyRun(closes, p, legacy);
      const n = incrementalRun(closes, p, state, k * 2_000);
      legacy = l.state;
      state = n.state;
      expected.push(...l.steps);
      actual.push(...n.steps);
    });
    expectSameRun(actual, expected);
    // A longer window after a change warms up again: the old algorithm's relation went back to null too.
    expect(expected.some((s, i) => i > 0 && s.relation === null && expected[i - 1].relation !== null)).toBe(true);
  });
});
