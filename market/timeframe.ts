import { z } from 'zod';

/** Timeframes a frame (candle) can have; the value is its length in milliseconds. */
export const TIMEFRAME_MS = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
} as const;

export const TimeframeSchema = z.enum(['1m', '5m', '15m', '1h', '4h', '1d']);
export type Timeframe = z.infer<typeof TimeframeSchema>;

export function timeframeMs(tf: Timeframe): number {
  return TIMEFRAME_MS[tf];
}
