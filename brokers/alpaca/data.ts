import type { CandleRequest, Quote } from '../adapter';
import { InvalidOrderError } from '../errors';
import { FrameSchema, InvalidFrameError, type Frame } from '../../market/frame';
import { TimeframeSchema, timeframeMs, type Timeframe } from '../../market/timeframe';
import type { AlpacaHttpClient } from './client';
import type { AlpacaConfig } from './config';
import { AlpacaMalformedResponseError, BROKER } from './errors';
import { AlpacaBarsPageSchema, AlpacaLatestQuoteSchema, toQuote, type AlpacaBar } from './parsing';

/** Our timeframes in Alpaca's `timeframe` parameter. */
export const ALPACA_TIMEFRAMES: Readonly<Record<Timeframe, string>> = Object.freeze({
  '1m': '1Min',
  '5m': '5Min',
  '15m': '15Min',
  '1h': '1Hour',
  '4h': '4Hour',
  '1d': '1Day',
});

const DAY_MS = 86_400_000;
/** Alpaca's largest page of bars. */
const BARS_PAGE_LIMIT = 10_000;
/** A guard against a pager that never ends (10 000 bars a page: a million bars). */
const MAX_BAR_PAGES = 100;

/**
 * The frame start of an Alpaca bar. Intraday bars are stamped at their start in UTC. Daily stock bars are stamped at
 * 00:00 America/New_York (04:00Z or 05:00Z), which is not aligned to our 1d frames (UTC midnight): a daily bar is keyed
 * by the UTC midnight of its trading date, which is the same calendar date (New York midnight is never before UTC
 * midnight of the same date).
 */
export function frameStartOf(bar: AlpacaBar, timeframe: Timeframe): number {
  return timeframe === '1d' ? Math.floor(bar.t / DAY_MS) * DAY_MS : bar.t;
}

/** Market data v2: historical bars and the latest quote, validated into our domain types. */
export class AlpacaDataClient {
  constructor(
    private readonly http: AlpacaHttpClient,
    private readonly config: Pick<AlpacaConfig, 'dataFeed'>,
    private readonly now: () => number,
  ) {}

  /**
   * `GET /v2/stocks/{symbol}/bars`, following `next_page_token`. Returns only frames that are closed by `now` (a bar
   * whose end is in the future is never returned), inside [fromStart, toStart], each validated by FrameSchema, in
   * strictly increasing start order. A bad bar (NaN, non-positive price, high < low, unaligned, out of order) is an
   * InvalidFrameError naming the bar.
   */
  async getCandles(request: CandleRequest): Promise<Frame[]> {
    const tf = TimeframeSchema.safeParse(request.timeframe);
    if (!tf.success) throw new InvalidOrderError(`unsupported timeframe ${JSON.stringify(request.timeframe)}`, BROKER);
    const timeframe = tf.data;
    const { symbol, fromStart, toStart } = request;
    if (!Number.isFinite(fromStart) || !Number.isFinite(toStart) || fromStart > toStart)
      throw new InvalidOrderError(`bad candle range ${fromStart}..${toStart} for ${symbol}`, BROKER);
    const len = timeframeMs(timeframe);
    const path = `/v2/stocks/${encodeURIComponent(symbol)}/bars`;
    const now = this.now();

    const frames: Frame[] = [];
    let pageToken: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= MAX_BAR_PAGES) throw new AlpacaMalformedResponseError(`Alpaca GET ${path} kept paging past ${MAX_BAR_PAGES} pages`, `GET ${path}`);
      const body = await this.http.get('data', path, AlpacaBarsPageSchema, {
        timeframe: ALPACA_TIMEFRAMES[timeframe],
        start: new Date(fromStart).toISOString(),
        // The last wanted frame's whole length, so a daily bar stamped at New York midnight is inside.
        end: new Date(toStart + len - 1).toISOString(),
        limit: BARS_PAGE_LIMIT,
        feed: this.config.dataFeed,
        adjustment: 'raw',
        sort: 'asc',
        page_token: pageToken,
      });
      for (const bar of body.bars ?? []) {
        // Closed only: the bar's own end (its stamp plus its length) must not be in the future.
        if (bar.t + len > now) continue;
        const start = frameStartOf(bar, timeframe);
        if (start < fromStart || start > toStart) continue;
        const when = new Date(bar.t).toISOString();
        const parsed = FrameSchema.safeParse({ symbol, timeframe, start, open: bar.o, high: bar.h, low: bar.l, close: bar.c, volume: bar.v });
        if (!parsed.success) {
          throw new InvalidFrameError(
            parsed.error.issues.map((i) => `Alpaca bar ${symbol} ${ALPACA_TIMEFRAMES[timeframe]} ${when}: ${i.path.join('.') || 'bar'}: ${i.message}`),
            bar,
          );
        }
        const prev = frames[frames.length - 1];
        if (prev && parsed.data.start <= prev.start)
          throw new InvalidFrameError([`Alpaca bar ${symbol} ${ALPACA_TIMEFRAMES[timeframe]} ${when}: out of order or duplicate (previous start ${new Date(prev.start).toISOString()})`], bar);
        frames.push(parsed.data);
      }
      pageToken = body.next_page_token ?? undefined;
      if (!pageToken) break;
    }
    return frames;
  }

  /** `GET /v2/stocks/{symbol}/quotes/latest`: best bid/ask with the quote's own time. */
  async getLatestQuote(symbol: string): Promise<Quote> {
    const body = await this.http.get('data', `/v2/stocks/${encodeURIComponent(symbol)}/quotes/latest`, AlpacaLatestQuoteSchema, {
      feed: this.config.dataFeed,
    });
    return toQuote(symbol, body);
  }
}
