import { z } from 'zod';
import { TimeframeSchema, timeframeMs } from './timeframe';

const price = (field: string) =>
  z
    .number({ invalid_type_error: `${field} must be a number` })
    .finite(`${field} must be a finite number (got NaN or Infinity)`)
    .positive(`${field} must be a positive price`);

/**
 * A closed frame (candle) of market data, keyed by (symbol, timeframe, start).
 * `start` is the frame's opening instant in epoch milliseconds and must be aligned to the timeframe.
 */
export const FrameSchema = z
  .object({
    symbol: z.string().regex(/^[A-Za-z0-9._:-]{1,40}$/, 'symbol must be 1-40 letters, digits or ._:-'),
    timeframe: TimeframeSchema,
    start: z.number().int('start must be an integer epoch-ms').nonnegative('start must not be negative'),
    open: price('open'),
    high: price('high'),
    low: price('low'),
    close: price('close'),
    volume: z.number().finite('volume must be finite').nonnegative('volume must not be negative').default(0),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.high < f.low) ctx.addIssue({ code: 'custom', path: ['high'], message: `high ${f.high} is below low ${f.low}` });
    if (f.open > f.high || f.open < f.low)
      ctx.addIssue({ code: 'custom', path: ['open'], message: `open ${f.open} is outside [low ${f.low}, high ${f.high}]` });
    if (f.close > f.high || f.close < f.low)
      ctx.addIssue({ code: 'custom', path: ['close'], message: `close ${f.close} is outside [low ${f.low}, high ${f.high}]` });
    if (f.start % timeframeMs(f.timeframe) !== 0)
      ctx.addIssue({ code: 'custom', path: ['start'], message: `start ${f.start} is not aligned to timeframe ${f.timeframe}` });
  });

export type Frame = z.infer<typeof FrameSchema>;
export type FrameInput = z.input<typeof FrameSchema>;

/** Stream key of a frame: the frames of one stream are processed in start order. */
export function streamKey(symbol: string, timeframe: string): string {
  return `${symbol}|${timeframe}`;
}

export class InvalidFrameError extends Error {
  readonly retryable = false;
  constructor(
    readonly issues: string[],
    readonly frame: unknown,
  ) {
    super(`invalid frame: ${issues.join('; ')}`);
    this.name = 'InvalidFrameError';
  }
}

/** Parses an untrusted frame; throws InvalidFrameError naming every bad field. */
export function parseFrame(input: unknown): Frame {
  const r = FrameSchema.safeParse(input);
  if (!r.success) {
    throw new InvalidFrameError(
      r.error.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`),
      input,
    );
  }
  return r.data;
}

/**
 * Frames of one stream as columns, one Float64Array per field: a long series (a backtest's million bars)
 * without an object per frame. `frameColumnsOf` builds it from frames; a backtest reads bar i through one
 * reused Frame object (so nothing that gets a frame may keep it: systems/types.ts).
 */
export interface FrameColumns {
  readonly symbol: string;
  readonly timeframe: Frame['timeframe'];
  readonly start: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** The columns of frames of one stream (symbol and timeframe of frames[0]; throws on a frame of another stream). */
export function frameColumnsOf(frames: readonly Frame[]): FrameColumns {
  const n = frames.length;
  const symbol = n > 0 ? frames[0].symbol : 'NONE';
  const timeframe = n > 0 ? frames[0].timeframe : '1m';
  const cols = { symbol, timeframe, start: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const f = frames[i];
    if (f.symbol !== symbol || f.timeframe !== timeframe) throw new Error(`frames[${i}]: ${f.symbol} ${f.timeframe} is not the stream of frames[0] (${symbol} ${timeframe})`);
    cols.start[i] = f.start;
    cols.open[i] = f.open;
    cols.high[i] = f.high;
    cols.low[i] = f.low;
    cols.close[i] = f.close;
    cols.volume[i] = f.volume;
  }
  return cols;
}

/** Whether a series of frames is given as columns. */
export function isFrameColumns(frames: readonly Frame[] | FrameColumns): frames is FrameColumns {
  return !Array.isArray(frames);
}
