import type { z } from 'zod';
import { BrokerUnavailableError } from '../errors';
import { beat } from '../progress';
import type { AlpacaConfig } from './config';
import { AlpacaMalformedResponseError, alpacaErrorFor, BROKER, type AlpacaErrorBody } from './errors';
import { parseResponse } from './parsing';

/** Which Alpaca host a call goes to. */
export type AlpacaApi = 'trading' | 'data';

export type AlpacaHttpConfig = Pick<
  AlpacaConfig,
  'keyId' | 'secretKey' | 'tradingBaseUrl' | 'dataBaseUrl' | 'httpTimeoutMs' | 'rateLimitBackoffMs'
>;

export interface AlpacaHttpClientOptions {
  /** Clock for X-RateLimit-Reset; default Date.now. */
  now?: () => number;
  /** Called before every HTTP exchange (a progress beat, brokers/progress.ts). Default `beat`. */
  heartbeat?: () => void;
}

type Query = Record<string, string | number | boolean | undefined>;

interface CallOptions<T extends z.ZodTypeAny> {
  query?: Query;
  body?: unknown;
  schema?: T;
  /** Order submits: names the order in a rejection. */
  clientOrderId?: string;
  /** Answer null on 404 instead of throwing (look-ups). */
  notFoundAsNull?: boolean;
}

/**
 * The one place that talks HTTP to Alpaca. Authenticates with `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` (held in
 * private fields, never logged, never in an error), times every call out after `httpTimeoutMs`, and turns every
 * failure into a typed broker error (errors.ts): 429 → RateLimitedError, 5xx / network / timeout →
 * BrokerUnavailableError, 401 → BrokerAuthError, ... It never retries: retries belong to Temporal's policy.
 */
export class AlpacaHttpClient {
  readonly #auth: Readonly<Record<string, string>>;
  readonly #cfg: Omit<AlpacaHttpConfig, 'keyId' | 'secretKey'>;
  readonly #now: () => number;
  readonly #heartbeat: () => void;

  constructor(config: AlpacaHttpConfig, options: AlpacaHttpClientOptions = {}) {
    const { keyId, secretKey, ...rest } = config;
    this.#auth = Object.freeze({ 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secretKey });
    this.#cfg = Object.freeze(rest);
    this.#now = options.now ?? Date.now;
    this.#heartbeat = options.heartbeat ?? beat;
  }

  /** Keeps the keys out of any accidental `JSON.stringify` / logger call on the client. */
  toJSON(): Record<string, unknown> {
    return { tradingBaseUrl: this.#cfg.tradingBaseUrl, dataBaseUrl: this.#cfg.dataBaseUrl };
  }

  async get<T extends z.ZodTypeAny>(api: AlpacaApi, path: string, schema: T, query?: Query): Promise<z.output<T>> {
    return (await this.call('GET', api, path, { schema, query })) as z.output<T>;
  }

  /** GET that answers null on 404 (an order Alpaca has never seen). */
  async getOrNull<T extends z.ZodTypeAny>(api: AlpacaApi, path: string, schema: T, query?: Query): Promise<z.output<T> | null> {
    return (await this.call('GET', api, path, { schema, query, notFoundAsNull: true })) as z.output<T> | null;
  }

  async post<T extends z.ZodTypeAny>(path: string, body: unknown, schema: T, clientOrderId?: string): Promise<z.output<T>> {
    return (await this.call('POST', 'trading', path, { schema, body, clientOrderId })) as z.output<T>;
  }

  async delete(path: string): Promise<void> {
    await this.call('DELETE', 'trading', path, {});
  }

  private async call<T extends z.ZodTypeAny>(method: string, api: AlpacaApi, path: string, opts: CallOptions<T>): Promise<unknown> {
    const base = api === 'trading' ? this.#cfg.tradingBaseUrl : this.#cfg.dataBaseUrl;
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const endpoint = `${method} ${path}`;
    this.#heartbeat();

    const headers: Record<string, string> = { Accept: 'application/json', ...this.#auth };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    let status: number;
    let resHeaders: Headers;
    let text: string;
    try {
      const res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.#cfg.httpTimeoutMs),
      });
      status = res.status;
      resHeaders = res.headers;
      text = await res.text();
    } catch (err) {
      throw new BrokerUnavailableError(`Alpaca ${endpoint} failed: ${networkCause(err, this.#cfg.httpTimeoutMs)}`, BROKER);
    }

    if (status === 404 && opts.notFoundAsNull) return null;
    if (status < 200 || status >= 300) {
      throw alpacaErrorFor({
        method,
        path,
        status,
        body: errorBody(text),
        headers: resHeaders,
        clientOrderId: opts.clientOrderId,
        now: this.#now(),
        rateLimitBackoffMs: this.#cfg.rateLimitBackoffMs,
      });
    }
    if (!opts.schema) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AlpacaMalformedResponseError(
        `malformed Alpaca response from ${endpoint}: status ${status} but the body is not JSON (${JSON.stringify(snippet(text))})`,
        endpoint,
      );
    }
    return parseResponse(opts.schema, json, endpoint);
  }
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 120 ? `${t.slice(0, 120)}…` : t;
}

function errorBody(text: string): AlpacaErrorBody | undefined {
  try {
    const j = JSON.parse(text) as unknown;
    if (j && typeof j === 'object') {
      const o = j as Record<string, unknown>;
      return {
        ...(typeof o.code === 'number' ? { code: o.code } : {}),
        ...(typeof o.message === 'string' ? { message: o.message } : {}),
      };
    }
  } catch {
    // not JSON (a proxy's page): described by its first characters
  }
  const s = snippet(text);
  return s ? { message: s } : undefined;
}

function networkCause(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e?.message ?? 'network error'} (${cause})` : (e?.message ?? String(err));
}
