import { z } from 'zod';

/**
 * A token's expiry as a person writes it: a duration from now (`90m`, `12h`, `30d`) or an ISO 8601
 * date-time with an offset; it must lie in the future and within 5 years. Parsed to a Date.
 */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_MS = 5 * 366 * UNIT_MS.d;
const DURATION = /^(\d{1,6})([mhd])$/;

export function parseExpiry(text: string, now = Date.now()): Date | string {
  const d = DURATION.exec(text.trim());
  const at = d ? now + Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS] : z.string().datetime({ offset: true }).safeParse(text).success ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) return 'expected a duration (90m, 12h, 30d) or an ISO 8601 date-time such as 2027-01-31T00:00:00Z';
  if (at <= now) return 'must be in the future';
  if (at - now > MAX_MS) return 'must be within 5 years';
  return new Date(at);
}

export const ExpirySchema = z.string().transform((text, ctx) => {
  const r = parseExpiry(text);
  if (typeof r === 'string') {
    ctx.addIssue({ code: 'custom', message: r });
    return z.NEVER;
  }
  return r;
});
