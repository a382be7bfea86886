/**
 * Operator commands wired to the engine (invariant 5). Each update's validator runs the engine's check,
 * and its handler runs the step under the session lock; an engine refusal becomes a non-retryable
 * ApplicationFailure, which fails the update and never the workflow task.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { Mutex } from 'async-mutex';
import { EngineRefusal } from '../engine/errors';
import type { SessionEngine } from '../engine/session-engine';
import type { Driver } from './effects';
import {
  closeAllUpdate,
  closePositionUpdate,
  pauseSignal,
  reconcileUpdate,
  resumeSignal,
  setParamsUpdate,
  setTradingStateUpdate,
} from './definitions';

/** An engine refusal as the failure a caller sees; anything else is rethrown as it is. */
export function asFailure(err: unknown): unknown {
  return err instanceof EngineRefusal ? ApplicationFailure.nonRetryable(err.message, err.type) : err;
}

function checked(check: () => void): void {
  try {
    check();
  } catch (err) {
    throw asFailure(err);
  }
}

export function wireCommands(engine: SessionEngine, run: Driver, lock: Mutex): void {
  const account = engine.ctx.account;
  wf.setHandler(pauseSignal, (cmd) => engine.pause(cmd));
  wf.setHandler(resumeSignal, (cmd) => engine.resume(cmd));

  wf.setHandler(closePositionUpdate, async ({ systemId, by }) => lock.runExclusive(() => run(engine.closePosition(systemId, by))), {
    validator: ({ systemId }) => checked(() => engine.checkClosePosition(systemId)),
  });

  wf.setHandler(closeAllUpdate, async (cmd) => lock.runExclusive(() => run(engine.closeAll(cmd?.by))), {
    validator: (_cmd) => checked(() => engine.checkCloseAll()),
  });

  wf.setHandler(
    setParamsUpdate,
    async ({ systemId, params, by }) =>
      lock.runExclusive(async () => {
        try {
          return await run(engine.setParams(systemId, params, by));
        } catch (err) {
          throw asFailure(err);
        }
      }),
    { validator: ({ systemId, params }) => checked(() => engine.checkSetParams(systemId, params)) },
  );

  wf.setHandler(
    reconcileUpdate,
    async ({ by, reason }) =>
      lock.runExclusive(() => {
        wf.log.info('reconciliation requested', { account, by: by ?? 'unknown' });
        return run(engine.reconcile(reason ?? `requested by ${by ?? 'unknown'}`));
      }),
    { validator: (_cmd) => checked(() => engine.checkReconcile()) },
  );

  // Not under the lock: a trading state takes effect at once, even while a frame is in flight.
  wf.setHandler(setTradingStateUpdate, async (cmd) => run(engine.setTradingState(cmd)), {
    validator: (cmd) => checked(() => engine.checkTradingState(cmd)),
  });
}
