/**
 * The workflow's driver of engine steps: each effect becomes one activity (store writes on the session
 * queue, broker calls on the broker's own task queue), its answer or failure fed back into the step.
 */
import * as wf from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/broker-activities';
import type { StoreActivities } from '../activities/store-activities';
import { NON_RETRYABLE_BROKER_ERRORS } from '../brokers/errors';
import type { Effect, Step } from '../engine/effects';
import { brokerTaskQueue } from './definitions';

const store = wf.proxyActivities<StoreActivities>({
  startToCloseTimeout: '30s',
  // A record must eventually be written: keep retrying while the database is down, with backoff.
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

function brokerActivities(broker: string) {
  const taskQueue = brokerTaskQueue(broker);
  return {
    orders: wf.proxyActivities<BrokerActivities>({
      taskQueue,
      startToCloseTimeout: '10s',
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_BROKER_ERRORS },
    }),
    reads: wf.proxyActivities<BrokerActivities>({
      taskQueue,
      startToCloseTimeout: '10s',
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE_BROKER_ERRORS },
    }),
    /**
     * Steps that must give up to let the session act: placing a protective stop (the position is closed
     * when it cannot be protected) and reading instrument details (an entry is refused without them).
     */
    bounded: wf.proxyActivities<BrokerActivities>({
      taskQueue,
      startToCloseTimeout: '10s',
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE_BROKER_ERRORS },
    }),
  };
}

export type Driver = <T>(step: Step<T>) => Promise<T>;

/** A driver for one account on one broker. */
export function driverFor(account: string, brokerName: string): Driver {
  const broker = brokerActivities(brokerName);
  const perform = (e: Effect): Promise<unknown> => {
    switch (e.kind) {
      case 'recordOrderIntent':
        return store.recordOrderIntent(account, e.record);
      case 'recordOutcome':
        return store.recordOutcome(account, e.outcome);
      case 'loadFrames':
        return store.loadFrames(e.query);
      case 'prepareAccount':
        return store.prepareAccount(account);
      case 'placeOrder':
        return broker.orders.placeOrder(e.request);
      case 'getOrder':
        return broker.reads.getOrder(account, e.clientOrderId);
      case 'getPositions':
        return broker.reads.getPositions(account);
      case 'getAccount':
        return broker.reads.getAccount(account);
      case 'getInstrument':
        return broker.bounded.getInstrument(e.symbol);
      case 'placeStop':
        return broker.bounded.placeStop(e.request);
    }
  };
  return async function run<T>(step: Step<T>): Promise<T> {
    let next = step.next();
    while (!next.done) {
      let answer: unknown;
      try {
        answer = await perform(next.value);
      } catch (err) {
        next = step.throw(err);
        continue;
      }
      next = step.next(answer);
    }
    return next.value;
  };
}
