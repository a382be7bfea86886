import { z } from 'zod';
import { lockId, type ProtectionLock } from './locks';
import { formatNumber as n, formatPct, reaches } from './numbers';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

const breachAction = (field: string, fallback: 'reducing' | 'halted') =>
  z
    .enum(['reducing', 'halted'], { errorMap: () => ({ message: `${field} must be reducing or halted` }) })
    .default(fallback);

const positiveNumber = (field: string) =>
  z.number({ invalid_type_error: `${field} must be a number` }).finite(`${field} must be a finite number`).positive(`${field} must be positive`);

/** Protections of one account; each is off when absent. Minutes and percentages are in the field names' units. */
export const ProtectionsConfigSchema = z
  .object({
    /** Loss since the UTC day's first equity mark, account currency. Lifted at the next UTC midnight. */
    dailyLoss: z
      .object({ limit: positiveNumber('dailyLoss.limit'), action: breachAction('dailyLoss.action', 'reducing') })
      .strict()
      .optional(),
    /** Drop from the equity peak, percent. Lifted only by a command. */
    maxDrawdown: z
      .object({
        pct: z
          .number({ invalid_type_error: 'maxDrawdown.pct must be a number' })
          .gt(0, 'maxDrawdown.pct must be above 0')
          .lt(100, 'maxDrawdown.pct must be below 100'),
        action: breachAction('maxDrawdown.action', 'halted'),
      })
      .strict()
      .optional(),
    /** maxStops stop exits within windowMinutes lock entries on every symbol for cooldownMinutes. */
    stopLossGuard: z
      .object({
        maxStops: z
          .number({ invalid_type_error: 'stopLossGuard.maxStops must be a number' })
          .int('stopLossGuard.maxStops must be a whole number')
          .min(1, 'stopLossGuard.maxStops must be at least 1')
          .default(3),
        windowMinutes: positiveNumber('stopLossGuard.windowMinutes').default(60),
        cooldownMinutes: positiveNumber('stopLossGuard.cooldownMinutes').default(60),
      })
      .strict()
      .optional(),
    /** A losing exit locks entries on its symbol for `minutes`. */
    lossCooldown: z
      .object({ minutes: positiveNumber('lossCooldown.minutes').default(30) })
      .strict()
      .optional(),
  })
  .strict()
  .default({});
export type ProtectionsConfig = z.infer<typeof ProtectionsConfigSchema>;

/** What the protections remember between frames (carried across continue-as-new). */
export interface ProtectionState {
  /** UTC YYYY-MM-DD of `dayStartEquity`. */
  day: string;
  dayStartEquity: number;
  peakEquity: number;
  /** Exits by stop or trailing stop, within the stop-loss guard's window. */
  stopTimes: number[];
}

export interface Breach {
  protection: 'daily-loss' | 'max-drawdown';
  action: 'reducing' | 'halted';
  detail: string;
  numbers: Record<string, number>;
}

const STOP_EXITS: ReadonlySet<string> = new Set(['stop', 'trailing-stop']);

// The last day formatted: a session (and a backtest, on every bar) asks for the same day many times over.
let memoDayNumber = NaN;
let memoDay = '';

/** UTC YYYY-MM-DD of an epoch ms. */
export function utcDay(now: number): string {
  const dayNumber = Math.floor(now / DAY_MS);
  if (dayNumber !== memoDayNumber) {
    memoDay = new Date(now).toISOString().slice(0, 10);
    memoDayNumber = dayNumber;
  }
  return memoDay;
}

export function nextUtcMidnight(now: number): number {
  return (Math.floor(now / DAY_MS) + 1) * DAY_MS;
}

export function initialProtectionState(equity: number, now: number): ProtectionState {
  return { day: utcDay(now), dayStartEquity: equity, peakEquity: equity, stopTimes: [] };
}

function dailyLossBreach(ps: ProtectionState, equity: number, cfg: ProtectionsConfig): Breach | null {
  if (!cfg.dailyLoss) return null;
  const { limit, action } = cfg.dailyLoss;
  const loss = ps.dayStartEquity - equity;
  if (!reaches(loss, limit)) return null;
  return {
    protection: 'daily-loss',
    action,
    detail: `daily loss ${n(loss)} (day start equity ${n(ps.dayStartEquity)}, equity ${n(equity)}) reaches dailyLoss.limit ${n(limit)}`,
    numbers: { dayStartEquity: ps.dayStartEquity, equity, loss, limit },
  };
}

function drawdownBreach(ps: ProtectionState, equity: number, cfg: ProtectionsConfig): Breach | null {
  if (!cfg.maxDrawdown || ps.peakEquity <= 0) return null;
  const { pct: limitPct, action } = cfg.maxDrawdown;
  // Multiply first: (10,000 - 8,000) * 100 / 10,000 is exactly 20.
  const drawdownPct = ((ps.peakEquity - equity) * 100) / ps.peakEquity;
  if (!reaches(drawdownPct, limitPct)) return null;
  return {
    protection: 'max-drawdown',
    action,
    detail: `drawdown ${formatPct(drawdownPct)} (peak equity ${n(ps.peakEquity)}, equity ${n(equity)}) reaches maxDrawdown.pct ${formatPct(limitPct)}`,
    numbers: { peakEquity: ps.peakEquity, equity, drawdownPct, limitPct },
  };
}

/** After each frame's equity mark: rolls the UTC day (dayStartEquity = equity at the roll), raises the peak, reports a breach (daily loss first). */
export function onEquity(
  ps: ProtectionState,
  equity: number,
  now: number,
  cfg: ProtectionsConfig,
): { state: ProtectionState; breach: Breach | null; dayRolled: boolean } {
  const day = utcDay(now);
  const dayRolled = day !== ps.day;
  // Most marks change nothing: the same day, no new peak. The state is then kept as it is (no object per bar).
  const state: ProtectionState = !dayRolled && equity <= ps.peakEquity ? ps : {
    day,
    dayStartEquity: dayRolled ? equity : ps.dayStartEquity,
    peakEquity: Math.max(ps.peakEquity, equity),
    stopTimes: ps.stopTimes,
  };
  const breach = dailyLossBreach(state, equity, cfg) ?? drawdownBreach(state, equity, cfg);
  return { state, breach, dayRolled };
}

/** After a trade closes: the locks it triggers (stop-loss guard on every symbol; loss cooldown on the trade's symbol when pnl < 0). Lock ids deterministic: `${kind}:${symbol ?? '*'}:${closedAt}`. */
export function onTradeClosed(
  ps: ProtectionState,
  trade: { symbol: string; pnl: number; exitReason: string; closedAt: number },
  cfg: ProtectionsConfig,
): { state: ProtectionState; locks: ProtectionLock[] } {
  const locks: ProtectionLock[] = [];
  let stopTimes = ps.stopTimes;
  const guard = cfg.stopLossGuard;
  if (guard) {
    const windowStart = trade.closedAt - guard.windowMinutes * MINUTE_MS;
    stopTimes = stopTimes.filter((t) => t >= windowStart);
    if (STOP_EXITS.has(trade.exitReason)) {
      stopTimes = [...stopTimes, trade.closedAt];
      if (stopTimes.length >= guard.maxStops) {
        locks.push({
          id: lockId('stop-loss-guard', undefined, trade.closedAt),
          kind: 'stop-loss-guard',
          since: trade.closedAt,
          until: trade.closedAt + guard.cooldownMinutes * MINUTE_MS,
          reason: `${stopTimes.length} stop exits within ${n(guard.windowMinutes)} min reach stopLossGuard.maxStops ${guard.maxStops}: entries paused ${n(guard.cooldownMinutes)} min`,
        });
        // The guard has fired: the next lock needs a fresh series of stops.
        stopTimes = [];
      }
    }
  }
  if (cfg.lossCooldown && trade.pnl < 0) {
    locks.push({
      id: lockId('loss-cooldown', trade.symbol, trade.closedAt),
      kind: 'loss-cooldown',
      symbol: trade.symbol,
      since: trade.closedAt,
      until: trade.closedAt + cfg.lossCooldown.minutes * MINUTE_MS,
      reason: `losing exit on ${trade.symbol} (pnl ${n(trade.pnl)}): entries on it paused ${n(cfg.lossCooldown.minutes)} min`,
    });
  }
  return { state: { ...ps, stopTimes }, locks };
}
