/**
 * The workflow's driver of engine steps: each effect becomes one activity (store writes on the session
 * queue, broker calls on the broker's own task queue), its answer or failure fed back into the step.
 */
import * as wf from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/broker-activities';
import type { StoreActivities } from '../activities/store-activities';
import { NON_RETRYABLE_BROKER_ERRORS } from '../brokers/errors';
import type { BrokerCallTimeouts, CallTimeouts, SessionBrokerCall } from '../brokers/timeouts';
import type { Effect, Step } from '../engine/effects';
import { brokerTaskQueue } from './definitions';

const store = wf.proxyActivities<StoreActivities>({
  startToCloseTimeout: '30s',
  // A record must eventually be written: keep retrying while the database is down, with backoff.
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The retry policy of each kind of broker call. */
const RETRY = {
  orders: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE_BROKER_ERRORS },
  reads: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE_BROKER_ERRORS },
  /**
   * Steps that must give up to let the session act: placing a protective stop (the position is closed
   * when it cannot be protected) and reading instrument details (an entry is refused without them).
   */
  bounded: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE_BROKER_ERRORS },
} satisfies Record<string, ActivityOptions['retry']>;

const RETRY_OF: Record<SessionBrokerCall, keyof typeof RETRY> = {
  placeOrder: 'orders',
  getOrder: 'reads',
  getPositions: 'reads',
  getAccount: 'reads',
  getInstrument: 'bounded',
  placeStop: 'bounded',
};
const CALLS = Object.keys(RETRY_OF) as SessionBrokerCall[];

/**
 * Issue 11 (item 4): broker calls get activity timeouts that fit the adapter. A run started by this code
 * asks the broker's worker, once, before its first broker call; a recorded run without the marker keeps the
 * options below (activity options never break a replay; the extra activity would).
 */
export const BROKER_CALL_TIMEOUTS_PATCH = 'broker-call-timeouts';

/**
 * The options every broker call had before: 10 s, no heartbeat. Kept for runs recorded before the patch and
 * as the fallback when the broker worker cannot tell (a worker of an older version: its adapters do not
 * heartbeat either, so a heartbeat timeout would fail their every long call).
 */
const LEGACY_TIMEOUTS: CallTimeouts = { startToCloseMs: 10_000 };

/**
 * How the workflow learns the timeouts: the broker worker computes them (brokers/timeouts.ts, from the worst
 * cases of its adapter as configured by that worker's environment: IG_HTTP_TIMEOUT_MS, the confirm window,
 * ALPACA_ORDER_FILL_WAIT_MS, ...) and answers them from the `brokerCallTimeouts` activity; the workflow keeps
 * the answer in memory for the run and asks again after each continue-as-new, so a worker reconfigured
 * meanwhile is picked up within a day. Why not the session config: the adapter's config lives only in the
 * broker worker's environment (the session's starters, API and feeder, never see it), and a number carried in
 * the session config would go stale when the worker is reconfigured. Why not import the adapters' functions:
 * workflow code may not import broker implementations, and it would see only default configs. The answer is
 * an activity result, so a replay reads the same numbers from history: deterministic.
 */
const timeoutsQuery = (taskQueue: string) =>
  wf.proxyActivities<BrokerActivities>({
    taskQueue,
    startToCloseTimeout: '10s',
    // A pure answer: only an older worker without the activity fails it (NotFoundError), and then at once.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3, nonRetryableErrorTypes: ['NotFoundError'] },
  });

type BrokerProxies = Readonly<Record<SessionBrokerCall, BrokerActivities>>;

function proxiesFor(taskQueue: string, timeouts: (call: SessionBrokerCall) => CallTimeouts): BrokerProxies {
  const out = {} as Record<SessionBrokerCall, BrokerActivities>;
  for (const call of CALLS) {
    const t = timeouts(call);
    out[call] = wf.proxyActivities<BrokerActivities>({
      taskQueue,
      startToCloseTimeout: t.startToCloseMs,
      ...(t.heartbeatTimeoutMs !== undefined ? { heartbeatTimeout: t.heartbeatTimeoutMs } : {}),
      retry: RETRY[RETRY_OF[call]],
    });
  }
  return out;
}

/** An answer of `brokerCallTimeouts` the workflow can use: a positive finite number for every call. */
function usable(v: BrokerCallTimeouts | null | undefined): v is BrokerCallTimeouts {
  const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;
  return !!v && CALLS.every((c) => !!v[c] && ok(v[c].startToCloseMs) && (v[c].heartbeatTimeoutMs === undefined || ok(v[c].heartbeatTimeoutMs)));
}

/**
 * The broker call proxies of one run. Synchronous once known (and always for a recorded run without the
 * patch), so scheduling a broker call adds no await to what older runs did; the first call of a patched run
 * waits for the broker worker's answer.
 */
function brokerActivities(account: string, broker: string): () => BrokerProxies | Promise<BrokerProxies> {
  const taskQueue = brokerTaskQueue(broker);
  let known: BrokerProxies | null = null;
  let asking: Promise<BrokerProxies> | null = null;
  const legacy = () => proxiesFor(taskQueue, () => LEGACY_TIMEOUTS);
  return () => {
    if (known) return known;
    if (!wf.patched(BROKER_CALL_TIMEOUTS_PATCH)) return (known = legacy());
    asking ??= timeoutsQuery(taskQueue)
      .brokerCallTimeouts()
      .then(
        (answer) => {
          if (usable(answer)) {
            wf.log.info('broker call timeouts', { account, broker, timeouts: answer });
            return (known = proxiesFor(taskQueue, (call) => answer[call]));
          }
          wf.log.warn('the broker worker reports no usable call timeouts; broker calls keep 10 s, no heartbeat', { account, broker, answer });
          return (known = legacy());
        },
        (err: unknown) => {
          wf.log.warn('the broker worker could not tell its call timeouts; broker calls keep 10 s, no heartbeat', { account, broker, error: String(err) });
          return (known = legacy());
        },
      );
    return asking;
  };
}

export type Driver = <T>(step: Step<T>) => Promise<T>;

/** A driver for one account on one broker. */
export function driverFor(account: string, brokerName: string): Driver {
  const brokerProxies = brokerActivities(account, brokerName);
  /** Runs `use` on the proxy of `call`: at once when the proxies are known (no extra await), else after the answer. */
  const broker = <R>(call: SessionBrokerCall, use: (a: BrokerActivities) => Promise<R>): Promise<R> => {
    const p = brokerProxies();
    return p instanceof Promise ? p.then((known) => use(known[call])) : use(p[call]);
  };
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
        return broker('placeOrder', (a) => a.placeOrder(e.request));
      case 'getOrder':
        return broker('getOrder', (a) => a.getOrder(account, e.clientOrderId));
      case 'getPositions':
        return broker('getPositions', (a) => a.getPositions(account));
      case 'getAccount':
        return broker('getAccount', (a) => a.getAccount(account));
      case 'getInstrument':
        return broker('getInstrument', (a) => a.getInstrument(e.symbol));
      case 'placeStop':
        return broker('placeStop', (a) => a.placeStop(e.request));
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
