import { BrokerUnavailableError } from '../errors';
import { beat } from '../progress';
import type { IgConfig } from './config';
import { BROKER, igError, IgMalformedResponseError, IgSessionExpiredError } from './errors';
import {
  IgErrorBodySchema,
  IgRefreshBodySchema,
  IgSessionV2BodySchema,
  IgSessionV3BodySchema,
  parseIg,
  type IgOAuthToken,
} from './parsing';

/** The subset of a pino logger the IG adapter uses. Nothing it logs holds a credential or a token. */
export interface IgLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = () => undefined;
export const SILENT_LOGGER: IgLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

export interface IgRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Path under the gateway, e.g. `/positions/otc`; may carry a query string (IG's paging `next` links do). */
  path: string;
  /** IG's `Version` header: each endpoint answers the shape of the version asked for. */
  version: number;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** IG takes a DELETE with a body as a POST with the header `_method: DELETE`. */
  methodOverride?: 'DELETE';
  /** Error codes answered as a value rather than thrown (e.g. 404 `error.confirms.deal-not-found`). */
  passErrorCodes?: readonly string[];
}

export interface IgResponse {
  status: number;
  body: unknown;
  /** Set when the answer is an error passed through by `passErrorCodes`. */
  errorCode?: string;
  /** The broker's clock (HTTP Date header), epoch ms; null when absent. */
  brokerTimeMs: number | null;
}

type IgSession =
  | { kind: 'cst'; cst: string; securityToken: string }
  | { kind: 'oauth'; accessToken: string; refreshToken: string; expiresAtMs: number };

export interface IgHttpClientDeps {
  now?: () => number;
  logger?: IgLogger;
  fetch?: typeof fetch;
  /** Called before every HTTP exchange (a progress beat, brokers/progress.ts). Default `beat`. */
  heartbeat?: () => void;
}

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * The HTTP client of IG's REST trading API: logs in (POST /session v2 → CST + X-SECURITY-TOKEN headers,
 * or v3 → OAuth tokens refreshed with POST /session/refresh-token), sends the right Version header, and
 * maps every failure to a typed broker error (see errors.ts). A refused session token (401) means a new
 * login — never a failed order: the call is retried once on the fresh session. No retry loops otherwise;
 * retries belong to the caller's policy.
 */
export class IgHttpClient {
  private session: IgSession | null = null;
  private renewal: Promise<IgSession> | null = null;
  private readonly now: () => number;
  private readonly logger: IgLogger;
  private readonly fetchFn: typeof fetch;
  private readonly heartbeat: () => void;
  /** Logins and refreshes done (for tests and metrics). */
  readonly stats = { logins: 0, refreshes: 0 };

  constructor(
    private readonly config: IgConfig,
    deps: IgHttpClientDeps = {},
  ) {
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger ?? SILENT_LOGGER;
    this.fetchFn = deps.fetch ?? fetch;
    this.heartbeat = deps.heartbeat ?? beat;
  }

  /** Sends one authenticated request; on a refused session token, renews the session and retries it once. */
  async request(req: IgRequest): Promise<IgResponse> {
    const session = await this.currentSession();
    try {
      return await this.send(req, session);
    } catch (err) {
      if (!(err instanceof IgSessionExpiredError)) throw err;
      this.logger.info({ request: describe(req), errorCode: err.errorCode }, 'IG session refused; renewing it and retrying once');
      const fresh = await this.renew(session, true);
      try {
        return await this.send(req, fresh);
      } catch (again) {
        if (again instanceof IgSessionExpiredError) {
          this.session = null;
          throw new BrokerUnavailableError(`IG refused a fresh session token on ${describe(req)} (${again.errorCode})`, BROKER);
        }
        throw again;
      }
    }
  }

  /** Drops the session (next call logs in). */
  async close(): Promise<void> {
    this.session = null;
  }

  private async currentSession(): Promise<IgSession> {
    const s = this.session;
    if (!s) return this.renew(null, false);
    if (s.kind === 'oauth' && s.expiresAtMs - this.config.tokenRefreshMarginMs <= this.now()) return this.renew(s, true);
    return s;
  }

  /** One renewal at a time: concurrent callers share it. `stale` is the session that was refused or expired. */
  private renew(stale: IgSession | null, refreshable: boolean): Promise<IgSession> {
    if (this.session && this.session !== stale) return Promise.resolve(this.session);
    if (!this.renewal) {
      this.session = null;
      this.renewal = (async () => {
        try {
          if (refreshable && stale?.kind === 'oauth') {
            try {
              return (this.session = await this.refresh(stale));
            } catch (err) {
              this.logger.warn({ error: (err as Error).message }, 'IG token refresh failed; logging in again');
            }
          }
          return (this.session = await this.login());
        } finally {
          this.renewal = null;
        }
      })();
    }
    return this.renewal;
  }

  private async login(): Promise<IgSession> {
    this.stats.logins++;
    const version = this.config.useOAuth ? 3 : 2;
    const res = await this.raw('POST', '/session', version, {}, { identifier: this.config.identifier, password: this.config.password });
    if (res.status < 200 || res.status > 299) throw this.errorOf(res, 'POST /session');
    const body = jsonOf(res, 'session');
    if (this.config.useOAuth) {
      const s = parseIg(IgSessionV3BodySchema, body, 'session (v3)');
      this.logger.info({ accountId: this.config.accountId, version }, 'IG session opened (OAuth)');
      return this.oauthSession(s.oauthToken);
    }
    const s = parseIg(IgSessionV2BodySchema, body, 'session (v2)');
    const cst = res.headers.get('cst');
    let securityToken = res.headers.get('x-security-token');
    if (!cst || !securityToken) {
      throw new IgMalformedResponseError('session (v2)', [`${!cst ? 'CST' : 'X-SECURITY-TOKEN'} header missing`]);
    }
    if (s.currentAccountId !== this.config.accountId) {
      // The security token belongs to the current account: switch to the configured one (PUT /session v1).
      const sw = await this.raw('PUT', '/session', 1, { CST: cst, 'X-SECURITY-TOKEN': securityToken }, {
        accountId: this.config.accountId,
        defaultAccount: false,
      });
      if (sw.status < 200 || sw.status > 299) throw this.errorOf(sw, 'PUT /session');
      securityToken = sw.headers.get('x-security-token') ?? securityToken;
    }
    this.logger.info({ accountId: this.config.accountId, version }, 'IG session opened (CST)');
    return { kind: 'cst', cst, securityToken };
  }

  private async refresh(stale: Extract<IgSession, { kind: 'oauth' }>): Promise<IgSession> {
    this.stats.refreshes++;
    const res = await this.raw('POST', '/session/refresh-token', 1, {}, { refresh_token: stale.refreshToken });
    if (res.status < 200 || res.status > 299) throw this.errorOf(res, 'POST /session/refresh-token');
    const token = parseIg(IgRefreshBodySchema, jsonOf(res, 'token refresh'), 'token refresh');
    this.logger.debug({ accountId: this.config.accountId }, 'IG access token refreshed');
    return this.oauthSession(token);
  }

  private oauthSession(t: IgOAuthToken): IgSession {
    return { kind: 'oauth', accessToken: t.access_token, refreshToken: t.refresh_token, expiresAtMs: this.now() + t.expires_in * 1000 };
  }

  private async send(req: IgRequest, session: IgSession): Promise<IgResponse> {
    const auth: Record<string, string> =
      session.kind === 'cst'
        ? { CST: session.cst, 'X-SECURITY-TOKEN': session.securityToken }
        : { Authorization: `Bearer ${session.accessToken}`, 'IG-ACCOUNT-ID': this.config.accountId };
    if (req.methodOverride) auth._method = req.methodOverride;
    const res = await this.raw(req.method, withQuery(req.path, req.query), req.version, auth, req.body);
    const brokerTimeMs = dateOf(res.headers);
    if (res.status >= 200 && res.status <= 299) {
      return { status: res.status, body: res.text.trim() === '' ? {} : jsonOf(res, describe(req)), brokerTimeMs };
    }
    const errorCode = errorCodeOf(res.text);
    if (errorCode && req.passErrorCodes?.includes(errorCode)) return { status: res.status, body: null, errorCode, brokerTimeMs };
    throw this.errorOf(res, describe(req));
  }

  private errorOf(res: RawResponse, request: string) {
    return igError({ status: res.status, errorCode: errorCodeOf(res.text), request, rateLimitBackoffMs: this.config.rateLimitBackoffMs });
  }

  /** One HTTP exchange. Timeouts and network failures become BrokerUnavailableError; nothing here is retried. */
  private async raw(method: string, pathAndQuery: string, version: number, extra: Record<string, string>, body: unknown): Promise<RawResponse> {
    const request = `${method}${extra._method ? `(${extra._method})` : ''} ${pathAndQuery.split('?')[0]}`;
    this.heartbeat();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.httpTimeoutMs);
    try {
      const res = await this.fetchFn(`${this.config.baseUrl}${pathAndQuery}`, {
        method,
        headers: {
          'X-IG-API-KEY': this.config.apiKey,
          Version: String(version),
          Accept: 'application/json; charset=UTF-8',
          ...(body !== undefined ? { 'Content-Type': 'application/json; charset=UTF-8' } : {}),
          ...extra,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: controller.signal,
      });
      const text = await res.text();
      this.logger.debug({ request, status: res.status }, 'IG answered');
      return { status: res.status, headers: res.headers, text };
    } catch (err) {
      if (controller.signal.aborted) {
        throw new BrokerUnavailableError(`IG did not answer ${request} within ${this.config.httpTimeoutMs} ms`, BROKER);
      }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new BrokerUnavailableError(`IG unreachable on ${request}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, BROKER);
    } finally {
      clearTimeout(timer);
    }
  }
}

function describe(req: IgRequest): string {
  return `${req.method}${req.methodOverride ? `(${req.methodOverride})` : ''} ${req.path.split('?')[0]}`;
}

function withQuery(path: string, query?: IgRequest['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  if (!s) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${s}`;
}

function jsonOf(res: RawResponse, what: string): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    throw new IgMalformedResponseError(what, [`body is not JSON (status ${res.status}, ${res.text.length} bytes)`]);
  }
}

function errorCodeOf(text: string): string | undefined {
  try {
    const r = IgErrorBodySchema.safeParse(JSON.parse(text));
    return r.success ? r.data.errorCode : undefined;
  } catch {
    return undefined;
  }
}

function dateOf(headers: Headers): number | null {
  const d = headers.get('date');
  if (!d) return null;
  const ms = Date.parse(d);
  return Number.isFinite(ms) ? ms : null;
}
