import { z } from 'zod';

/**
 * The process configuration: every environment variable MAOTrade reads, parsed once at start-up
 * by one zod schema. Parsers take the environment as a parameter so tests pass plain objects.
 *
 * An empty (or all-blank) variable counts as unset, so `FOO=` in a compose file falls back to the
 * default instead of failing.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const MASK = '***';

/**
 * Masks the password of a URL (`scheme://user:password@host` → `scheme://user:***@host`).
 * Works on strings `new URL` rejects (multi-host MongoDB URLs, missing host); when in doubt it masks
 * more, never less: everything between the first `:` of the user-info and the last `@` is hidden.
 */
export function redactUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return url;
  const userInfo = rest.slice(0, at);
  const colon = userInfo.indexOf(':');
  if (colon < 0) return url;
  return `${scheme}${userInfo.slice(0, colon)}:${MASK}${rest.slice(at)}`;
}

/** One bad variable and why. */
export interface ConfigIssue {
  readonly variable: string;
  readonly message: string;
}

/** The environment is invalid: needs a human, never retried. Names every bad variable at once. */
export class ConfigError extends Error {
  readonly retryable = false;
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const quote = (v: unknown) => JSON.stringify(String(v));

const unsetIfBlank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalVar = <T extends z.ZodTypeAny>(schema: T) => z.preprocess(unsetIfBlank, schema.optional());
const withDefault = <T extends z.ZodTypeAny>(schema: T, def: string) =>
  z.preprocess((v) => unsetIfBlank(v) ?? def, schema);

const BOOLEANS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };
const booleanVar = z.string().transform((v, ctx) => {
  if (!(v in BOOLEANS)) {
    ctx.addIssue({ code: 'custom', message: `expected true or false (or 1 or 0), got ${quote(v)}` });
    return z.NEVER;
  }
  return BOOLEANS[v];
});

const numberVar = (check: (n: number) => boolean, expected: string) =>
  z.string().transform((v, ctx) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !check(n)) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${quote(v)}` });
      return z.NEVER;
    }
    return n;
  });

const portVar = numberVar((n) => Number.isInteger(n) && n >= 1 && n <= 65535, 'a port number 1-65535');

const clockTimeVar = z.string().transform((v, ctx) => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `expected a 24-hour time HH:MM (UTC), got ${quote(v)}` });
    return z.NEVER;
  }
  return Object.freeze({ hour: Number(m[1]), minute: Number(m[2]) });
});

const hostPortVar = z.string().refine(
  (v) => {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
    return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
  },
  (v) => ({ message: `expected host:port, got ${quote(v)}` }),
);

/**
 * A URL variable that may carry a password: validated with a regex (multi-host Mongo URLs are legal,
 * `new URL` rejects them). Its value is echoed only through `redactUrl`, or not at all.
 */
const secretUrlVar = (schemes: string[], pattern: RegExp) =>
  z.string().refine(
    (v) => pattern.test(v),
    (v) => ({
      message: /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(v)
        ? `expected a ${schemes.join(' or ')} URL with a host, got ${quote(redactUrl(v))}`
        : `expected a ${schemes.join(' or ')} URL with a host (value not shown: it may hold a secret)`,
    }),
  );

const EnvSchema = z.object({
  LOG_LEVEL: withDefault(
    z.string().refine(
      (v): v is LogLevelName => (LOG_LEVELS as readonly string[]).includes(v),
      (v) => ({ message: `expected one of ${LOG_LEVELS.join(', ')}, got ${quote(v)}` }),
    ),
    'info',
  ),
  TRADING_ENABLE: withDefault(booleanVar, 'false'),
  DAILY_CLEAN_TIME: withDefault(clockTimeVar, '23:45'),
  TEMPORAL_ADDRESS: withDefault(hostPortVar, '127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: withDefault(
    z.string().refine(
      (v) => /^[A-Za-z0-9._-]{1,255}$/.test(v),
      (v) => ({ message: `expected a namespace name (letters, digits, ._-), got ${quote(v)}` }),
    ),
    'default',
  ),
  MYSQL_URL: withDefault(
    secretUrlVar(['mysql://'], /^mysql:\/\/(.*@)?[A-Za-z0-9.[\]:-]+(:\d{1,5})?(\/[^?#]*)?(\?.*)?$/),
    'mysql://maotrade:maotrade@127.0.0.1:3306',
  ),
  MONGO_URL: withDefault(
    secretUrlVar(['mongodb://', 'mongodb+srv://'], /^mongodb(\+srv)?:\/\/(.*@)?[A-Za-z0-9.,[\]:-]+(\/[^?#]*)?(\?.*)?$/),
    'mongodb://127.0.0.1:27017/maologs',
  ),
  METRICS_PORT: optionalVar(portVar),
  PAPER_SPREAD_BPS: withDefault(numberVar((n) => n >= 0, 'a number >= 0 (basis points)'), '1'),
  PAPER_SLIPPAGE_BPS: withDefault(numberVar((n) => n >= 0, 'a number >= 0 (basis points)'), '0.5'),
  PAPER_INITIAL_BALANCE: withDefault(numberVar((n) => n > 0, 'a number > 0'), '100000'),
  PAPER_CURRENCY: withDefault(
    z.string().refine(
      (v) => /^[A-Z]{3}$/.test(v),
      (v) => ({ message: `expected a 3-letter uppercase currency code, got ${quote(v)}` }),
    ),
    'USD',
  ),
});

/** The validated, immutable process configuration. */
export interface AppConfig {
  readonly logLevel: LogLevelName;
  /** false = dry run: every decision and intent is recorded, nothing is sent to a real broker. */
  readonly tradingEnable: boolean;
  /** When the session continues-as-new each day, in UTC. */
  readonly dailyCleanTimeUtc: { readonly hour: number; readonly minute: number };
  readonly temporal: { readonly address: string; readonly namespace: string };
  /** Holds a password: log it only through `redactUrl`. */
  readonly mysqlUrl: string;
  /** Holds a password when the server needs one: log it only through `redactUrl`. */
  readonly mongoUrl: string;
  readonly metricsPort?: number;
  readonly paper: {
    readonly spreadBps: number;
    readonly slippageBps: number;
    readonly initialBalance: number;
    /** ISO 4217 code, e.g. USD. */
    readonly currency: string;
  };
}

/** Parses the environment; throws ConfigError naming every bad variable. The result is frozen. */
export function parseEnv(env: Record<string, string | undefined>): AppConfig {
  const r = EnvSchema.safeParse(env);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => {
        // zod's own messages (e.g. invalid_type) never echo the value; ours mask secrets (secretUrlVar).
        return { variable: String(i.path[0] ?? 'environment'), message: i.message };
      }),
    );
  }
  const e = r.data;
  const config: AppConfig = {
    logLevel: e.LOG_LEVEL as LogLevelName,
    tradingEnable: e.TRADING_ENABLE,
    dailyCleanTimeUtc: e.DAILY_CLEAN_TIME,
    temporal: Object.freeze({ address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE }),
    mysqlUrl: e.MYSQL_URL,
    mongoUrl: e.MONGO_URL,
    ...(e.METRICS_PORT !== undefined ? { metricsPort: e.METRICS_PORT } : {}),
    paper: Object.freeze({
      spreadBps: e.PAPER_SPREAD_BPS,
      slippageBps: e.PAPER_SLIPPAGE_BPS,
      initialBalance: e.PAPER_INITIAL_BALANCE,
      currency: e.PAPER_CURRENCY,
    }),
  };
  return Object.freeze(config);
}

/** EX_CONFIG from sysexits.h: the process was started with a bad configuration. */
export const EXIT_CONFIG = 78;

/** Entry-point helper: parses the environment or prints every problem to stderr and exits 78. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): AppConfig {
  try {
    return parseEnv(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return process.exit(EXIT_CONFIG);
  }
}
