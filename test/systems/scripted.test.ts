import { scripted, ScriptedParamsSchema } from '../../systems/scripted';
import type { Frame } from '../../market/frame';

const frame: Frame = { symbol: 'X', timeframe: '1m', start: 0, open: 1, high: 1, low: 1, close: 1, volume: 0 };
const FLAT = { position: null, realisedPnl: 0 };

test('returns the scripted decision on its frame number and none elsewhere, counting frames in its state', () => {
  const params = ScriptedParamsSchema.parse({
    script: [
      { frame: 2, action: 'buy', quantity: 3, stop: 0.9, takeProfit: 1.2, entry: { type: 'stop', price: 1.05, expiresAfterMs: 120_000 } },
      { frame: 3, action: 'close' },
    ],
  });
  let state = scripted.initialState(params);
  const decisions = [];
  for (let i = 0; i < 4; i++) {
    const out = scripted.decide({ frame, portfolio: FLAT, params, state });
    state = JSON.parse(JSON.stringify(out.state));
    decisions.push(out.decision);
  }
  expect(decisions).toEqual([
    { action: 'none', quantity: 0 },
    { action: 'buy', quantity: 3, stop: 0.9, takeProfit: 1.2, entry: { type: 'stop', price: 1.05, expiresAfterMs: 120_000 } },
    { action: 'close', quantity: 1 },
    { action: 'none', quantity: 0 },
  ]);
  expect(state).toEqual({ framesSeen: 4 });
});

test('refuses a script with two steps on one frame or a bad level, naming the field', () => {
  const dup = ScriptedParamsSchema.safeParse({ script: [{ frame: 1, action: 'buy' }, { frame: 1, action: 'sell' }] });
  expect(dup.success).toBe(false);
  expect(dup.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['script.1.frame', 'frame 1 has two steps']]);
  const bad = ScriptedParamsSchema.safeParse({ script: [{ frame: 0, action: 'buy', stop: -1 }] });
  expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['script.0.frame', 'script.0.stop']);
});

describe('parameter bounds (issue 11: safe defaults)', () => {
  const issues = (step: Record<string, unknown>): Array<[string, string]> => {
    const r = ScriptedParamsSchema.safeParse({ script: [{ frame: 1, action: 'buy', ...step }] });
    if (r.success) throw new Error(`expected ${JSON.stringify(step)} to be refused`);
    return r.error.issues.map((i) => [i.path.join('.'), i.message]);
  };

  it('keeps the default (an empty script) and accepts the bounds themselves', () => {
    expect(ScriptedParamsSchema.parse({})).toEqual({ script: [] });
    const ok = ScriptedParamsSchema.parse({
      script: [{ frame: 100_000_000, action: 'buy', quantity: 1_000_000, entry: { type: 'limit', price: 1, expiresAfterMs: 366 * 86_400_000 } }],
    });
    expect(ok.script[0].quantity).toBe(1_000_000);
  });

  it('refuses out-of-bound or non-finite values, naming the field and the reason', () => {
    expect(issues({ quantity: 1_000_001 })).toEqual([['script.0.quantity', 'quantity must be at most 1,000,000 (a sane order size)']]);
    expect(issues({ quantity: Infinity })).toContainEqual(['script.0.quantity', 'quantity must be a finite number']);
    expect(issues({ frame: 100_000_001 })).toEqual([['script.0.frame', 'frame must be at most 100,000,000']]);
    expect(issues({ stop: Infinity })).toContainEqual(['script.0.stop', 'stop must be a finite number']);
    expect(issues({ takeProfit: -1 })).toEqual([['script.0.takeProfit', 'takeProfit must be positive']]);
    expect(issues({ trailingStop: NaN }).map(([f]) => f)).toEqual(['script.0.trailingStop']);
    expect(issues({ entry: { type: 'stop', price: Infinity } })).toContainEqual(['script.0.entry.price', 'price must be a finite number']);
    expect(issues({ entry: { type: 'stop', price: 1, expiresAfterMs: 366 * 86_400_000 + 1 } })).toEqual([
      ['script.0.entry.expiresAfterMs', 'expiresAfterMs must be at most 31,622,400,000 (366 days)'],
    ]);
  });
});
