import { z } from 'zod';

/**
 * Bounds shared by the systems' parameter schemas (issue 11, safe defaults): a typo or a unit mix-up in a
 * parameter (a quantity in cents, a period in seconds) is refused at validation, naming the field and the
 * bound, instead of reaching the risk engine or growing a system's state without limit.
 *
 * - quantity: positive, finite, at most {@link MAX_QUANTITY} (1,000,000 units per order). The account's
 *   risk limits (risk/limits.ts, risk/default-limits.ts) bound orders further; this is the sanity cap.
 * - periods: whole numbers, at most {@link MAX_PERIOD} (10,000 frames). A system's state keeps a window of
 *   closes per period (snapshotted to MySQL and carried across continue-as-new), so it must stay bounded;
 *   {@link MAX_WINDOW_LENGTH} caps the closes a system keeps in state.
 * - every numeric parameter is finite.
 */

/** Largest quantity a system may ask for in one decision. */
export const MAX_QUANTITY = 1_000_000;
/** Largest look-back period, in frames. */
export const MAX_PERIOD = 10_000;
/** Most closes a system keeps in its state (an EMA crossover keeps 4 × slowPeriod). */
export const MAX_WINDOW_LENGTH = 10_000;

/** `1000000` → `1,000,000`, for messages (no Intl: the same text in the workflow sandbox). */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A number with its field named in the type and finiteness messages. */
export function finiteNumber(field: string) {
  return z
    .number({ invalid_type_error: `${field} must be a number`, required_error: `${field} is required` })
    .finite(`${field} must be a finite number`);
}

/** An order quantity: positive, finite, at most MAX_QUANTITY. */
export function quantityParam(field = 'quantity') {
  return finiteNumber(field)
    .positive(`${field} must be positive`)
    .max(MAX_QUANTITY, `${field} must be at most ${grouped(MAX_QUANTITY)} (a sane order size)`);
}

/** A look-back period in frames: a whole number from `min` to `max` (MAX_PERIOD unless tighter). */
export function periodParam(field: string, min: number, max = MAX_PERIOD) {
  return z
    .number({ invalid_type_error: `${field} must be a number`, required_error: `${field} is required` })
    .int(`${field} must be an integer`)
    .min(min, `${field} must be at least ${min}`)
    .max(max, `${field} must be at most ${max}`);
}
