import {
  BrokerAuthError,
  BrokerUnavailableError,
  InvalidOrderError,
  OrderRejectedError,
  RateLimitedError,
  type BrokerError,
} from '../errors';

export const BROKER = 'alpaca';

/**
 * A response Alpaca should never send (not JSON, or JSON of the wrong shape). Retryable like an outage (the flag is
 * BrokerUnavailableError's): a proxy's
 * error page looks the same, and the retry policy bounds the attempts. On an order submit it makes the outcome
 * unknown, settled by a look-up.
 */
export class AlpacaMalformedResponseError extends BrokerUnavailableError {
  constructor(
    message: string,
    readonly endpoint: string,
  ) {
    super(message, BROKER);
  }
}

/**
 * Alpaca refused a submit because the client_order_id is taken (422 `client_order_id must be unique`): the order
 * exists. Internal to the adapter: execution turns it into a look-up and never lets it escape, so it is no failure
 * type of the retry policy and must never be booked as a refusal (the order is there).
 */
export class AlpacaDuplicateClientOrderIdError extends InvalidOrderError {
  static override readonly adapterInternal = true;
  constructor(readonly clientOrderId: string) {
    super(`Alpaca already has an order with client_order_id ${clientOrderId}`, BROKER);
  }
}

/** Alpaca's error body: `{"code": 40010001, "message": "..."}` (some answers add fields, e.g. buying_power). */
export interface AlpacaErrorBody {
  code?: number;
  message?: string;
}

export interface FailedCall {
  method: string;
  /** Path without the query string (never contains a credential). */
  path: string;
  status: number;
  body: AlpacaErrorBody | undefined;
  headers: { get(name: string): string | null };
  /** Set for an order submit, so a rejection names the order. */
  clientOrderId?: string;
  /** Epoch ms, for X-RateLimit-Reset. */
  now: number;
  rateLimitBackoffMs: number;
}

const DUPLICATE_ID = /client_order_id must be unique/i;

/**
 * 422 / 403 messages on an order submit that mean "the venue refuses this order" (a business rejection)
 * rather than "the request is malformed". Everything else on a 422 is an invalid order.
 */
const REJECTION_MESSAGES = [
  /insufficient (buying power|qty|quantity|day trading buying power)/i,
  /not (tradable|shortable|fractionable|easy to borrow)/i,
  /cannot be sold short|short(ing)? (is )?not (allowed|permitted)/i,
  /market (is )?closed|trading (is )?(halted|suspended|blocked)/i,
  /account (is )?(blocked|restricted|not (authorized|allowed))/i,
  /wash trade|pattern day trad/i,
  /exceeds? .*limit/i,
];

function describe(c: FailedCall): string {
  const code = c.body?.code !== undefined ? ` ${c.body.code}` : '';
  const msg = c.body?.message ? ` ${c.body.message}` : '';
  return `Alpaca ${c.method} ${c.path} answered ${c.status}${code}${msg}`;
}

/** Milliseconds until the rate-limit window reopens: Retry-After (seconds or a date), else X-RateLimit-Reset (unix seconds). */
export function retryAfterMsOf(headers: FailedCall['headers'], now: number, fallbackMs: number): number {
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const secs = Number(retryAfter);
    if (Number.isFinite(secs) && secs >= 0) return Math.ceil(secs * 1000);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (headers.get('x-ratelimit-reset') && Number.isFinite(reset) && reset > 0) {
    const wait = reset * 1000 - now;
    // A reset in the past (clock skew) still deserves a short pause; a reset absurdly far away is not trusted.
    if (wait <= 0) return Math.min(fallbackMs, 1000);
    if (wait <= 10 * 60_000) return Math.ceil(wait);
  }
  return fallbackMs;
}

/**
 * The table from Alpaca's answer to a typed broker error (what should happen next):
 *
 * | status | Alpaca meaning                                    | error                                   |
 * |--------|---------------------------------------------------|-----------------------------------------|
 * | 401    | keys wrong, revoked, or for the other environment | BrokerAuthError (needs a human)          |
 * | 403    | on POST /v2/orders: buying power, qty held, blocked account, no borrow | OrderRejectedError |
 * | 403    | elsewhere: the key lacks the permission / data subscription | BrokerAuthError                 |
 * | 422    | `client_order_id must be unique`                  | AlpacaDuplicateClientOrderIdError (→ look-up) |
 * | 422    | business refusal (see REJECTION_MESSAGES)         | OrderRejectedError                       |
 * | 400/404/422/other 4xx | malformed request, unknown symbol/order | InvalidOrderError                  |
 * | 429    | rate limit                                        | RateLimitedError (retryAfterMs from headers, else config) |
 * | 5xx    | Alpaca trouble                                    | BrokerUnavailableError                   |
 */
export function alpacaErrorFor(c: FailedCall): BrokerError {
  const text = describe(c);
  const message = c.body?.message ?? '';
  const isSubmit = c.method === 'POST' && c.path === '/v2/orders';
  if (c.status === 401) {
    return new BrokerAuthError(`${text}: the API key id / secret were refused (wrong, revoked, or for the other environment — paper vs live)`, BROKER);
  }
  if (c.status === 429) {
    return new RateLimitedError(`${text}: rate limit hit`, BROKER, retryAfterMsOf(c.headers, c.now, c.rateLimitBackoffMs));
  }
  if (c.status >= 500) return new BrokerUnavailableError(text, BROKER);
  if (isSubmit && c.status === 422 && DUPLICATE_ID.test(message) && c.clientOrderId) {
    return new AlpacaDuplicateClientOrderIdError(c.clientOrderId);
  }
  if (c.status === 403) {
    if (isSubmit) return new OrderRejectedError(`${text}: order refused`, BROKER, c.clientOrderId ?? '');
    return new BrokerAuthError(`${text}: the API key lacks the permission or data subscription for this call`, BROKER);
  }
  if (isSubmit && c.status === 422 && REJECTION_MESSAGES.some((re) => re.test(message))) {
    return new OrderRejectedError(`${text}: order refused`, BROKER, c.clientOrderId ?? '');
  }
  return new InvalidOrderError(text, BROKER);
}
