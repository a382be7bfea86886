import {
  BrokerAuthError,
  BrokerUnavailableError,
  InvalidOrderError,
  RateLimitedError,
  type BrokerError,
} from '../errors';

export const BROKER = 'ig';

/**
 * IG's answer to a rate limit is 403 with one of these codes (IG sends no Retry-After header).
 * The historical-data allowance is weekly; it is still a rate limit, not a fault of the request.
 */
export const IG_RATE_LIMIT_CODES: ReadonlySet<string> = new Set([
  'error.public-api.exceeded-account-allowance',
  'error.public-api.exceeded-api-key-allowance',
  'error.public-api.exceeded-account-trading-allowance',
  'error.public-api.exceeded-account-historical-data-allowance',
]);

/** 401 codes meaning "the session tokens are missing, invalid or expired": log in (or refresh) again and retry once. */
export const IG_TOKEN_CODES: ReadonlySet<string> = new Set([
  'error.security.client-token-invalid',
  'error.security.client-token-missing',
  'error.security.account-token-invalid',
  'error.security.account-token-missing',
  'error.security.oauth-token-invalid',
  'error.security.token-invalid',
]);

/** Codes meaning the credentials, the API key or the account itself are refused: a human must act. */
export const IG_AUTH_CODES: ReadonlySet<string> = new Set([
  'error.security.invalid-details',
  'error.security.api-key-missing',
  'error.security.api-key-invalid',
  'error.security.api-key-disabled',
  'error.security.api-key-revoked',
  'error.security.api-key-restricted',
  'error.security.account-suspended',
  'error.security.account-access-denied',
  'error.security.account-not-yet-activated',
  'error.security.account-migrated',
  'error.security.client-suspended',
  'error.public-api.failure.kyc.required',
  'error.public-api.failure.pending.agreements.required',
  'error.public-api.failure.missing.credentials',
  'error.public-api.failure.preferred.account.disabled',
  'error.public-api.failure.preferred.account.not.set',
  'error.public-api.failure.encryption.required',
  'authentication.failure.not-a-client-account',
]);

/** A 404 of GET /confirms/{dealReference}: IG has no confirmation under that reference (never seen, or expired). */
export const IG_DEAL_NOT_FOUND = 'error.confirms.deal-not-found';

/**
 * IG answered something we cannot read (not JSON, or not the documented shape). Retryable (the flag is
 * BrokerUnavailableError's, as for every IG class here): a truncated body from a proxy resolves itself;
 * a changed contract shows up as repeated, clearly named failures.
 */
export class IgMalformedResponseError extends BrokerUnavailableError {
  constructor(
    readonly what: string,
    readonly issues: readonly string[],
  ) {
    super(`IG sent a malformed ${what}: ${issues.join('; ')}`, BROKER);
  }
}

/** Internal: the session tokens were refused (401 token code). The client logs in again and retries once. */
export class IgSessionExpiredError extends BrokerUnavailableError {
  constructor(readonly errorCode: string) {
    super(`IG session tokens refused (${errorCode})`, BROKER);
  }
}

export interface IgErrorContext {
  status: number;
  errorCode?: string;
  /** e.g. `POST /positions/otc`; never holds credentials. */
  request: string;
  rateLimitBackoffMs: number;
}

/**
 * The mapping table from an IG error answer to a typed broker error, classed by what should happen next:
 * rate limit → retry after a delay; token → log in again; credentials → stop, a human acts;
 * 5xx → retry (the outcome of a submit is then unknown); any other 4xx → the request is invalid.
 */
export function igError({ status, errorCode, request, rateLimitBackoffMs }: IgErrorContext): BrokerError {
  const code = errorCode ?? 'no errorCode';
  const where = `${request} → ${status} ${code}`;
  if (errorCode && IG_RATE_LIMIT_CODES.has(errorCode)) return new RateLimitedError(`IG rate limit: ${where}`, BROKER, rateLimitBackoffMs);
  if (status === 429) return new RateLimitedError(`IG rate limit: ${where}`, BROKER, rateLimitBackoffMs);
  if (errorCode && IG_TOKEN_CODES.has(errorCode)) return new IgSessionExpiredError(errorCode);
  if (errorCode && IG_AUTH_CODES.has(errorCode)) return new BrokerAuthError(`IG refused the credentials: ${where}`, BROKER);
  if (status === 401) return new BrokerAuthError(`IG refused the credentials: ${where}`, BROKER);
  if (status >= 500 || status === 408) return new BrokerUnavailableError(`IG unavailable: ${where}`, BROKER);
  return new InvalidOrderError(`IG rejected the request as invalid: ${where}`, BROKER);
}
