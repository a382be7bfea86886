/**
 * Number helpers of the risk engine. Pure and locale-free (no Intl), so refusal texts are the same in
 * the workflow sandbox, in the backtester and in tests.
 */

/** Relative tolerance for limit comparisons: 0.1 × 3 must not exceed a limit of 0.3. */
const RELATIVE_EPSILON = 1e-9;

const slack = (limit: number): number => RELATIVE_EPSILON * Math.max(1, Math.abs(limit));

/** `value > limit`, ignoring float error. A maximum of 10 lets 10 pass. */
export function exceeds(value: number, limit: number): boolean {
  return value > limit + slack(limit);
}

/** `value >= limit`, ignoring float error (a loss of 999.9999999999 reaches a limit of 1,000). */
export function reaches(value: number, limit: number): boolean {
  return value >= limit - slack(limit);
}

/** `value < limit`, ignoring float error. */
export function below(value: number, limit: number): boolean {
  return value < limit - slack(limit);
}

/** Whether `quantity` is a whole multiple of `step` (0 = any quantity), ignoring float error. */
export function isMultipleOf(quantity: number, step: number): boolean {
  if (step <= 0) return true;
  const ratio = quantity / step;
  return Math.abs(ratio - Math.round(ratio)) <= RELATIVE_EPSILON * Math.max(1, Math.abs(ratio));
}

/** `12000` → `12,000`; `1234.56789` → `1,234.56789`; float noise beyond 8 decimals is dropped. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const text = String(Number(n.toFixed(8)));
  if (text.includes('e')) return text;
  const negative = text.startsWith('-');
  const [whole, fraction] = (negative ? text.slice(1) : text).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}

/** A percentage with at most 2 decimals: `12.3456` → `12.35%`. */
export function formatPct(pct: number): string {
  return `${formatNumber(Math.round(pct * 100) / 100)}%`;
}

/** Epoch ms as an ISO UTC time (deterministic: the time is an argument). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
