/**
 * Broker failures, classed by what should happen next. Each class says once, in its static `retryable`,
 * whether a retry can help; every instance carries the same flag. Activities turn these into Temporal
 * ApplicationFailures whose `type` is the class name and whose `nonRetryable` is `!retryable`
 * (activities/failures.ts); NON_RETRYABLE_BROKER_ERRORS below is derived from the same flags.
 *
 * Workflow code imports this module (the workflow sandbox bundles it): keep it free of Node built-ins
 * and of the venue modules. Venue errors (brokers/ig/errors.ts, brokers/alpaca/errors.ts) extend these
 * classes and inherit their flag; test/brokers/errors.test.ts checks every class of every venue.
 */
export abstract class BrokerError extends Error {
  /** Whether a retry can help. Every concrete class sets it (or inherits it from the class it extends). */
  static readonly retryable: boolean;
  /**
   * Set on a class that the adapter always catches itself (it never leaves as an activity failure), so
   * it is no failure type of the retry policy and never a booked refusal.
   */
  static readonly adapterInternal: boolean = false;
  /** The class's `retryable`, copied onto the instance (an own field, so it survives spreading and logging). */
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly broker: string,
  ) {
    super(message);
    this.name = new.target.name;
    this.retryable = (new.target as unknown as typeof BrokerError).retryable;
  }
}

/** The broker could not be reached or answered 5xx / timed out: retry with backoff. */
export class BrokerUnavailableError extends BrokerError {
  static override readonly retryable = true;
  constructor(message: string, broker: string, readonly retryAfterMs?: number) {
    super(message, broker);
  }
}

/** The broker's rate limit was hit: retry after the given delay (IG: 403 `error.public-api.exceeded-...-allowance`, Alpaca: 429). */
export class RateLimitedError extends BrokerError {
  static override readonly retryable = true;
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
  static override readonly retryable = true;
  constructor(message: string, broker: string, readonly clientOrderId: string, readonly retryAfterMs?: number) {
    super(message, broker);
  }
}

/** The broker's circuit breaker is open: calls fail fast until it half-opens. */
export class BrokerCircuitOpenError extends BrokerError {
  static override readonly retryable = true;
  constructor(message: string, broker: string, readonly retryAfterMs: number) {
    super(message, broker);
  }
}

/** The broker refused the order (insufficient funds, market closed, bad size): a retry cannot help. */
export class OrderRejectedError extends BrokerError {
  static override readonly retryable = false;
  constructor(message: string, broker: string, readonly clientOrderId: string) {
    super(message, broker);
  }
}

/** The request itself is malformed: a bug or bad input, never retried. */
export class InvalidOrderError extends BrokerError {
  static override readonly retryable = false;
}

/** Credentials refused: needs a human; trading on this broker stops. */
export class BrokerAuthError extends BrokerError {
  static override readonly retryable = false;
}

/** A broker error class as the derivation reads it: its name (the failure type) and its flags. */
export interface BrokerErrorClass {
  readonly name: string;
  readonly retryable: boolean;
  readonly adapterInternal: boolean;
  readonly prototype: BrokerError;
}

/**
 * Every concrete class of this module. A venue error extends one of them and keeps its flag
 * (the test fails if a venue class that can leave its adapter is not retryable and not listed here).
 */
export const BROKER_ERROR_CLASSES: readonly BrokerErrorClass[] = [
  BrokerUnavailableError,
  RateLimitedError,
  OrderOutcomeUnknownError,
  BrokerCircuitOpenError,
  OrderRejectedError,
  InvalidOrderError,
  BrokerAuthError,
];

/**
 * The failure types a retry cannot help: the workflow's `nonRetryableErrorTypes`, and the types it
 * books as a broker's refusal (engine/failures.ts). Derived from the classes' `retryable` flags.
 * Recorded workflow histories replay against these strings: today exactly OrderRejectedError,
 * InvalidOrderError and BrokerAuthError (test/brokers/errors.test.ts pins the set).
 */
export const NON_RETRYABLE_BROKER_ERRORS: string[] = BROKER_ERROR_CLASSES.filter((c) => !c.retryable && !c.adapterInternal).map(
  (c) => c.name,
);
