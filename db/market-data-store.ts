import type { Pool } from './pool';
import { FrameSchema, type Frame } from '../market/frame';
import type { Timeframe } from '../market/timeframe';

export interface CandleRange {
  symbol: string;
  timeframe: Timeframe;
  /** Inclusive frame starts, epoch ms. */
  fromStart: number;
  toStart: number;
}

/** Closed frames in `maodata.candles`, keyed by (symbol, timeframe, start). */
export class MarketDataStore {
  constructor(private readonly pool: Pool) {}

  /** Idempotent: a frame stored twice is one row (the later values win). */
  async upsertCandles(frames: Frame[]): Promise<void> {
    for (let i = 0; i < frames.length; i += 500) {
      const chunk = frames.slice(i, i + 500);
      await this.pool.query(
        `INSERT INTO maodata.candles (symbol, timeframe, start, open, high, low, close, volume) VALUES ?
         ON DUPLICATE KEY UPDATE open = VALUES(open), high = VALUES(high), low = VALUES(low), close = VALUES(close),
           volume = VALUES(volume)`,
        [chunk.map((f) => [f.symbol, f.timeframe, f.start, f.open, f.high, f.low, f.close, f.volume])],
      );
    }
  }

  /** Frames of one stream in start order; rows that fail validation are returned separately, never used. */
  async loadCandles(r: CandleRange): Promise<{ frames: Frame[]; invalid: { start: number; reason: string }[] }> {
    const [rows] = await this.pool.query(
      `SELECT symbol, timeframe, start, open, high, low, close, volume FROM maodata.candles
       WHERE symbol = ? AND timeframe = ? AND start BETWEEN ? AND ? ORDER BY start`,
      [r.symbol, r.timeframe, r.fromStart, r.toStart],
    );
    const frames: Frame[] = [];
    const invalid: { start: number; reason: string }[] = [];
    for (const row of rows as any[]) {
      const parsed = FrameSchema.safeParse({ ...row, start: Number(row.start) });
      if (parsed.success) frames.push(parsed.data);
      else invalid.push({ start: Number(row.start), reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    }
    return { frames, invalid };
  }

  /**
   * The most recent valid frame of a symbol, whatever its timeframe: the price a venue would quote now.
   * A stored row that fails validation is skipped, never quoted (and never blocks the venue).
   */
  async latestCandle(symbol: string): Promise<Frame | null> {
    const [rows] = await this.pool.query(
      `SELECT symbol, timeframe, start, open, high, low, close, volume FROM maodata.candles
       WHERE symbol = ? ORDER BY start DESC LIMIT 20`,
      [symbol],
    );
    return validFrames(rows as any[])[0] ?? null;
  }

  /** Frames of a symbol strictly after `afterStart`, in order (used by the paper venue to trigger stops). */
  async candlesAfter(symbol: string, afterStart: number): Promise<Frame[]> {
    const [rows] = await this.pool.query(
      `SELECT symbol, timeframe, start, open, high, low, close, volume FROM maodata.candles
       WHERE symbol = ? AND start > ? ORDER BY start`,
      [symbol, afterStart],
    );
    return validFrames(rows as any[]);
  }
}

/** Rows that pass FrameSchema, in the given order; invalid rows are left out. */
function validFrames(rows: any[]): Frame[] {
  const out: Frame[] = [];
  for (const row of rows) {
    const parsed = FrameSchema.safeParse({ ...row, start: Number(row.start) });
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
