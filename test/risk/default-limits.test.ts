import fc from 'fast-check';
import {
  appliedDefaults,
  ConfiguredRiskLimitsSchema,
  DEFAULT_LIMIT_PCT_OF_BALANCE,
  DEFAULTED_LIMITS,
  defaultLimitFor,
  effectiveRiskLimits,
  type ConfiguredRiskLimits,
} from '../../risk/default-limits';
import * as risk from '../../risk';
import { RiskLimitsSchema, type RiskLimits } from '../../risk/limits';
import { checkIntent, type IntentToCheck, type RiskView } from '../../risk/pre-trade';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const view = (positions: RiskView['positions'] = []): RiskView => ({ tradingState: 'active', now: NOW, positions, recentOrderTimes: [], locks: [], instrument: null });
const open = (quantity: number, price: number): IntentToCheck => ({ systemId: 'ma', symbol: 'EURUSD', side: 'buy', quantity, intent: 'open', price });
const configured = (raw: unknown): ConfiguredRiskLimits => ConfiguredRiskLimitsSchema.parse(raw);

/** The limits a configuration means without defaults: null (off) is undefined (off). */
const withoutDefaults = (c: ConfiguredRiskLimits): RiskLimits =>
  Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null && v !== undefined)) as RiskLimits;

describe('effectiveRiskLimits', () => {
  it('fills in 10% of the balance per order and 100% gross exposure when nothing is configured', () => {
    expect(effectiveRiskLimits(configured({}), 25_000)).toEqual({
      maxOrderNotional: 2_500,
      maxTotalExposure: 25_000,
      maxOpenPositions: 20,
      maxOrdersPerMinute: 30,
      checkInstrument: true,
    });
    expect(DEFAULT_LIMIT_PCT_OF_BALANCE).toEqual({ maxOrderNotional: 10, maxTotalExposure: 100 });
    expect(appliedDefaults(configured({}))).toEqual(['maxOrderNotional', 'maxTotalExposure']);
  });

  it('keeps a configured limit exactly, tighter or looser than the default', () => {
    const tight = effectiveRiskLimits(configured({ maxOrderNotional: 100, maxTotalExposure: 1_000 }), 25_000);
    expect([tight.maxOrderNotional, tight.maxTotalExposure]).toEqual([100, 1_000]);
    const loose = effectiveRiskLimits(configured({ maxTotalExposure: 500_000 }), 25_000);
    expect([loose.maxOrderNotional, loose.maxTotalExposure]).toEqual([2_500, 500_000]);
    expect(appliedDefaults(configured({ maxTotalExposure: 500_000 }))).toEqual(['maxOrderNotional']);
  });

  it('null switches a default off; the schema takes null for defaulted limits only', () => {
    const c = configured({ maxOrderNotional: null, maxTotalExposure: null });
    const out = effectiveRiskLimits(c, 25_000);
    expect(out).not.toHaveProperty('maxOrderNotional');
    expect(out).not.toHaveProperty('maxTotalExposure');
    expect(appliedDefaults(c)).toEqual([]);
    expect(RiskLimitsSchema.safeParse(out).success).toBe(true);
    expect(checkIntent(open(1_000_000, 100), view(), out)).toEqual({ ok: true });
    expect(ConfiguredRiskLimitsSchema.safeParse({ maxOrderQuantity: null }).success).toBe(false);
    expect(ConfiguredRiskLimitsSchema.safeParse({ maxOrderNotional: 0 }).error!.issues[0]).toMatchObject({ path: ['maxOrderNotional'], message: 'maxOrderNotional must be positive' });
    expect(ConfiguredRiskLimitsSchema.safeParse({ maxOrderNotionl: 5 }).success).toBe(false);
  });

  it('accepts what RiskLimitsSchema accepts, with the same defaults', () => {
    for (const raw of [{}, { maxOrderQuantity: 5, maxOpenPositions: 3 }, { maxOrderNotional: 10, checkInstrument: false }]) {
      expect(ConfiguredRiskLimitsSchema.parse(raw)).toEqual(RiskLimitsSchema.parse(raw));
    }
  });

  it('rounds towards zero to the minor unit of the account currency, exactly', () => {
    expect(defaultLimitFor('maxOrderNotional', 1_234.56)).toBe(123.45);
    expect(defaultLimitFor('maxOrderNotional', '0.3')).toBe(0.03);
    expect(defaultLimitFor('maxOrderNotional', 1_234_567, 'JPY')).toBe(123_456);
    expect(defaultLimitFor('maxTotalExposure', 0.1 + 0.2)).toBe(0.3);
  });

  it('a balance of 0, negative or not a number refuses every entry by notional', () => {
    for (const balance of [0, -500, NaN, Infinity, 'abc']) {
      const out = effectiveRiskLimits(configured({}), balance);
      expect([out.maxOrderNotional, out.maxTotalExposure]).toEqual([0, 0]);
      expect(checkIntent(open(0.01, 1), view(), out)).toMatchObject({ ok: false, rule: 'max-order-notional' });
    }
  });

  it('does not modify its input and is exported from risk/', () => {
    const c = configured({ maxOrderQuantity: 7 });
    const copy = structuredClone(c);
    effectiveRiskLimits(c, 1_000);
    expect(c).toEqual(copy);
    expect(risk.effectiveRiskLimits).toBe(effectiveRiskLimits);
  });
});

// Configurations: each optional money limit absent, null (defaulted ones only) or a number.
const limitArb = fc.integer({ min: 1, max: 10_000_000 }).map((n) => n / 100);
const configArb: fc.Arbitrary<ConfiguredRiskLimits> = fc
  .record(
    {
      maxOrderQuantity: limitArb,
      maxOrderNotional: fc.option(limitArb, { nil: null }),
      maxPositionPerSymbol: limitArb,
      maxTotalExposure: fc.option(limitArb, { nil: null }),
      maxOpenPositions: fc.integer({ min: 1, max: 30 }),
    },
    { requiredKeys: [] },
  )
  .map((raw) => configured(raw));
const balanceArb = fc.oneof(fc.integer({ min: -1_000_000, max: 100_000_000 }).map((n) => n / 100), fc.constant(0));
const intentArb = fc.record({ quantity: fc.integer({ min: 1, max: 100_000 }).map((n) => n / 10), price: fc.integer({ min: 1, max: 1_000_000 }).map((n) => n / 100) });
const positionsArb = fc.array(
  fc.record({ symbol: fc.constantFrom('EURUSD', 'GBPUSD'), side: fc.constantFrom<'long' | 'short'>('long', 'short'), quantity: fc.integer({ min: 1, max: 1_000 }), markPrice: fc.integer({ min: 1, max: 10_000 }) }),
  { maxLength: 5 },
);

describe('properties', () => {
  it('never loosens a configuration: what it refuses without defaults, it refuses with them', () => {
    fc.assert(
      fc.property(configArb, balanceArb, intentArb, positionsArb, (c, balance, i, positions) => {
        const before = checkIntent(open(i.quantity, i.price), view(positions), withoutDefaults(c));
        const after = checkIntent(open(i.quantity, i.price), view(positions), effectiveRiskLimits(c, balance));
        if (!before.ok) expect(after.ok).toBe(false);
      }),
    );
  });

  it('keeps every configured field exactly and only adds defaults where absent', () => {
    fc.assert(
      fc.property(configArb, balanceArb, (c, balance) => {
        const out = effectiveRiskLimits(c, balance);
        for (const [k, v] of Object.entries(c)) {
          if (v === null) expect(out).not.toHaveProperty(k);
          else if (v !== undefined) expect(out[k as keyof RiskLimits]).toBe(v);
        }
        for (const k of appliedDefaults(c)) expect(out[k]).toBe(defaultLimitFor(k, balance));
        expect(Object.keys(out).sort()).toEqual(Object.keys(c).filter((k) => c[k as keyof ConfiguredRiskLimits] !== null).concat(appliedDefaults(c)).sort());
      }),
    );
  });

  it('defaults scale with the balance: proportional to the cent, monotone, never above their percentage', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 1e12 }), fc.constantFrom(...DEFAULTED_LIMITS), (aCents, bCents, limit) => {
        const [lo, hi] = aCents <= bCents ? [aCents, bCents] : [bCents, aCents];
        const pct = DEFAULT_LIMIT_PCT_OF_BALANCE[limit];
        const at = (cents: number) => defaultLimitFor(limit, cents / 100);
        expect(at(lo)).toBeLessThanOrEqual(at(hi));
        // Exactly floor(cents × pct / 100) cents.
        expect(Math.round(at(hi) * 100)).toBe(Math.floor((hi * pct) / 100));
        expect(at(hi)).toBeLessThanOrEqual((hi / 100) * (pct / 100) + 1e-9);
        // Ten times the balance is ten times the limit, give or take the rounding cent.
        expect(Math.abs(defaultLimitFor(limit, (hi * 10) / 100) - 10 * at(hi))).toBeLessThan(0.1 + 1e-6);
      }),
    );
  });

  it('a balance of 0 or less refuses every entry notional', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 0 }), intentArb, (cents, i) => {
        const out = effectiveRiskLimits(configured({}), cents / 100);
        const verdict = checkIntent(open(i.quantity, i.price), view(), out);
        expect(verdict).toMatchObject({ ok: false, rule: 'max-order-notional' });
      }),
    );
  });
});
