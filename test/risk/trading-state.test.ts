import { TradingStateCommandSchema, TradingStateSchema, intentAllowed } from '../../risk/trading-state';

describe('intentAllowed', () => {
  it('active lets opens and closes pass', () => {
    expect(intentAllowed('active', 'open')).toBe(true);
    expect(intentAllowed('active', 'close')).toBe(true);
  });

  it('reducing lets only closes pass', () => {
    expect(intentAllowed('reducing', 'close')).toBe(true);
    expect(intentAllowed('reducing', 'open')).toBe(false);
  });

  it('halted lets nothing pass', () => {
    expect(intentAllowed('halted', 'close')).toBe(false);
    expect(intentAllowed('halted', 'open')).toBe(false);
  });
});

describe('TradingStateCommandSchema', () => {
  const messages = (input: unknown): string[] => {
    const r = TradingStateCommandSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.message);
  };

  it('accepts a command and trims who and why', () => {
    expect(TradingStateCommandSchema.parse({ state: 'halted', by: '  alice ', reason: ' broker outage ' })).toEqual({
      state: 'halted',
      by: 'alice',
      reason: 'broker outage',
    });
  });

  it('names the field and the reason of each error', () => {
    expect(messages({ state: 'paused', by: 'alice', reason: 'x' })).toEqual(['state must be one of active, reducing, halted']);
    expect(messages({ state: 'halted', by: '   ', reason: 'x' })).toEqual(['by must name who gives the command']);
    expect(messages({ state: 'halted', by: 'alice', reason: '' })).toEqual(['reason must say why']);
    expect(messages({ state: 'halted', reason: 'x' })).toEqual(['by is required']);
    expect(messages({ state: 'halted', by: 'a'.repeat(101), reason: 'x' })).toEqual(['by must be at most 100 characters']);
    expect(messages({ state: 'halted', by: 'alice', reason: 'r'.repeat(501) })).toEqual(['reason must be at most 500 characters']);
  });

  it('refuses unknown fields', () => {
    const r = TradingStateCommandSchema.safeParse({ state: 'active', by: 'a', reason: 'b', force: true });
    expect(r.success).toBe(false);
    expect(r.success ? '' : r.error.issues[0].message).toContain("'force'");
  });

  it('the state schema lists exactly three states', () => {
    expect(TradingStateSchema.options).toEqual(['active', 'reducing', 'halted']);
  });
});
