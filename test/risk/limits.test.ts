import { RiskLimitsSchema } from '../../risk/limits';

const messageOf = (input: unknown): string => {
  const r = RiskLimitsSchema.safeParse(input);
  if (r.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return r.error.issues.map((i) => i.message).join('; ');
};

describe('RiskLimitsSchema', () => {
  it('defaults: 20 open positions, 30 orders a minute, instrument checks on, optional limits off', () => {
    expect(RiskLimitsSchema.parse({})).toEqual({ maxOpenPositions: 20, maxOrdersPerMinute: 30, checkInstrument: true });
  });

  it('keeps the limits it is given', () => {
    const limits = {
      maxOrderQuantity: 5,
      maxOrderNotional: 10_000,
      maxPositionPerSymbol: 8,
      maxTotalExposure: 50_000,
      maxOpenPositions: 3,
      maxOrdersPerMinute: 2,
      checkInstrument: false,
    };
    expect(RiskLimitsSchema.parse(limits)).toEqual(limits);
  });

  it.each([
    ['maxOrderQuantity', { maxOrderQuantity: 0 }, 'maxOrderQuantity must be positive'],
    ['maxOrderNotional', { maxOrderNotional: -1 }, 'maxOrderNotional must be positive'],
    ['maxPositionPerSymbol', { maxPositionPerSymbol: 0 }, 'maxPositionPerSymbol must be positive'],
    ['maxTotalExposure', { maxTotalExposure: Infinity }, 'maxTotalExposure must be a finite number'],
    ['maxOrderNotional', { maxOrderNotional: '10000' }, 'maxOrderNotional must be a number'],
    ['maxOpenPositions', { maxOpenPositions: 0 }, 'maxOpenPositions must be at least 1'],
    ['maxOpenPositions', { maxOpenPositions: 2.5 }, 'maxOpenPositions must be a whole number'],
    ['maxOrdersPerMinute', { maxOrdersPerMinute: 0 }, 'maxOrdersPerMinute must be at least 1'],
    ['checkInstrument', { checkInstrument: 'yes' }, 'checkInstrument must be true or false'],
  ])('%s is refused: %s', (_field, input, message) => {
    expect(messageOf(input)).toBe(message);
  });

  it('refuses an unknown limit by name', () => {
    expect(messageOf({ maxLeverage: 3 })).toContain("'maxLeverage'");
  });
});
