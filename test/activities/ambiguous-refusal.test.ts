/**
 * A refusal on a retry of placeOrder is not booked as a rejection (issue 11): attempt 1 may have reached
 * the broker before it timed out. The activity fails with its own non-retryable type, which the session's
 * engine does not read as a broker refusal (it asks the broker and tracks the order as unknown).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { ORDER_OUTCOME_AMBIGUOUS, createBrokerActivities } from '../../activities/broker-activities';
import type { BrokerAdapter, OrderRequest } from '../../brokers/adapter';
import { OrderRejectedError } from '../../brokers/errors';
import { brokerRefusal } from '../../engine/failures';

const ORDER: OrderRequest = { account: 'acc', clientOrderId: 'acc-000001', type: 'market', symbol: 'AAPL', side: 'buy', quantity: 1, intent: 'open' };

function refusingAdapter(): BrokerAdapter {
  return {
    name: 'fake',
    placeOrder: async () => {
      throw new OrderRejectedError('insufficient qty available for order', 'fake', ORDER.clientOrderId);
    },
  } as unknown as BrokerAdapter;
}

async function failureOn(attempt: number): Promise<unknown> {
  const env = new MockActivityEnvironment({ attempt });
  const acts = createBrokerActivities({ adapter: refusingAdapter(), tradingEnabled: true });
  return env.run(acts.placeOrder, ORDER).then(
    () => undefined,
    (err: unknown) => err,
  );
}

test('on attempt 1 a refusal stays a refusal: the session books it rejected', async () => {
  const err = (await failureOn(1)) as ApplicationFailure;
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err.type).toBe('OrderRejectedError');
  expect(err.nonRetryable).toBe(true);
  expect(brokerRefusal({ cause: err })).toMatch(/^OrderRejectedError: /);
});

test('on a retry the same refusal is ambiguous: non-retryable, not a refusal, naming the attempt', async () => {
  const err = (await failureOn(3)) as ApplicationFailure;
  expect(err.type).toBe(ORDER_OUTCOME_AMBIGUOUS);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toBe('attempt 3 was refused (OrderRejectedError: insufficient qty available for order), but an earlier attempt may have reached the broker');
  expect(brokerRefusal({ cause: err })).toBeNull();
});
