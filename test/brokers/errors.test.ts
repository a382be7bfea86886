/**
 * The error classes are the one source of what is retryable: NON_RETRYABLE_BROKER_ERRORS (the workflow's
 * nonRetryableErrorTypes and the types it books as refusals) is derived from them, and activities/failures.ts
 * turns each into an ApplicationFailure whose nonRetryable matches. Every class of every venue error module
 * is found by walking the modules' exports, so a new class cannot be forgotten.
 */
import { ApplicationFailure } from '@temporalio/common';
import { toFailure } from '../../activities/failures';
import * as alpacaErrors from '../../brokers/alpaca/errors';
import * as baseErrors from '../../brokers/errors';
import { BROKER_ERROR_CLASSES, BrokerError, NON_RETRYABLE_BROKER_ERRORS, type BrokerErrorClass } from '../../brokers/errors';
import * as igErrors from '../../brokers/ig/errors';

const VENUE_ERROR_MODULES: Record<string, Record<string, unknown>> = {
  'brokers/errors.ts': baseErrors,
  'brokers/ig/errors.ts': igErrors,
  'brokers/alpaca/errors.ts': alpacaErrors,
};

function isBrokerErrorClass(v: unknown): v is BrokerErrorClass {
  return typeof v === 'function' && v.prototype instanceof BrokerError;
}

/** Every concrete BrokerError class exported by a venue error module, by name. */
const ALL_CLASSES: Map<string, BrokerErrorClass> = new Map(
  Object.values(VENUE_ERROR_MODULES).flatMap((mod) => (Object.values(mod) as unknown[]).filter(isBrokerErrorClass).map((c) => [c.name, c] as const)),
);

/** One instance of each class, built the way its venue builds it. */
const SAMPLES: Record<string, () => BrokerError> = {
  BrokerUnavailableError: () => new baseErrors.BrokerUnavailableError('503 from the venue', 'ig', 2_000),
  RateLimitedError: () => new baseErrors.RateLimitedError('rate limit', 'alpaca', 1_500),
  OrderOutcomeUnknownError: () => new baseErrors.OrderOutcomeUnknownError('submit timed out', 'ig', 'acc-000001'),
  BrokerCircuitOpenError: () => new baseErrors.BrokerCircuitOpenError('circuit open', 'paper', 30_000),
  OrderRejectedError: () => new baseErrors.OrderRejectedError('insufficient funds', 'paper', 'acc-000002'),
  InvalidOrderError: () => new baseErrors.InvalidOrderError('quantity must be positive', 'paper'),
  BrokerAuthError: () => new baseErrors.BrokerAuthError('credentials refused', 'ig'),
  IgMalformedResponseError: () => new igErrors.IgMalformedResponseError('deal confirmation', ['level: missing']),
  IgSessionExpiredError: () => new igErrors.IgSessionExpiredError('error.security.client-token-invalid'),
  AlpacaMalformedResponseError: () => new alpacaErrors.AlpacaMalformedResponseError('not JSON', 'POST /v2/orders'),
  AlpacaDuplicateClientOrderIdError: () => new alpacaErrors.AlpacaDuplicateClientOrderIdError('acc-000003'),
};

/** Classes that can leave an adapter as an activity failure. */
const ESCAPING = [...ALL_CLASSES.values()].filter((c) => !c.adapterInternal);

describe('NON_RETRYABLE_BROKER_ERRORS', () => {
  it('is the same set of strings as the recorded workflow histories replay against', () => {
    expect([...NON_RETRYABLE_BROKER_ERRORS].sort()).toEqual(['BrokerAuthError', 'InvalidOrderError', 'OrderRejectedError']);
    expect(new Set(NON_RETRYABLE_BROKER_ERRORS).size).toBe(NON_RETRYABLE_BROKER_ERRORS.length);
  });

  it('equals the names of the non-retryable classes across all venue error modules', () => {
    const nonRetryable = ESCAPING.filter((c) => !c.retryable).map((c) => c.name);
    expect([...NON_RETRYABLE_BROKER_ERRORS].sort()).toEqual(nonRetryable.sort());
  });

  it('holds no retryable class and only names that are classes', () => {
    for (const name of NON_RETRYABLE_BROKER_ERRORS) {
      const cls = ALL_CLASSES.get(name);
      expect(cls).toBeDefined();
      expect(cls?.retryable).toBe(false);
    }
    for (const c of ALL_CLASSES.values()) if (c.retryable) expect(NON_RETRYABLE_BROKER_ERRORS).not.toContain(c.name);
  });

  it('is derived from BROKER_ERROR_CLASSES, which lists every class of brokers/errors.ts', () => {
    const own = (Object.values(baseErrors) as unknown[]).filter(isBrokerErrorClass).map((c) => c.name);
    expect(BROKER_ERROR_CLASSES.map((c) => c.name).sort()).toEqual(own.sort());
  });

  it('leaves out only classes their adapter catches itself (today just the Alpaca duplicate client_order_id)', () => {
    const internal = [...ALL_CLASSES.values()].filter((c) => c.adapterInternal).map((c) => c.name);
    expect(internal).toEqual(['AlpacaDuplicateClientOrderIdError']);
  });
});

describe('each broker error class', () => {
  it('has a sample here (a new class must be added to SAMPLES)', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...ALL_CLASSES.keys()].sort());
  });

  it.each([...ALL_CLASSES.keys()])('%s: says retryable true or false, and its instances carry the same flag', (name) => {
    const cls = ALL_CLASSES.get(name)!;
    expect(typeof cls.retryable).toBe('boolean');
    const err = SAMPLES[name]!();
    expect(err).toBeInstanceOf(BrokerError);
    expect(err.name).toBe(name);
    expect(err.retryable).toBe(cls.retryable);
    expect(Object.prototype.hasOwnProperty.call(err, 'retryable')).toBe(true);
  });

  it.each(ESCAPING.map((c) => c.name))('%s: toFailure gives an ApplicationFailure of that type, nonRetryable = !retryable, and the list agrees', (name) => {
    const cls = ALL_CLASSES.get(name)!;
    const err = SAMPLES[name]!();
    const f = toFailure(err);
    expect(f).toBeInstanceOf(ApplicationFailure);
    const af = f as ApplicationFailure;
    expect(af.type).toBe(name);
    expect(af.message).toBe(err.message);
    expect(af.nonRetryable).toBe(!cls.retryable);
    expect(NON_RETRYABLE_BROKER_ERRORS.includes(af.type ?? '')).toBe(af.nonRetryable);
  });

  it('a venue class inherits the flag of the base class it extends', () => {
    expect(igErrors.IgMalformedResponseError.retryable).toBe(baseErrors.BrokerUnavailableError.retryable);
    expect(alpacaErrors.AlpacaDuplicateClientOrderIdError.retryable).toBe(baseErrors.InvalidOrderError.retryable);
  });
});
