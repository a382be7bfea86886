import { Decimal } from 'decimal.js';
import type { z } from 'zod';
import { toMoneyNumber, type DecimalInput } from '../trading/money';
import { RiskLimitsSchema, type RiskLimits } from './limits';

/**
 * Conservative defaults for the money limits a session has not configured (issue 11 item 8; the numbers
 * and why are also in risk/README.md). Pure: the session calls `effectiveRiskLimits` once at start with
 * the account balance and hands the result to the pre-trade checks.
 *
 * - maxOrderNotional = 10% of the balance. One order cannot put more than a tenth of the account on one
 *   fill: with the systems' protective stops of about 1% that risks about 0.1% of the balance per trade,
 *   and a fat-fingered quantity (×100, a quantity in cents) is refused instead of sent.
 * - maxTotalExposure = 100% of the balance. No leverage by default: the gross market value of all open
 *   positions plus the order stays within the account's own money, about ten full-size orders. Leveraged
 *   accounts (IG spread bets and CFDs) opt in by configuring a larger limit.
 * - maxOrderQuantity and maxPositionPerSymbol get no default: they are in instrument units (a share, a
 *   £10-a-point contract), which a balance does not translate into; the notional defaults bound them in
 *   money, and each system's schema caps a decision at 1,000,000 units. maxOpenPositions (20) and
 *   maxOrdersPerMinute (30) already have defaults in risk/limits.ts.
 *
 * Absent vs off: RiskLimitsSchema cannot tell an absent limit from one switched off (both are
 * `undefined`). So a limit that has a default may also be configured as `null`, meaning "explicitly off,
 * no default" ({@link ConfiguredRiskLimitsSchema}, which accepts everything RiskLimitsSchema does plus those
 * nulls). Absent → the default; a number → that number, unchanged; null → off.
 *
 * Amounts are exact decimals (trading/money.ts): the percentage of the balance is rounded towards zero to
 * the minor unit of the account currency (2 decimals unless `currency` says otherwise), so a default is
 * never more than its percentage. A balance of 0, a negative or a non-finite one gives defaults of 0,
 * which refuse every entry with a positive notional (pre-trade `exceeds(notional, 0)`), never allow any.
 */

/** Each defaulted limit as a percentage of the account balance. */
export const DEFAULT_LIMIT_PCT_OF_BALANCE = Object.freeze({
  maxOrderNotional: 10,
  maxTotalExposure: 100,
} as const);

/** The limits that get a default from the balance. */
export type DefaultedLimit = keyof typeof DEFAULT_LIMIT_PCT_OF_BALANCE;
export const DEFAULTED_LIMITS: readonly DefaultedLimit[] = Object.freeze(Object.keys(DEFAULT_LIMIT_PCT_OF_BALANCE) as DefaultedLimit[]);

/** RiskLimitsSchema where a defaulted limit may be `null`: explicitly off, no default. Strict like it. */
export const ConfiguredRiskLimitsSchema = RiskLimitsSchema.extend({
  /** Absent: 10% of the balance. null: off. */
  maxOrderNotional: RiskLimitsSchema.shape.maxOrderNotional.unwrap().nullable().optional(),
  /** Absent: 100% of the balance. null: off. */
  maxTotalExposure: RiskLimitsSchema.shape.maxTotalExposure.unwrap().nullable().optional(),
});
export type ConfiguredRiskLimits = z.infer<typeof ConfiguredRiskLimitsSchema>;

const D = Decimal.clone({ precision: 100 });

/** The balance as an exact decimal, or null when it is not a finite number (then every default is 0). */
function balanceOf(balance: DecimalInput): InstanceType<typeof D> | null {
  try {
    const b = new D(balance);
    return b.isFinite() ? b : null;
  } catch {
    return null;
  }
}

/**
 * The default of `limit` for `balance` in account currency: its percentage of the balance, rounded
 * towards zero to the minor unit; 0 for a balance that is 0, negative or not a finite number.
 */
export function defaultLimitFor(limit: DefaultedLimit, balance: DecimalInput, currency?: string): number {
  const b = balanceOf(balance);
  if (b === null || b.lte(0)) return 0;
  const amount = b.times(DEFAULT_LIMIT_PCT_OF_BALANCE[limit]).div(100);
  return toMoneyNumber(amount, currency, 'down');
}

/** Which limits `effectiveRiskLimits` fills in for this configuration (absent ones; not numbers, not nulls). */
export function appliedDefaults(configured: ConfiguredRiskLimits | RiskLimits): DefaultedLimit[] {
  return DEFAULTED_LIMITS.filter((k) => configured[k] === undefined);
}

/**
 * The limits to check orders against: `configured` as it is, with the default of every defaulted limit
 * that is absent filled in from `balance` (account currency; `currency` picks the minor unit). A
 * configured number is kept exactly (a default never loosens or tightens it); `null` switches the limit
 * off (absent from the result). Does not modify `configured`.
 */
export function effectiveRiskLimits(configured: ConfiguredRiskLimits | RiskLimits, balance: DecimalInput, currency?: string): RiskLimits {
  const { maxOrderNotional, maxTotalExposure, ...rest } = configured;
  const out: RiskLimits = { ...rest };
  const pick = (limit: DefaultedLimit, value: number | null | undefined): void => {
    if (value === null) return;
    out[limit] = value ?? defaultLimitFor(limit, balance, currency);
  };
  pick('maxOrderNotional', maxOrderNotional);
  pick('maxTotalExposure', maxTotalExposure);
  return out;
}
