import { channelBreakout, ChannelBreakoutParamsSchema, type ChannelBreakoutParams, type ChannelBreakoutState } from '../../systems/channel-breakout';
import { validateParams, InvalidSystemParamsError } from '../../systems/registry';
import type { Frame } from '../../market/frame';
import type { Decision, PortfolioView } from '../../systems/types';
import { generateFrames } from '../../market/synthetic';

const T0 = Date.UTC(2024, 0, 1);
const frame = (i: number, high: number, low: number, close: number): Frame => ({ symbol: 'CB', timeframe: '5m', start: T0 + i * 300_000, open: close, high, low, close, volume: 0 });
const FLAT: PortfolioView = { position: null, realisedPnl: 0 };
const LONG: PortfolioView = { position: { side: 'long', quantity: 2, entryPrice: 100 }, realisedPnl: 0 };
const SHORT: PortfolioView = { position: { side: 'short', quantity: 2, entryPrice: 100 }, realisedPnl: 0 };

const params = (over: Partial<ChannelBreakoutParams> = {}) => ChannelBreakoutParamsSchema.parse({ period: 3, ...over });

/** Feeds frames (all with `portfolio`) and returns each decision and the last state. */
function feed(p: ChannelBreakoutParams, frames: Frame[], portfolio: PortfolioView = FLAT, state: ChannelBreakoutState = channelBreakout.initialState(p)) {
  const decisions: Decision[] = [];
  for (const f of frames) {
    const out = channelBreakout.decide({ frame: f, portfolio, params: p, state });
    decisions.push(out.decision);
    state = out.state;
  }
  return { decisions, state };
}

// A channel of 3 frames: highs 101, 102, 101.5 → upper 102; lows 99, 98.5, 99.5 → lower 98.5.
const CHANNEL = [frame(0, 101, 99, 100), frame(1, 102, 98.5, 101), frame(2, 101.5, 99.5, 101)];

describe('parameters', () => {
  it('has defaults and is registered', () => {
    expect(validateParams('channel-breakout', {})).toEqual({
      period: 20, quantity: 1, entry: 'stop', expiryBars: 3, stopPct: 1, takeProfitPct: 2, trailingStopPct: 0, allowShort: true,
    });
  });

  it('refuses unknown keys and bad values, naming them', () => {
    const fields = (raw: unknown) => {
      try {
        validateParams('channel-breakout', raw);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidSystemParamsError);
        return (e as InvalidSystemParamsError).issues.map((i) => i.field);
      }
      throw new Error('expected a refusal');
    };
    expect(fields({ periods: 5 })).toEqual(['periods']);
    expect(fields({ period: 1, entry: 'limit', stopPct: -1, expiryBars: 1, trailingStopPct: 60 })).toEqual(['period', 'entry', 'expiryBars', 'stopPct', 'trailingStopPct']);
  });
});

describe('stop entries (default)', () => {
  it('warms up, then rests a buy stop at the channel high with a bracket, expiring after expiryBars frames of the timeframe', () => {
    const { decisions } = feed(params(), CHANNEL);
    expect(decisions.slice(0, 2).map((d) => [d.action, d.reason])).toEqual([
      ['none', 'warming up'],
      ['none', 'warming up'],
    ]);
    // Close 101 sits in the upper half of [98.5, 102]: a breakout upwards is the one to wait for.
    expect(decisions[2]).toEqual({
      action: 'buy',
      quantity: 1,
      stop: 100.98,
      takeProfit: 104.04,
      entry: { type: 'stop', price: 102, expiresAfterMs: 3 * 300_000 },
      reason: 'buy stop at the channel high',
    });
  });

  it('lets the entry work for expiryBars frames, then places a new one at the moved channel', () => {
    const more = [frame(3, 101.8, 99.6, 101), frame(4, 101.7, 99.7, 101), frame(5, 101.6, 99.8, 101)];
    const { decisions } = feed(params(), [...CHANNEL, ...more]);
    expect(decisions.slice(3).map((d) => [d.action, d.entry])).toEqual([
      ['none', undefined],
      ['none', undefined],
      // The channel no longer holds frame 1: upper 101.8, lower 99.5.
      ['buy', { type: 'stop', price: 101.8, expiresAfterMs: 900_000 }],
    ]);
  });

  it('a close in the lower half rests a sell stop at the channel low; long-only keeps the buy stop', () => {
    const low = [...CHANNEL.slice(0, 2), frame(2, 101.5, 99.5, 99.6)];
    expect(feed(params(), low).decisions[2]).toMatchObject({ action: 'sell', stop: 99.485, takeProfit: 96.53, entry: { type: 'stop', price: 98.5 } });
    expect(feed(params({ allowShort: false }), low).decisions[2]).toMatchObject({ action: 'buy', entry: { type: 'stop', price: 102 } });
  });

  it('legs follow the parameters: no stop, no take-profit, a trailing distance', () => {
    const d = feed(params({ stopPct: 0, takeProfitPct: 0, trailingStopPct: 0.5 }), CHANNEL).decisions[2];
    expect(d).toEqual({ action: 'buy', quantity: 1, trailingStop: 0.51, entry: { type: 'stop', price: 102, expiresAfterMs: 900_000 }, reason: 'buy stop at the channel high' });
  });

  it('in a position it exits on a close beyond the opposite side of the previous channel, never reverses', () => {
    const { state } = feed(params(), CHANNEL);
    const below = [frame(3, 100, 98, 98.4)];
    expect(feed(params(), below, LONG, state).decisions[0]).toEqual({ action: 'close', quantity: 2, reason: 'close broke below the channel' });
    expect(feed(params(), [frame(3, 102.5, 100, 102.1)], SHORT, state).decisions[0]).toEqual({ action: 'close', quantity: 2, reason: 'close broke above the channel' });
    expect(feed(params(), [frame(3, 101, 99, 100)], LONG, state).decisions[0]).toMatchObject({ action: 'none' });
    // After a position the next flat frame places a fresh entry at once.
    const after = feed(params(), below, LONG, state).state;
    expect(after.entryBarsLeft).toBe(0);
    expect(feed(params(), [frame(4, 100, 98, 99)], FLAT, after).decisions[0].entry).toMatchObject({ type: 'stop' });
  });
});

describe('market entries', () => {
  const p = params({ entry: 'market' });

  it('needs the previous period frames, then buys a close above their high and sells one below their low', () => {
    expect(feed(p, CHANNEL).decisions.map((d) => d.action)).toEqual(['none', 'none', 'none']);
    const { state } = feed(p, CHANNEL);
    expect(feed(p, [frame(3, 103, 101, 102.5)], FLAT, state).decisions[0]).toEqual({
      action: 'buy', quantity: 1, stop: 101.475, takeProfit: 104.55, reason: 'close broke above the channel',
    });
    expect(feed(p, [frame(3, 99, 97, 98)], FLAT, state).decisions[0]).toMatchObject({ action: 'sell', stop: 98.98, takeProfit: 96.04 });
    expect(feed(params({ entry: 'market', allowShort: false }), [frame(3, 99, 97, 98)], FLAT, state).decisions[0].action).toBe('none');
    expect(feed(p, [frame(3, 101.9, 99, 101.9)], FLAT, state).decisions[0].action).toBe('none');
  });

  it('reverses on the opposite break when shorting is allowed, closes otherwise', () => {
    const { state } = feed(p, CHANNEL);
    expect(feed(p, [frame(3, 99, 97, 98)], LONG, state).decisions[0]).toMatchObject({ action: 'sell', reason: 'close broke below the channel: reverse' });
    expect(feed(p, [frame(3, 103, 101, 102.5)], SHORT, state).decisions[0]).toMatchObject({ action: 'buy', reason: 'close broke above the channel: reverse' });
    expect(feed(params({ entry: 'market', allowShort: false }), [frame(3, 99, 97, 98)], LONG, state).decisions[0].action).toBe('close');
  });
});

describe('state', () => {
  const frames = generateFrames({ symbol: 'CB', count: 500, seed: 4 });

  it('stays bounded, JSON-serialisable and deterministic; the input state is not mutated', () => {
    const p = params({ period: 10 });
    const a = feed(p, frames);
    const b = feed(p, frames);
    expect(b).toEqual(a);
    expect(a.state.highs).toHaveLength(10);
    expect(a.state.lows).toHaveLength(10);
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state);
    const before = structuredClone(a.state);
    channelBreakout.decide({ frame: frames[0], portfolio: FLAT, params: p, state: a.state });
    expect(a.state).toEqual(before);
  });

  it('carries on from a JSON round trip exactly as without it (continue-as-new)', () => {
    const p = params({ period: 7 });
    const whole = feed(p, frames);
    const first = feed(p, frames.slice(0, 250));
    const resumed = feed(p, frames.slice(250), FLAT, JSON.parse(JSON.stringify(first.state)));
    expect([...first.decisions, ...resumed.decisions]).toEqual(whole.decisions);
    expect(resumed.state).toEqual(whole.state);
  });

  it('reports the channel after the last frame', () => {
    const { state } = feed(params(), CHANNEL);
    expect([state.upper, state.lower]).toEqual([102, 98.5]);
  });
});

describe('parameter bounds (issue 11: safe defaults)', () => {
  const issues = (raw: unknown): Array<[string, string]> => {
    const r = ChannelBreakoutParamsSchema.safeParse(raw);
    if (r.success) throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
    return r.error.issues.map((i) => [i.path.join('.'), i.message]);
  };

  it('accepts the bounds themselves', () => {
    expect(ChannelBreakoutParamsSchema.parse({ quantity: 1_000_000, period: 1_000, expiryBars: 1_000, takeProfitPct: 1_000 })).toMatchObject({ quantity: 1_000_000, period: 1_000 });
  });

  it('refuses out-of-bound values, naming the field and the reason', () => {
    expect(issues({ quantity: 1_000_001 })).toEqual([['quantity', 'quantity must be at most 1,000,000 (a sane order size)']]);
    expect(issues({ period: 1_001 })).toEqual([['period', 'period must be at most 1000']]);
    expect(issues({ expiryBars: 1_001 })).toEqual([['expiryBars', 'expiryBars must be at most 1000']]);
    expect(issues({ takeProfitPct: 1_001 })).toEqual([['takeProfitPct', 'takeProfitPct must be at most 1000']]);
    expect(issues({ stopPct: -Infinity })).toContainEqual(['stopPct', 'stopPct must be a finite number']);
    expect(issues({ trailingStopPct: Infinity })).toContainEqual(['trailingStopPct', 'trailingStopPct must be a finite number']);
    expect(issues({ quantity: Infinity })).toContainEqual(['quantity', 'quantity must be a finite number']);
    expect(issues({ period: 2.5 })).toEqual([['period', 'period must be an integer']]);
  });
});
