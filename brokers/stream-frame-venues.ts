/**
 * The venues of the stream-to-feeder bridge (stream-frames.ts): which feeders each can stream and the transport
 * that carries their candles. IG: `CHART:{epic}:{scale}` on a connection of its own (no TRADE or ACCOUNT items:
 * the order stream is another part's), the timeframes IG streams (1m, 5m, 1h). Alpaca: the market-data bars
 * stream (completed minute bars only, so 1m feeders), symbols added in place.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BrokerAdapter } from './adapter';
import { AlpacaBrokerAdapter, alpacaConfigFromEnv } from './alpaca';
import { AlpacaBarsTransport, dataStreamUrl, type AlpacaStreamOptions } from './alpaca/stream';
import { IgBrokerAdapter } from './ig';
import { EPIC_PATTERN } from './ig/data';
import { fetchIgStreamCredentials, IG_CHART_SCALE, IgStreamTransport, type IgStreamOptions } from './ig/stream';
import { FrameStreamBridge, listRunningFeeders, temporalFeederSignaller, type FeederTarget, type FrameStreamVenue } from './stream-frames';

/** IG allows this many items on one Lightstreamer connection (IgStreamTransport's default). */
const IG_MAX_CHARTS = 40;

export function igFrameVenue(o: Omit<IgStreamOptions, 'charts' | 'trade' | 'account'>, onOverflow?: (dropped: FeederTarget[]) => void): FrameStreamVenue {
  return {
    name: 'ig',
    streams: (t) => IG_CHART_SCALE[t.timeframe] !== undefined && EPIC_PATTERN.test(t.symbol),
    transport(targets) {
      const max = o.maxSubscriptions ?? IG_MAX_CHARTS;
      if (targets.length > max) onOverflow?.(targets.slice(max)); // those feeders keep polling REST
      const charts = targets.slice(0, max).map((t) => ({ epic: t.symbol, timeframe: t.timeframe }));
      return new IgStreamTransport({ ...o, charts, trade: false, account: false });
    },
  };
}

export function alpacaFrameVenue(o: AlpacaStreamOptions): FrameStreamVenue {
  return {
    name: 'alpaca',
    streams: (t) => t.timeframe === '1m',
    transport: (targets) => new AlpacaBarsTransport(o, targets.map((t) => t.symbol)),
    extend(transport, added) {
      if (!(transport instanceof AlpacaBarsTransport)) return false;
      transport.subscribe(added.map((t) => t.symbol));
      return true;
    },
  };
}

/** Whether the broker worker streams frames (`MARKET_STREAM=off` keeps every feeder on REST). */
export const MarketStreamSchema = z.enum(['on', 'off']).default('on');

/**
 * The bridge of a broker worker, or null when its venue has no stream (paper) or `MARKET_STREAM=off`. It signals
 * the running feeders of `broker` through `client`. Settings come from the same environment the adapter read.
 */
export function frameBridgeFor(
  broker: string,
  adapter: BrokerAdapter,
  deps: { client: Client; env: Record<string, string | undefined>; logger: Pick<Logger, 'info' | 'warn' | 'error'> },
): FrameStreamBridge | null {
  const mode = MarketStreamSchema.safeParse(deps.env['MARKET_STREAM'] || undefined);
  if (!mode.success) throw new Error(`MARKET_STREAM: must be on or off (got ${JSON.stringify(deps.env['MARKET_STREAM'])})`);
  if (mode.data === 'off') return null;
  const onProblem = (what: string, detail: unknown) => deps.logger.warn({ broker, detail }, `stream bridge: ${what}`);
  let venue: FrameStreamVenue;
  if (adapter instanceof IgBrokerAdapter) {
    const config = adapter.config;
    venue = igFrameVenue({ credentials: () => fetchIgStreamCredentials(config), onProblem }, (dropped) =>
      deps.logger.warn({ broker, dropped: dropped.map((t) => `${t.symbol}|${t.timeframe}`) }, 'stream bridge: more feeders than IG items per connection; these stay on REST'),
    );
  } else if (adapter instanceof AlpacaBrokerAdapter) {
    const c = alpacaConfigFromEnv(deps.env);
    venue = alpacaFrameVenue({ keyId: c.keyId, secretKey: c.secretKey, url: dataStreamUrl(c.dataFeed, deps.env['ALPACA_DATA_STREAM_URL'] || undefined), onProblem });
  } else return null;
  return new FrameStreamBridge({
    venue,
    signaller: temporalFeederSignaller(deps.client, broker),
    feeders: () => listRunningFeeders(deps.client, broker),
    logger: deps.logger,
  });
}
