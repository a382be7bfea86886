import { ApplicationFailure } from '@temporalio/common';
import { toFailure, withFailureMapping } from '../../activities/failures';
import {
  BrokerAuthError,
  BrokerUnavailableError,
  InvalidOrderError,
  NON_RETRYABLE_BROKER_ERRORS,
  OrderRejectedError,
} from '../../brokers/errors';
import { InvalidFrameError } from '../../market/frame';

function asFailure(x: unknown): ApplicationFailure {
  expect(x).toBeInstanceOf(ApplicationFailure);
  return x as ApplicationFailure;
}

describe('toFailure', () => {
  it.each([
    ['OrderRejectedError', new OrderRejectedError('insufficient funds', 'paper', 'acc-000001')],
    ['InvalidOrderError', new InvalidOrderError('invalid order: quantity: quantity must be positive', 'paper')],
    ['BrokerAuthError', new BrokerAuthError('credentials refused', 'ig')],
  ])('maps a %s to a non-retryable ApplicationFailure of that type', (type, err) => {
    const f = asFailure(toFailure(err));
    expect(f.type).toBe(type);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe(err.message);
    expect(NON_RETRYABLE_BROKER_ERRORS).toContain(f.type);
  });

  it('maps a BrokerUnavailableError to a retryable failure with nextRetryDelay from retryAfterMs', () => {
    const f = asFailure(toFailure(new BrokerUnavailableError('503 from the venue', 'ig', 5_000)));
    expect(f.type).toBe('BrokerUnavailableError');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(5_000);
    expect(f.message).toBe('503 from the venue');
    expect(NON_RETRYABLE_BROKER_ERRORS).not.toContain(f.type);
  });

  it('leaves nextRetryDelay to the retry policy when the broker gave no retry-after', () => {
    const f = asFailure(toFailure(new BrokerUnavailableError('timeout', 'ig')));
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay == null).toBe(true);
  });

  it('maps any other error that says it is not retryable (e.g. InvalidFrameError) to a non-retryable failure', () => {
    const f = asFailure(toFailure(new InvalidFrameError(['open: open must be a positive price'], {})));
    expect(f.type).toBe('InvalidFrameError');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/open must be a positive price/);
  });

  it('passes other errors and non-errors through unchanged', () => {
    const plain = new Error('ECONNRESET');
    expect(toFailure(plain)).toBe(plain);
    const retryable = Object.assign(new Error('flaky'), { retryable: true });
    expect(toFailure(retryable)).toBe(retryable);
    expect(toFailure('a string')).toBe('a string');
    expect(toFailure(undefined)).toBeUndefined();
  });

  it('passes an ApplicationFailure through as is', () => {
    const af = ApplicationFailure.nonRetryable('already mapped', 'Custom');
    expect(toFailure(af)).toBe(af);
  });
});

describe('withFailureMapping', () => {
  const acts = withFailureMapping({
    async add(a: number, b: number) {
      return a + b;
    },
    async reject(id: string): Promise<never> {
      throw new OrderRejectedError('market closed', 'paper', id);
    },
    async unavailable(): Promise<never> {
      throw new BrokerUnavailableError('down', 'paper', 250);
    },
    async crash(): Promise<never> {
      throw new TypeError('x is undefined');
    },
  });

  it('keeps every function and passes arguments and results through', async () => {
    expect(Object.keys(acts).sort()).toEqual(['add', 'crash', 'reject', 'unavailable']);
    await expect(acts.add(2, 3)).resolves.toBe(5);
  });

  it('throws a non-retryable failure for a non-retryable broker error', async () => {
    const err = await acts.reject('acc-000009').catch((e: unknown) => e);
    const f = asFailure(err);
    expect(f).toMatchObject({ type: 'OrderRejectedError', nonRetryable: true, message: 'market closed' });
  });

  it('throws a retryable failure with nextRetryDelay for a retryable broker error', async () => {
    const f = asFailure(await acts.unavailable().catch((e: unknown) => e));
    expect(f).toMatchObject({ type: 'BrokerUnavailableError', nonRetryable: false, nextRetryDelay: 250 });
  });

  it('rethrows other errors unchanged', async () => {
    const err = await acts.crash().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toBe('x is undefined');
  });
});
