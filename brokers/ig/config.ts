import { z } from 'zod';

/**
 * IG REST trading API settings. Immutable once parsed; units are in the names. Credentials are read
 * from the environment by `igConfigFromEnv` and are never echoed in an error message or a log line.
 */
export const IgConfigSchema = z
  .object({
    /** X-IG-API-KEY of the application (My Account → API keys). Secret. */
    apiKey: z.string().min(1, 'must not be empty'),
    /** IG login identifier (user name). */
    identifier: z.string().min(1, 'must not be empty'),
    /** IG login password. Secret. */
    password: z.string().min(1, 'must not be empty'),
    /** The IG account every call acts on (e.g. ABC123); the session is switched to it after login. */
    accountId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be an IG account id (letters, digits, _ -)'),
    /** REST gateway, e.g. https://demo-api.ig.com/gateway/deal (demo) or https://api.ig.com/gateway/deal (live). */
    baseUrl: z
      .string()
      .url('must be a URL')
      // Credentials and session tokens travel on every call: https only, plain http only to this machine (the fakes).
      .refine((u) => /^https:\/\//.test(u) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(u), 'must be an https URL')
      .transform((u) => u.replace(/\/+$/, '')),
    /** Time allowed for one HTTP request before it counts as a timeout (BrokerUnavailableError). */
    httpTimeoutMs: z.number().int().positive().default(10_000),
    /** Interval between two GET /confirms/{dealReference} polls after a submit. */
    confirmPollIntervalMs: z.number().int().positive().default(500),
    /** How long a submit waits for its confirmation before falling back to positions and activity history. */
    confirmWindowMs: z.number().int().positive().default(10_000),
    /** Delay asked of the caller when IG answers a rate limit (IG sends no Retry-After). */
    rateLimitBackoffMs: z.number().int().positive().default(60_000),
    /**
     * How long after a submit an order that no look-up finds still counts as "may exist". Past it, with
     * the confirms, open positions and the activity history all silent, the order never reached IG's
     * dealing engine and may be submitted again.
     */
    unknownOutcomeSettleMs: z.number().int().positive().default(120_000),
    /** Activity-history searches start this long before the submit, to absorb clock skew between us and IG. */
    activitySearchMarginMs: z.number().int().nonnegative().default(300_000),
    /** How far back activity history is searched for an order the submission journal knows nothing of. */
    activityLookbackMs: z.number().int().positive().default(3 * 86_400_000),
    /** Page size of GET /history/activity (IG: 10-500). */
    activityPageSize: z.number().int().min(10).max(500).default(500),
    /** Most activity pages read by one search. */
    activityMaxPages: z.number().int().positive().default(20),
    /** true: log in with POST /session v3 (OAuth access + refresh token); false: v2 (CST + X-SECURITY-TOKEN). */
    useOAuth: z.boolean().default(false),
    /** v3 only: refresh the access token this long before IG says it expires. */
    tokenRefreshMarginMs: z.number().int().nonnegative().default(5_000),
  })
  .strict();

export type IgConfig = z.infer<typeof IgConfigSchema>;
export type IgConfigInput = z.input<typeof IgConfigSchema>;

/** Environment variables `igConfigFromEnv` reads, by config field. */
export const IG_ENV_VARS = {
  apiKey: 'IG_API_KEY',
  identifier: 'IG_IDENTIFIER',
  password: 'IG_PASSWORD',
  accountId: 'IG_ACCOUNT_ID',
  baseUrl: 'IG_BASE_URL',
  httpTimeoutMs: 'IG_HTTP_TIMEOUT_MS',
  confirmPollIntervalMs: 'IG_CONFIRM_POLL_INTERVAL_MS',
  confirmWindowMs: 'IG_CONFIRM_WINDOW_MS',
  rateLimitBackoffMs: 'IG_RATE_LIMIT_BACKOFF_MS',
  unknownOutcomeSettleMs: 'IG_UNKNOWN_OUTCOME_SETTLE_MS',
  useOAuth: 'IG_USE_OAUTH',
} as const satisfies Partial<Record<keyof IgConfig, string>>;

const SECRET_VARS = new Set<string>([IG_ENV_VARS.apiKey, IG_ENV_VARS.password]);
const NUMERIC_FIELDS = ['httpTimeoutMs', 'confirmPollIntervalMs', 'confirmWindowMs', 'rateLimitBackoffMs', 'unknownOutcomeSettleMs'] as const;

/** The IG configuration is invalid: needs a human. Names every bad variable; never shows a secret's value. */
export class IgConfigError extends Error {
  readonly retryable = false;
  constructor(readonly issues: readonly { variable: string; message: string }[]) {
    super(`invalid IG configuration:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'IgConfigError';
  }
}

const blank = (v: string | undefined) => v === undefined || v.trim() === '';

/**
 * Reads the IG configuration from environment variables (see IG_ENV_VARS); throws IgConfigError naming
 * every missing or bad variable at once. Values of secret variables never appear in the message.
 */
export function igConfigFromEnv(env: Record<string, string | undefined>): IgConfig {
  const issues: { variable: string; message: string }[] = [];
  const input: Record<string, unknown> = {};
  for (const field of ['apiKey', 'identifier', 'password', 'accountId', 'baseUrl'] as const) {
    const name = IG_ENV_VARS[field];
    const v = env[name];
    if (blank(v)) issues.push({ variable: name, message: 'is required' });
    else input[field] = v!.trim();
  }
  for (const field of NUMERIC_FIELDS) {
    const name = IG_ENV_VARS[field];
    const v = env[name];
    if (blank(v)) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) issues.push({ variable: name, message: `expected a positive whole number of milliseconds, got ${JSON.stringify(v)}` });
    else input[field] = n;
  }
  const oauth = env[IG_ENV_VARS.useOAuth];
  if (!blank(oauth)) {
    const v = oauth!.trim().toLowerCase();
    if (['true', '1'].includes(v)) input.useOAuth = true;
    else if (['false', '0'].includes(v)) input.useOAuth = false;
    else issues.push({ variable: IG_ENV_VARS.useOAuth, message: `expected true or false (or 1 or 0), got ${JSON.stringify(oauth)}` });
  }
  const r = IgConfigSchema.safeParse(input);
  if (!r.success) {
    for (const i of r.error.issues) {
      const field = String(i.path[0] ?? '') as keyof typeof IG_ENV_VARS;
      const variable = IG_ENV_VARS[field] ?? 'IG configuration';
      if (issues.some((x) => x.variable === variable)) continue;
      // zod's messages here never include the value; ours above quote only non-secret values.
      issues.push({ variable, message: SECRET_VARS.has(variable) ? 'is invalid (value not shown: it is a secret)' : i.message });
    }
  }
  if (issues.length > 0 || !r.success) throw new IgConfigError(issues.length > 0 ? issues : [{ variable: 'IG configuration', message: 'is invalid' }]);
  return Object.freeze(r.data);
}

/** Parses and freezes a config object given in code (tests, wiring). */
export function parseIgConfig(input: IgConfigInput | IgConfig): IgConfig {
  const r = IgConfigSchema.safeParse(input);
  if (!r.success) {
    throw new IgConfigError(
      r.error.issues.map((i) => ({ variable: String(i.path[0] ?? 'config'), message: i.message })),
    );
  }
  return Object.freeze(r.data);
}
