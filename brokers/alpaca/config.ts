import { z } from 'zod';
import { ConfigError, redactUrl, type ConfigIssue } from '../../config/env';

/** Hosts where plain http is allowed (a local fake or a tunnel); everywhere else the keys travel only over https. */
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

const baseUrl = (what: string) =>
  z
    .string()
    .superRefine((v, ctx) => {
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${what} must be an absolute URL, got ${JSON.stringify(redactUrl(v))}` });
        return;
      }
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.test(u.hostname)))
        ctx.addIssue({ code: 'custom', message: `${what} must use https (plain http only for a loopback host), got ${JSON.stringify(redactUrl(v))}` });
      if (u.username || u.password) ctx.addIssue({ code: 'custom', message: `${what} must not carry credentials (keys go in headers)` });
    })
    .transform((v) => v.replace(/\/+$/, ''));

const credential = (what: string) =>
  z
    .string({ required_error: `${what} is required`, invalid_type_error: `${what} must be a string` })
    .min(1, `${what} is required`)
    // Never echo the value: only its shape is described.
    .refine((v) => !/\s/.test(v), `${what} must not contain whitespace (value not shown)`);

const ms = (what: string, min: number, max: number) =>
  z.number().int(`${what} must be a whole number of milliseconds`).min(min, `${what} must be >= ${min} ms`).max(max, `${what} must be <= ${max} ms`);

/**
 * The Alpaca adapter's configuration (trading API v2 + market data v2). Immutable once parsed; units are in
 * the names. One adapter instance trades the one Alpaca account its API key belongs to.
 */
export const AlpacaConfigSchema = z
  .object({
    /** API key id, sent as `APCA-API-KEY-ID`. */
    keyId: credential('keyId'),
    /** API secret, sent as `APCA-API-SECRET-KEY`; never logged, never in an error message. */
    secretKey: credential('secretKey'),
    /** Trading API base: https://paper-api.alpaca.markets (paper) or https://api.alpaca.markets (live). */
    tradingBaseUrl: baseUrl('tradingBaseUrl').default('https://paper-api.alpaca.markets'),
    /** Market data API base (the same for paper and live). */
    dataBaseUrl: baseUrl('dataBaseUrl').default('https://data.alpaca.markets'),
    /** Market data feed for bars and quotes: `iex` (free plans) or `sip` (paid). */
    dataFeed: z.enum(['iex', 'sip']).default('iex'),
    /** Per-request timeout; a timed-out order submit is an unknown outcome, settled by a look-up. */
    httpTimeoutMs: ms('httpTimeoutMs', 100, 120_000).default(10_000),
    /** Retry delay on a 429 that carries no usable X-RateLimit-Reset / Retry-After header. */
    rateLimitBackoffMs: ms('rateLimitBackoffMs', 0, 600_000).default(5_000),
    /** How long placeOrder polls an accepted market order for its fill before reporting it `pending`. */
    orderFillWaitMs: ms('orderFillWaitMs', 0, 120_000).default(10_000),
    /** Poll interval while waiting for a fill or a cancel. */
    orderPollIntervalMs: ms('orderPollIntervalMs', 10, 10_000).default(250),
    /** time_in_force of entry and close market orders. */
    marketTimeInForce: z.enum(['day', 'gtc']).default('day'),
    /** time_in_force of protective stop orders (`gtc` keeps them across sessions; Alpaca needs whole shares for it). */
    stopTimeInForce: z.enum(['day', 'gtc']).default('gtc'),
    /** Pages of order history (500 orders each) read per symbol to find which entries make up a net position. */
    positionHistoryPages: z.number().int().min(1).max(50).default(4),
  })
  .strict();

export type AlpacaConfig = Readonly<z.infer<typeof AlpacaConfigSchema>>;
export type AlpacaConfigInput = z.input<typeof AlpacaConfigSchema>;

/** Parses a config object; throws ConfigError naming every bad field (values of credentials never shown). */
export function parseAlpacaConfig(input: AlpacaConfigInput): AlpacaConfig {
  const r = AlpacaConfigSchema.safeParse(input);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ variable: i.path.join('.') || 'alpaca', message: i.message })));
  return Object.freeze(r.data);
}

/** Environment variable → config field, with how to parse it. */
const ENV_VARS = {
  ALPACA_KEY_ID: { field: 'keyId', kind: 'string' },
  ALPACA_SECRET_KEY: { field: 'secretKey', kind: 'string' },
  ALPACA_TRADING_URL: { field: 'tradingBaseUrl', kind: 'string' },
  ALPACA_DATA_URL: { field: 'dataBaseUrl', kind: 'string' },
  ALPACA_DATA_FEED: { field: 'dataFeed', kind: 'string' },
  ALPACA_HTTP_TIMEOUT_MS: { field: 'httpTimeoutMs', kind: 'number' },
  ALPACA_RATE_LIMIT_BACKOFF_MS: { field: 'rateLimitBackoffMs', kind: 'number' },
  ALPACA_ORDER_FILL_WAIT_MS: { field: 'orderFillWaitMs', kind: 'number' },
  ALPACA_ORDER_POLL_INTERVAL_MS: { field: 'orderPollIntervalMs', kind: 'number' },
  ALPACA_MARKET_TIME_IN_FORCE: { field: 'marketTimeInForce', kind: 'string' },
  ALPACA_STOP_TIME_IN_FORCE: { field: 'stopTimeInForce', kind: 'string' },
  ALPACA_POSITION_HISTORY_PAGES: { field: 'positionHistoryPages', kind: 'number' },
} as const satisfies Record<string, { field: keyof AlpacaConfigInput; kind: 'string' | 'number' }>;

const SECRET_VARS = new Set(['ALPACA_KEY_ID', 'ALPACA_SECRET_KEY']);

/**
 * Reads the adapter's configuration from the environment (ALPACA_KEY_ID, ALPACA_SECRET_KEY, ALPACA_TRADING_URL,
 * ALPACA_DATA_URL, ALPACA_DATA_FEED, ALPACA_HTTP_TIMEOUT_MS, ALPACA_RATE_LIMIT_BACKOFF_MS, ALPACA_ORDER_FILL_WAIT_MS,
 * ALPACA_ORDER_POLL_INTERVAL_MS, ALPACA_MARKET_TIME_IN_FORCE, ALPACA_STOP_TIME_IN_FORCE, ALPACA_POSITION_HISTORY_PAGES).
 * Blank counts as unset. Throws one ConfigError naming every bad or missing variable; never echoes a key.
 */
export function alpacaConfigFromEnv(env: Record<string, string | undefined>): AlpacaConfig {
  const issues: ConfigIssue[] = [];
  const input: Record<string, unknown> = {};
  const byField = new Map<string, string>();
  for (const [name, { field, kind }] of Object.entries(ENV_VARS)) {
    byField.set(field, name);
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    if (kind === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) {
        issues.push({ variable: name, message: `expected a number, got ${JSON.stringify(raw)}` });
        continue;
      }
      input[field] = n;
    } else {
      input[field] = SECRET_VARS.has(name) ? raw : raw.trim();
    }
  }
  const r = AlpacaConfigSchema.safeParse(input);
  if (!r.success) {
    for (const i of r.error.issues) {
      const field = String(i.path[0] ?? '');
      const variable = byField.get(field) ?? (field || 'ALPACA');
      let message = i.message;
      if (SECRET_VARS.has(variable) && i.code === 'invalid_type') message = 'is required';
      // zod's enum messages quote the received value; fine for feeds and TIFs, never reached for the keys.
      issues.push({ variable, message });
    }
  }
  if (issues.length) throw new ConfigError(issues);
  return Object.freeze(r.success ? r.data : (undefined as never));
}
