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
