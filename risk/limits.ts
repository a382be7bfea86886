import { z } from 'zod';

const positiveLimit = (field: string) =>
  z
    .number({ invalid_type_error: `${field} must be a number` })
    .finite(`${field} must be a finite number`)
    .positive(`${field} must be positive`);

const countLimit = (field: string, fallback: number) =>
  z
    .number({ invalid_type_error: `${field} must be a number` })
    .int(`${field} must be a whole number`)
    .min(1, `${field} must be at least 1`)
    .default(fallback);

/**
 * Pre-trade limits of one account. Each is a maximum: a value equal to the limit passes, a larger one
 * is refused. Optional limits are off when absent. Quantities are in the instrument's units, amounts in
 * the account currency.
 */
export const RiskLimitsSchema = z
  .object({
    /** Per order. */
    maxOrderQuantity: positiveLimit('maxOrderQuantity').optional(),
    /** Quantity × reference price (last close). */
    maxOrderNotional: positiveLimit('maxOrderNotional').optional(),
    /** Absolute net quantity per symbol over all systems of the account, after the order. */
    maxPositionPerSymbol: positiveLimit('maxPositionPerSymbol').optional(),
    /** Σ |quantity × mark price| of open positions + this order's notional. */
    maxTotalExposure: positiveLimit('maxTotalExposure').optional(),
    /** Open positions after the order. */
    maxOpenPositions: countLimit('maxOpenPositions', 20),
    /** Orders sent in the 60 s before now (all intents count; only entries are refused). */
    maxOrdersPerMinute: countLimit('maxOrdersPerMinute', 30),
    /** Market open, min quantity and quantity step from the broker's instrument details. */
    checkInstrument: z.boolean({ invalid_type_error: 'checkInstrument must be true or false' }).default(true),
  })
  .strict();
export type RiskLimits = z.infer<typeof RiskLimitsSchema>;
