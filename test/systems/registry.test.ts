import {
  getSystem,
  InvalidSystemParamsError,
  listSystems,
  maCrossover,
  UnknownSystemError,
  validateParams,
} from '../../systems';
import type { MaCrossoverParams } from '../../systems';

describe('registry', () => {
  it('finds ma-crossover by name', () => {
    expect(getSystem('ma-crossover')).toBe(maCrossover);
  });

  it('throws UnknownSystemError listing the known names', () => {
    expect(() => getSystem('turtle')).toThrow(UnknownSystemError);
    try {
      getSystem('turtle');
    } catch (err) {
      const e = err as UnknownSystemError;
      expect(e.retryable).toBe(false);
      expect(e.systemName).toBe('turtle');
      expect(e.knownNames).toContain('ma-crossover');
      expect(e.message).toBe('unknown trading system "turtle"; known systems: channel-breakout, ma-crossover, scripted');
    }
  });

  it('does not treat Object.prototype members as systems', () => {
    expect(() => getSystem('toString')).toThrow(UnknownSystemError);
    expect(() => getSystem('__proto__')).toThrow(UnknownSystemError);
  });

  it('lists systems with their default parameters', () => {
    expect(listSystems()).toEqual([
      {
        name: 'channel-breakout',
        description: expect.stringContaining('Donchian'),
        defaultParams: { period: 20, quantity: 1, entry: 'stop', expiryBars: 3, stopPct: 1, takeProfitPct: 2, trailingStopPct: 0, allowShort: true },
      },
      {
        name: 'ma-crossover',
        description: expect.stringContaining('crossover'),
        defaultParams: { fastPeriod: 10, slowPeriod: 30, quantity: 1, stopDistancePct: 1, allowShort: true, maType: 'sma' },
      },
      { name: 'scripted', description: expect.stringContaining('script'), defaultParams: { script: [] } },
    ]);
  });
});

describe('validateParams', () => {
  it('applies defaults to partial or missing params', () => {
    expect(validateParams<MaCrossoverParams>('ma-crossover', { fastPeriod: 5 })).toEqual({
      fastPeriod: 5,
      slowPeriod: 30,
      quantity: 1,
      stopDistancePct: 1,
      allowShort: true,
      maType: 'sma',
    });
    expect(validateParams<MaCrossoverParams>('ma-crossover', undefined).slowPeriod).toBe(30);
  });

  function invalid(params: unknown): InvalidSystemParamsError {
    try {
      validateParams('ma-crossover', params);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidSystemParamsError);
      return err as InvalidSystemParamsError;
    }
    throw new Error('expected validateParams to throw');
  }

  it('names slowPeriod when it is not above fastPeriod', () => {
    const e = invalid({ fastPeriod: 20, slowPeriod: 20 });
    expect(e.retryable).toBe(false);
    expect(e.issues).toEqual([{ field: 'slowPeriod', message: 'slowPeriod (20) must be greater than fastPeriod (20)' }]);
    expect(e.message).toContain('slowPeriod');
  });

  it('names every bad field at once', () => {
    const e = invalid({ fastPeriod: 0, quantity: -1, stopDistancePct: 50, maType: 'wma', allowShort: 'yes' });
    expect(e.issues.map((i) => i.field).sort()).toEqual(['allowShort', 'fastPeriod', 'maType', 'quantity', 'stopDistancePct']);
    expect(e.message).toContain('fastPeriod: fastPeriod must be at least 1');
    expect(e.message).toContain('stopDistancePct: stopDistancePct must be less than 50');
    expect(e.message).toContain('quantity: quantity must be positive');
  });

  it('rejects non-integer periods and a zero stop distance', () => {
    expect(invalid({ fastPeriod: 2.5 }).issues).toEqual([{ field: 'fastPeriod', message: 'fastPeriod must be an integer' }]);
    expect(invalid({ stopDistancePct: 0 }).issues[0].field).toBe('stopDistancePct');
  });

  it('rejects unknown fields (strict schema), naming them', () => {
    const e = invalid({ fastPeriod: 5, fastPeriode: 7 });
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0].field).toBe('fastPeriode');
  });

  it('throws UnknownSystemError for an unknown system', () => {
    expect(() => validateParams('nope', {})).toThrow(UnknownSystemError);
  });
});
