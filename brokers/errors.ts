/**
 * Broker failures, classed by what should happen next. Activities turn these into Temporal
 * ApplicationFailures whose `type` is the class name; non-retryable types are listed in the
 * workflow's retry policy.
 */
export abstract class BrokerError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    readonly broker: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The broker could not be reached or answered 5xx / timed out: retry with backoff. */
export class BrokerUnavailableError extends BrokerError {
  readonly retryable = true;
  constructor(message: string, broker: string, readonly retryAfterMs?: number) {
    super(message, broker);
  }
}

/** The broker's rate limit was hit: retry after the given delay (IG: 403 `error.public-api.exceeded-...-allowance`, Alpaca: 429). */
export class RateLimitedError extends BrokerError {
  readonly retryable = true;
  constructor(message: string, broker: string, readonly retryAfterMs: number) {
    super(message, broker);
  }
}

/**
 * The order may or may not exist at the broker (the submit timed out or failed with 5xx, and the
 * look-ups by clientOrderId have not found it yet). Retryable: the next attempt looks it up before
 * anything is re-submitted. When retries run out the session records the order as unknown and hands
 * it to reconciliation — never as failed.
 */
export class OrderOutcomeUnknownError extends BrokerError {
  readonly retryable = true;
  constructor(message: string, broker: string, readonly clientOrderId: string, readonly retryAfterMs?: number) {
    super(message, broker);
  }
}

/** The broker's circuit breaker is open: calls fail fast until it half-opens. */
export class BrokerCircuitOpenError extends BrokerError {
  readonly retryable = true;
  constructor(message: string, broker: string, readonly retryAfterMs: number) {
    super(message, broker);
  }
}

/** The broker refused the order (insufficient funds, market closed, bad size): a retry cannot help. */
export class OrderRejectedError extends BrokerError {
  readonly retryable = false;
  constructor(message: string, broker: string, readonly clientOrderId: string) {
    super(message, broker);
  }
}

/** The request itself is malformed: a bug or bad input, never retried. */
export class InvalidOrderError extends BrokerError {
  readonly retryable = false;
}

/** Credentials refused: needs a human; trading on this broker stops. */
export class BrokerAuthError extends BrokerError {
  readonly retryable = false;
}

export const NON_RETRYABLE_BROKER_ERRORS = ['OrderRejectedError', 'InvalidOrderError', 'BrokerAuthError'];
