import type { AlpacaConfig } from '../config';

/** Settings both Alpaca streams take. Credentials are sent in the auth message only, never logged. */
export interface AlpacaStreamOptions {
  keyId: string;
  secretKey: string;
  /** wss://paper-api.alpaca.markets/stream (trading) or wss://stream.data.alpaca.markets/v2/iex (bars). */
  url: string;
  /** Connect, authorization and listen/subscribe answers each within this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** ws ping interval; pongs are heartbeats for the supervisor's watchdog. Default 10 s. */
  pingEveryMs?: number;
  /**
   * Least wait before the next attempt after Alpaca refused a connection for the connection limit (406 on the data
   * stream, 429 on the upgrade). Alpaca keeps a dropped connection for a while and refuses a new one until it lets
   * it go, so hammering only prolongs it. Default 30 s.
   */
  connectionLimitWaitMs?: number;
  /** Where malformed or unexpected messages are reported. */
  onProblem?(what: string, detail: unknown): void;
}

export const streamDefaults = (o: AlpacaStreamOptions) => ({
  url: o.url,
  connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
  pingEveryMs: o.pingEveryMs ?? 10_000,
  connectionLimitWaitMs: o.connectionLimitWaitMs ?? 30_000,
});

/** The trading stream's URL for an adapter config: its trading base with ws(s) and `/stream`. */
export function tradingStreamUrl(config: Pick<AlpacaConfig, 'tradingBaseUrl'>): string {
  const u = new URL(config.tradingBaseUrl);
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
  u.pathname = `${u.pathname.replace(/\/$/, '')}/stream`;
  return u.toString();
}

/** The market-data stream's URL for a feed (`wss://stream.data.alpaca.markets/v2/{feed}` unless `base` says otherwise). */
export function dataStreamUrl(feed: string, base = 'wss://stream.data.alpaca.markets'): string {
  return `${base.replace(/\/$/, '')}/v2/${feed}`;
}
