/**
 * AccountSession: one long-lived workflow per account, a thin shell over the session engine
 * (engine/session-engine.ts), which holds every trading decision. This file parses the config, wires
 * signals, updates and queries to the engine, runs the main loop (each engine effect becomes an
 * activity: workflows/effects.ts) and continues as new. Deterministic code only: no I/O, no wall clock,
 * no randomness (Date.now() here is workflow time). See docs/architecture.md.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { Mutex } from 'async-mutex';
import { SessionConfigSchema, type SessionConfig, type SessionConfigInput } from '../config/session-config';
import type { EnginePorts } from '../engine/context';
import { zodIssues } from '../engine/errors';
import { SessionEngine } from '../engine/session-engine';
import { nextCleanTime, type SessionState } from '../engine/session-state';
import type { Frame } from '../market/frame';
import { asFailure, wireCommands } from './commands';
import { SA_ACCOUNT, SA_BROKER, SA_STATUS, SA_TRADING_STATE } from './definitions';
import { driverFor } from './effects';
import { wireIntake } from './intake';
import { wireQueries } from './queries';
import { TimerLoop } from './timers';

export interface AccountSessionInput {
  config: SessionConfigInput;
  /** State carried from the previous run by continue-as-new; absent on a fresh start. */
  carried?: SessionState;
}

/** The engine's synchronous ports in a workflow: replay-safe logs, search attributes, patches, workflow time. */
function workflowPorts(onTimersChanged: () => void): EnginePorts {
  return {
    now: () => Date.now(),
    log: (level, message, fields) => wf.log[level](message, fields),
    patched: (id) => wf.patched(id),
    statusChanged: (status) => wf.upsertSearchAttributes([{ key: SA_STATUS, value: status }]),
    tradingStateChanged: (state) => wf.upsertSearchAttributes([{ key: SA_TRADING_STATE, value: state }]),
    timersChanged: onTimersChanged,
  };
}

export async function accountSession(input: AccountSessionInput): Promise<void> {
  const parsedConfig = SessionConfigSchema.safeParse(input.config);
  if (!parsedConfig.success) {
    throw ApplicationFailure.nonRetryable(`invalid session config: ${zodIssues(parsedConfig.error)}`, 'InvalidSessionConfig');
  }
  const config: SessionConfig = parsedConfig.data;
  const { account } = config;
  // Issue 6 (risk engine, protections, richer orders) applies to runs started by this code; a recorded
  // history of an older run replays without it (test/workflows/replay.test.ts).
  const riskEngine = wf.patched('risk-engine');
  // Issue 11: a frame that has not closed yet by workflow time (a clock in microseconds, a feeder ahead
  // of time) is refused; older runs accepted it and replay so.
  const refuseFutureFrames = wf.patched('refuse-future-frames');
  // Issue 11 item 7: P&L, exposure and protections in account currency (older runs book price units).
  const accountCurrency = riskEngine && wf.patched('account-currency');

  let timers: TimerLoop | null = null;
  let engine: SessionEngine;
  try {
    engine = new SessionEngine({ config, carried: input.carried, features: { riskEngine, accountCurrency }, ports: workflowPorts(() => timers?.wake()) });
  } catch (err) {
    throw asFailure(err);
  }
  const run = driverFor(account, config.broker);
  const lock = new Mutex();
  const queue: Frame[] = engine.state.pendingFrames;
  engine.state.pendingFrames = [];

  wireIntake(engine, queue, { refuseFutureFrames });
  wireCommands(engine, run, lock);
  wireQueries(engine, queue);

  wf.upsertSearchAttributes([
    { key: SA_ACCOUNT, value: account },
    { key: SA_BROKER, value: config.broker },
    { key: SA_STATUS, value: engine.state.status },
    ...(riskEngine ? [{ key: SA_TRADING_STATE, value: engine.state.tradingState }] : []),
  ]);

  await run(input.carried ? engine.startContinued(queue.length) : engine.startFresh());
  // On every start and after every continue-as-new, the broker's view is adopted before any decision.
  if (config.tradingEnabled && wf.patched('reconcile-on-start')) {
    await lock.runExclusive(() => run(engine.reconcile(input.carried ? 'continue-as-new' : 'session start')));
  }
  if (riskEngine) {
    engine.armTimers();
    timers = new TimerLoop(engine, run, lock);
    timers.start();
  }

  const cleanAt = nextCleanTime(Date.now(), config.dailyCleanTime);
  const rolloverDue = () => wf.workflowInfo().continueAsNewSuggested || Date.now() >= cleanAt;
  for (;;) {
    await wf.condition(() => queue.length > 0 || wf.workflowInfo().continueAsNewSuggested, Math.max(cleanAt - Date.now(), 1));
    if (rolloverDue()) break;
    while (queue.length > 0 && !wf.workflowInfo().continueAsNewSuggested) {
      const frame = queue.shift()!;
      // A long gap is backfilled a page per turn: the frame waits at the head, and the loop may roll over between pages.
      if (await lock.runExclusive(() => run(engine.frame(frame)))) queue.unshift(frame);
    }
  }

  // Invariant 4: let in-flight updates and timer work finish, then carry everything forward.
  if (timers) await timers.stop();
  await wf.condition(wf.allHandlersFinished);
  wf.log.info('continuing as new', { account, reason: wf.workflowInfo().continueAsNewSuggested ? 'history size' : 'daily clean time' });
  const carried: SessionState = { ...engine.state, pendingFrames: queue.splice(0) };
  await wf.continueAsNew<typeof accountSession>({ config, carried });
}
