import type { Position } from './position';
import { round8 } from './trade';

/**
 * Exits the session emulates from frames because not every broker has them natively: a bracket's
 * take-profit and a trailing stop. A hit closes the position with a market order on that frame, so the
 * fill is the market's (paper: the frame's close ± spread), not the level; the level is for the record.
 * Callers check a position only on frames after its entry frame (it opened at the entry frame's close).
 */
export type EmulatedExit = { kind: 'trailing-stop' | 'take-profit'; level: number };

/**
 * The emulated exit a frame reached, or null. The trailing stop is checked first: when one frame spans
 * both levels nobody knows which came first, so the worse case is assumed. A gap through a level (the
 * open already beyond it) is a hit like any other.
 */
export function emulatedExitHit(pos: Position, frame: { open: number; high: number; low: number }): EmulatedExit | null {
  const long = pos.side === 'long';
  const trail = pos.trailing;
  if (trail !== undefined && (long ? frame.low <= trail.level : frame.high >= trail.level)) {
    return { kind: 'trailing-stop', level: trail.level };
  }
  const tp = pos.takeProfit;
  if (tp !== undefined && (long ? frame.high >= tp : frame.low <= tp)) return { kind: 'take-profit', level: tp };
  return null;
}

/**
 * The trailing level after a frame that did not hit it (checked first, then moved): it follows the
 * frame's best price at `distance` and never moves back. Long: max(level, high − distance); short:
 * min(level, low + distance), rounded to 1e-8 like every stored price. Undefined for a position without a trailing stop.
 */
export function trailAfter(pos: Position, frame: { high: number; low: number }): number | undefined {
  const trail = pos.trailing;
  if (trail === undefined) return undefined;
  return pos.side === 'long'
    ? Math.max(trail.level, round8(frame.high - trail.distance))
    : Math.min(trail.level, round8(frame.low + trail.distance));
}

/** Where a trailing stop starts: `distance` from the entry's fill price, on the losing side (rounded to 1e-8). */
export function initialTrailLevel(side: 'long' | 'short', entryPrice: number, distance: number): number {
  return round8(side === 'long' ? entryPrice - distance : entryPrice + distance);
}
