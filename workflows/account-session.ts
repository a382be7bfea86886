/**
 * AccountSession: one long-lived workflow per account. It takes closed frames, runs each configured
 * trading system on them, turns decisions into order intents with deterministic clientOrderIds,
 * places them through the broker's task queue and records every change through store activities.
 * Deterministic code only: no I/O, no wall clock, no randomness (Date.now() here is workflow time).
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { Mutex } from 'async-mutex';
import type { BrokerActivities } from '../activities/broker-activities';
import type { StoreActivities } from '../activities/store-activities';
import type { BrokerPosition, Instrument, OrderReport, OrderRequest } from '../brokers/adapter';
import { stopOrderId, unfilledReport } from '../brokers/adapter';
import { NON_RETRYABLE_BROKER_ERRORS } from '../brokers/errors';
import type { SessionOutcome } from '../db/account-store';
import { parseFrame, streamKey, type Frame } from '../market/frame';
import { timeframeMs } from '../market/timeframe';
import { getSystem } from '../systems/registry';
import { NO_DECISION, type Decision, type TradingSystem } from '../systems/types';
import { clientOrderIdFor, fillOf, type OrderRecord } from '../trading/order';
import { stopTouched, type Position } from '../trading/position';
import { emulatedExitHit, initialTrailLevel, trailAfter } from '../trading/exits';
import { workingOrderExpired, workingOrderFor, workingOrderRef, workingOrderTriggered, type WorkingOrder } from '../trading/working-order';
import { decisionProblem } from '../trading/decision-check';
import { checkIntent, type IntentToCheck } from '../risk/pre-trade';
import { TradingStateCommandSchema, type TradingState, type TradingStateChange } from '../risk/trading-state';
import { initialProtectionState, nextUtcMidnight, onEquity, onTradeClosed } from '../risk/protections';
import type { WorkingOrderRecord } from '../db/account-store';
import { noteOrderSent, preTradeView } from './risk-gate';
import type { RiskRefusal } from './risk-view';
import { closeTrade, round8, type ExitReason, type Trade } from '../trading/trade';
import {
  SA_ACCOUNT,
  SA_BROKER,
  SA_STATUS,
  SA_TRADING_STATE,
  closeAllUpdate,
  closePositionUpdate,
  frameSignal,
  pauseSignal,
  pnlQuery,
  positionsQuery,
  reconcileUpdate,
  resumeSignal,
  riskQuery,
  setTradingStateUpdate,
  setParamsUpdate,
  statusQuery,
  submitFramesUpdate,
  systemsQuery,
  tradesQuery,
  brokerTaskQueue,
  type SessionStatus,
} from './definitions';
import { diffPositions, type ReconciliationReport } from './reconciliation';
import { SessionConfigSchema, type SessionConfig, type SessionConfigInput, type SystemConfig } from './session-config';
import {
  RECENT_TRADES_KEPT,
  RISK_HISTORY_KEPT,
  enqueueFrame,
  initialSessionState,
  keepLast,
  nextCleanTime,
  normaliseRiskState,
  pnlOf,
  type SessionState,
} from './session-state';

/** How long the session trusts a broker's instrument details (market status, minimum size, step). */
const INSTRUMENT_MAX_AGE_MS = 60_000;
/** How far past workflow time a frame may end (clock skew between a feeder and the Temporal server). */
const FUTURE_FRAME_TOLERANCE_MS = 60_000;

export interface AccountSessionInput {
  config: SessionConfigInput;
  /** State carried from the previous run by continue-as-new; absent on a fresh start. */
  carried?: SessionState;
}

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
      retry: {
        initialInterval: '1s',
        backoffCoefficient: 2,
        maximumInterval: '15s',
        maximumAttempts: 8,
        nonRetryableErrorTypes: NON_RETRYABLE_BROKER_ERRORS,
      },
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

function zodIssues(err: { issues: { path: (string | number)[]; message: string }[] }): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export async function accountSession(input: AccountSessionInput): Promise<void> {
  const parsedConfig = SessionConfigSchema.safeParse(input.config);
  if (!parsedConfig.success) {
    throw ApplicationFailure.nonRetryable(`invalid session config: ${zodIssues(parsedConfig.error)}`, 'InvalidSessionConfig');
  }
  const config: SessionConfig = parsedConfig.data;
  const { account } = config;
  const broker = brokerActivities(config.broker);

  const systems = new Map<string, { cfg: SystemConfig; impl: TradingSystem }>();
  for (const cfg of config.systems) {
    let impl: TradingSystem;
    try {
      impl = getSystem(cfg.system);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`systems.${cfg.id}.system: ${(err as Error).message}`, 'InvalidSessionConfig');
    }
    systems.set(cfg.id, { cfg, impl });
  }
  const streams = new Set(config.systems.map((s) => streamKey(s.symbol, s.timeframe)));

  const state: SessionState = input.carried ?? initialSessionState();
  state.runs += 1;
  // State carried from runs older than reconciliation lacks these fields.
  state.foreignPositions ??= [];
  state.lastReconciliation ??= null;
  state.counters.reconciliationDrifts ??= 0;
  state.unknownOrders = (state.unknownOrders ?? []).filter((u) => typeof u === 'object');
  normaliseRiskState(state);
  // Issue 6 (risk engine, protections, richer orders) applies to runs started by this code; a recorded
  // history of an older run replays without it (test/workflows/replay.test.ts).
  const riskEngine = wf.patched('risk-engine');
  // Issue 11: a frame that has not closed yet by workflow time (a clock in microseconds, a feeder ahead
  // of time) is refused; older runs accepted it and replay so.
  const refuseFutureFrames = wf.patched('refuse-future-frames');
  // Systems added to the config since the last run start fresh; parameters are validated by each system's schema.
  for (const { cfg, impl } of systems.values()) {
    if (state.systems[cfg.id]) continue;
    const params = impl.paramsSchema.safeParse(cfg.params);
    if (!params.success) {
      throw ApplicationFailure.nonRetryable(
        `invalid params of system ${cfg.id}: ${zodIssues(params.error)}`,
        'InvalidSystemParamsError',
      );
    }
    state.systems[cfg.id] = { params: params.data as Record<string, unknown>, state: impl.initialState(params.data), realisedPnl: 0 };
  }
  const queue: Frame[] = state.pendingFrames;
  state.pendingFrames = [];
  const lock = new Mutex();

  // ---- intake of frames (signals and the validated update) ----

  /**
   * Validates a frame against the schema; a frame at or before the last processed one of its stream
   * was already processed (a feeder re-delivering after its restart) and is a duplicate, not an error.
   */
  function checkFrame(raw: unknown): { frame: Frame; duplicate: boolean } {
    const frame = parseFrame(raw);
    const key = streamKey(frame.symbol, frame.timeframe);
    if (!streams.has(key)) throw ApplicationFailure.nonRetryable(`frame: no system of this session trades ${key}`, 'InvalidFrameError');
    if (refuseFutureFrames) {
      const end = frame.start + timeframeMs(frame.timeframe);
      const latest = Date.now() + FUTURE_FRAME_TOLERANCE_MS;
      if (end > latest) {
        throw ApplicationFailure.nonRetryable(
          `start: frame ${frame.start} of ${key} ends at ${new Date(end).toISOString()}, after the session's time ${new Date(Date.now()).toISOString()} (a frame must have closed; is the clock in ms?)`,
          'InvalidFrameError',
        );
      }
    }
    const last = state.lastFrames[key];
    return { frame, duplicate: last !== undefined && frame.start <= last };
  }

  /** Checks a batch: every frame valid, and each stream's frames in strictly increasing start order. */
  function checkBatch(frames: unknown[]): void {
    const lastInBatch = new Map<string, number>();
    frames.forEach((raw, i) => {
      try {
        const { frame } = checkFrame(raw);
        const key = streamKey(frame.symbol, frame.timeframe);
        const prev = lastInBatch.get(key);
        if (prev !== undefined && frame.start <= prev) {
          throw ApplicationFailure.nonRetryable(
            `start: ${frame.start} is not after the previous frame ${prev} of ${key} in this batch (frames must be in order)`,
            'InvalidFrameError',
          );
        }
        lastInBatch.set(key, frame.start);
      } catch (err) {
        throw ApplicationFailure.nonRetryable(`frames[${i}]: ${(err as Error).message}`, 'InvalidFrameError');
      }
    });
  }

  function acceptFrame(raw: unknown): 'accepted' | 'duplicate' {
    const { frame, duplicate } = checkFrame(raw);
    if (duplicate || !enqueueFrame(queue, frame)) {
      state.counters.framesDuplicate++;
      return 'duplicate';
    }
    return 'accepted';
  }

  function rejectFrames(err: unknown, count: number) {
    // A bad frame is refused, never a crash of the session (invariant 8).
    state.counters.framesRejected += count;
    state.lastRejection = (err as Error).message;
    wf.log.warn('frames rejected', { account, count, reason: (err as Error).message });
  }

  wf.setHandler(frameSignal, (payload) => {
    const frames = Array.isArray(payload) ? payload : [payload];
    try {
      checkBatch(frames);
    } catch (err) {
      rejectFrames(err, frames.length);
      return;
    }
    for (const raw of frames) acceptFrame(raw);
  });

  wf.setHandler(
    submitFramesUpdate,
    (frames) => {
      let accepted = 0;
      let duplicates = 0;
      for (const f of frames) (acceptFrame(f) === 'accepted' ? accepted++ : duplicates++);
      return { accepted, duplicates };
    },
    {
      validator: (frames) => {
        if (!Array.isArray(frames)) throw ApplicationFailure.nonRetryable('frames: expected an array of frames', 'InvalidFrameError');
        checkBatch(frames);
      },
    },
  );

  // ---- control (invariant 5) ----

  function setStatus(status: SessionStatus, cmd: { by?: string; reason?: string } | undefined) {
    if (state.status === status) return;
    state.status = status;
    wf.upsertSearchAttributes([{ key: SA_STATUS, value: status }]);
    wf.log.info(`session ${status}`, { account, by: cmd?.by ?? 'unknown', reason: cmd?.reason ?? '' });
  }
  wf.setHandler(pauseSignal, (cmd) => setStatus('paused', cmd));
  wf.setHandler(resumeSignal, (cmd) => setStatus('running', cmd));

  wf.setHandler(
    closePositionUpdate,
    async ({ systemId, by }) =>
      lock.runExclusive(async () => {
        const pos = state.positions[systemId];
        if (!pos) return null;
        wf.log.info('close position requested', { account, systemId, by: by ?? 'unknown' });
        const outcome = emptyOutcome();
        const trade = await closePosition(systemId, pos, 'manual', lastFrameOf(systemId), outcome);
        await recordOutcome(outcome);
        return trade;
      }),
    {
      validator: ({ systemId }) => {
        if (!systems.has(systemId)) throw ApplicationFailure.nonRetryable(`systemId: unknown system "${systemId}"`, 'InvalidCommand');
        refuseWhenHalted();
      },
    },
  );

  /** Halted passes nothing, a person's close included: set reducing to close positions. */
  function refuseWhenHalted(): void {
    if (state.tradingState === 'halted') {
      throw ApplicationFailure.nonRetryable('account is halted: no order passes; set the trading state to reducing to close positions', 'TradingHaltedError');
    }
  }

  wf.setHandler(
    closeAllUpdate,
    async (cmd) =>
    lock.runExclusive(async () => {
      wf.log.info('close all requested', { account, by: cmd?.by ?? 'unknown' });
      const outcome = emptyOutcome();
      const trades: Trade[] = [];
      for (const [systemId, pos] of Object.entries(state.positions)) {
        const t = await closePosition(systemId, pos, 'manual', lastFrameOf(systemId), outcome);
        if (t) trades.push(t);
      }
      await recordOutcome(outcome);
      return trades;
    }),
    { validator: (_cmd) => refuseWhenHalted() },
  );

  function invalidParams(system: string, err: { issues: { path: (string | number)[]; message: string }[] }): ApplicationFailure {
    return ApplicationFailure.nonRetryable(
      `invalid params for ${system}: ${err.issues.map((i) => `params${i.path.length ? '.' : ''}${i.path.join('.')}: ${i.message}`).join('; ')}`,
      'InvalidSystemParamsError',
    );
  }

  /** setParams changes only the parameters it names; the others keep their current values. */
  function mergedParams(systemId: string, params: unknown): unknown {
    return { ...state.systems[systemId].params, ...(params as Record<string, unknown>) };
  }

  wf.setHandler(
    setParamsUpdate,
    async ({ systemId, params, by }) =>
      lock.runExclusive(async () => {
        const { impl } = systems.get(systemId)!;
        // Re-checked under the lock: another setParams may have run since the validator passed, and the
        // merge of both can be invalid (slowPeriod 12 after fastPeriod 20). That fails this update, not
        // the workflow task (a plain throw here would fail every task retry and freeze the session).
        const r = impl.paramsSchema.safeParse(mergedParams(systemId, params));
        if (!r.success) throw invalidParams(systems.get(systemId)!.cfg.system, r.error);
        const parsed = r.data as Record<string, unknown>;
        state.systems[systemId].params = parsed;
        wf.log.info('system parameters set', { account, systemId, by: by ?? 'unknown', params: parsed });
        const outcome = emptyOutcome();
        outcome.systemStates.push(snapshotOf(systemId));
        await recordOutcome(outcome);
        return parsed;
      }),
    {
      validator: ({ systemId, params }) => {
        const sys = systems.get(systemId);
        if (!sys) throw ApplicationFailure.nonRetryable(`systemId: unknown system "${systemId}"`, 'InvalidCommand');
        if (typeof params !== 'object' || params === null || Array.isArray(params)) {
          throw ApplicationFailure.nonRetryable('params: expected an object of parameters', 'InvalidSystemParamsError');
        }
        const r = sys.impl.paramsSchema.safeParse(mergedParams(systemId, params));
        if (!r.success) throw invalidParams(sys.cfg.system, r.error);
      },
    },
  );

  wf.setHandler(
    reconcileUpdate,
    async ({ by, reason }) =>
      lock.runExclusive(() => {
        wf.log.info('reconciliation requested', { account, by: by ?? 'unknown' });
        return reconcile(reason ?? `requested by ${by ?? 'unknown'}`);
      }),
    {
      validator: (_cmd) => {
        if (!config.tradingEnabled) throw ApplicationFailure.nonRetryable('a dry-run session has no broker state to reconcile', 'InvalidCommand');
      },
    },
  );

  // ---- trading state (issue 6): active | reducing | halted ----

  const severity: Record<TradingState, number> = { active: 0, reducing: 1, halted: 2 };
  /** Control events waiting for the next store write (a protection's change is recorded with its frame). */
  let unrecordedControl: TradingStateChange[] = [];

  function setTradingState(to: TradingState, by: string, reason: string, source: TradingStateChange['source']): TradingStateChange | null {
    if (state.tradingState === to) return null;
    const change: TradingStateChange = { seq: ++state.controlSeq, at: Date.now(), from: state.tradingState, to, by, reason, source };
    state.tradingState = to;
    state.tradingStateBy = by;
    state.tradingStateHistory.push(change);
    keepLast(state.tradingStateHistory, RISK_HISTORY_KEPT);
    unrecordedControl.push(change);
    wf.upsertSearchAttributes([{ key: SA_TRADING_STATE, value: to }]);
    const line = { account, from: change.from, to, by, reason, source };
    if (to === 'active') wf.log.info(`trading state ${to}`, line);
    else wf.log.warn(`trading state ${to}`, line);
    return change;
  }

  wf.setHandler(
    setTradingStateUpdate,
    async (cmd) => {
      const { state: to, by, reason } = TradingStateCommandSchema.parse(cmd);
      // Takes effect at once, even while a frame is in flight: the next risk check sees it.
      const change = setTradingState(to, by, reason, 'command');
      // A person re-activating after a breach re-arms the loss protections from today's equity; otherwise the
      // same breach would switch the account back on the next frame and the command would mean nothing.
      if (change && to === 'active' && state.protection) {
        const equity = round8(state.startingBalance + pnlOf(state).total);
        state.protection = { ...state.protection, peakEquity: equity, dayStartEquity: equity };
        state.dailyLossLiftAt = null;
      }
      if (change) await recordOutcome(emptyOutcome());
      return change;
    },
    {
      validator: (cmd) => {
        if (!riskEngine) throw ApplicationFailure.nonRetryable('this run predates trading states; it takes them after its next continue-as-new', 'InvalidCommand');
        const r = TradingStateCommandSchema.safeParse(cmd);
        if (!r.success) throw ApplicationFailure.nonRetryable(`invalid trading-state command: ${zodIssues(r.error)}`, 'InvalidCommand');
      },
    },
  );

  // ---- queries ----

  wf.setHandler(statusQuery, () => ({
    account,
    broker: config.broker,
    status: state.status,
    tradingState: state.tradingState,
    tradingEnabled: config.tradingEnabled,
    orderSeq: state.orderSeq,
    lastFrames: { ...state.lastFrames },
    queuedFrames: queue.length,
    counters: { ...state.counters },
    lastRejection: state.lastRejection,
    runsSinceStart: state.runs,
    unknownOrders: state.unknownOrders.length,
    foreignPositions: state.foreignPositions.length,
    lastReconciliation: state.lastReconciliation && {
      at: state.lastReconciliation.at,
      reason: state.lastReconciliation.reason,
      drifts: state.lastReconciliation.drifts.length,
      stillUnknown: state.lastReconciliation.stillUnknown,
    },
  }));
  wf.setHandler(positionsQuery, () => Object.values(state.positions));
  wf.setHandler(riskQuery, () => ({
    tradingState: state.tradingState,
    limits: config.risk,
    protections: config.protections,
    protectionState: state.protection,
    locks: state.locks.filter((l) => l.until > Date.now()),
    workingOrders: Object.values(state.workingOrders),
    lastRefusals: [...state.lastRefusals],
    tradingStateHistory: [...state.tradingStateHistory],
  }));
  wf.setHandler(pnlQuery, () => pnlOf(state));
  wf.setHandler(tradesQuery, () => [...state.recentTrades]);
  wf.setHandler(systemsQuery, () => {
    const out: Record<string, ReturnType<typeof viewOf>> = {};
    for (const id of systems.keys()) out[id] = viewOf(id);
    return out;
  });
  function viewOf(id: string) {
    const { cfg } = systems.get(id)!;
    return { system: cfg.system, symbol: cfg.symbol, timeframe: cfg.timeframe, params: state.systems[id].params, state: state.systems[id].state };
  }

  // ---- order flow ----

  function emptyOutcome(): SessionOutcome {
    return { orders: [], fills: [], openedPositions: [], trades: [], systemStates: [] };
  }

  function snapshotOf(systemId: string) {
    const { cfg } = systems.get(systemId)!;
    const rt = state.systems[systemId];
    return {
      systemId,
      systemName: cfg.system,
      params: rt.params,
      state: rt.state,
      frameStart: state.lastFrames[streamKey(cfg.symbol, cfg.timeframe)] ?? null,
    };
  }

  function lastFrameOf(systemId: string): number {
    const { cfg } = systems.get(systemId)!;
    return state.lastFrames[streamKey(cfg.symbol, cfg.timeframe)] ?? Date.now();
  }

  async function recordOutcome(outcome: SessionOutcome): Promise<void> {
    if (unrecordedControl.length) {
      outcome.controlEvents = [...(outcome.controlEvents ?? []), ...unrecordedControl];
      unrecordedControl = [];
    }
    const empty = !outcome.orders.length && !outcome.trades.length && !outcome.systemStates.length && !outcome.equity;
    if (empty && !outcome.refusals?.length && !outcome.controlEvents?.length && !outcome.workingOrders?.length) return;
    await store.recordOutcome(account, outcome);
  }

  function rejectedReport(order: OrderRequest, reason: string): OrderReport {
    return unfilledReport(order, 'rejected', reason);
  }

  /**
   * Places an order and settles its outcome. The broker activity is idempotent by clientOrderId, so
   * retries are safe; when retries run out, the broker is asked what happened instead of guessing.
   */
  async function placeAndSettle(order: OrderRequest): Promise<OrderReport | null> {
    try {
      return await broker.orders.placeOrder(order);
    } catch (err) {
      const cause = (err as { cause?: { type?: string; message?: string; nonRetryable?: boolean } }).cause;
      if (cause?.type && NON_RETRYABLE_BROKER_ERRORS.includes(cause.type)) return rejectedReport(order, `${cause.type}: ${cause.message}`);
      wf.log.error('order outcome unsettled after retries; asking the broker', { account, clientOrderId: order.clientOrderId, error: String(err) });
      try {
        const found = await broker.reads.getOrder(account, order.clientOrderId);
        if (found) return found;
        // Not found is not "not placed" at every broker (IG keeps confirms briefly): reconciliation decides.
        return wf.patched('unsettled-order-is-unknown') ? null : rejectedReport(order, 'broker has no such order after all retries');
      } catch (lookupErr) {
        wf.log.error('order outcome unknown; left to reconciliation', { account, clientOrderId: order.clientOrderId, error: String(lookupErr) });
        return null;
      }
    }
  }

  /**
   * The pre-trade risk checks (issue 6), before any broker call: true when the intent was refused. A
   * refusal is recorded with the rule and the numbers that refused it; it never takes an order id.
   */
  async function refusedByRisk(
    systemId: string,
    spec: Pick<OrderRequest, 'symbol' | 'side' | 'quantity' | 'intent'>,
    frame: { start: number; close: number } | null,
    outcome: SessionOutcome,
  ): Promise<boolean> {
    if (!riskEngine) return false;
    const intent: IntentToCheck = {
      systemId,
      symbol: spec.symbol,
      side: spec.side,
      quantity: spec.quantity,
      intent: spec.intent,
      price: frame?.close ?? state.lastPrice[spec.symbol] ?? 0,
    };
    let verdict = checkIntent(intent, preTradeView(state, Date.now(), null), config.risk);
    if (verdict.ok && spec.intent === 'open' && config.risk.checkInstrument && config.tradingEnabled) {
      // Only an entry that passed every other rule asks the broker for the instrument's details, and at
      // most once a minute per symbol: entries stay fast and broker rate limits (IG's) are spared; the
      // broker still refuses an order on a market that closed within that minute.
      let instrument: Instrument | null = null;
      const cached = state.instruments[spec.symbol];
      try {
        if (cached && Date.now() - cached.at < INSTRUMENT_MAX_AGE_MS) instrument = cached.instrument;
        else {
          instrument = await broker.bounded.getInstrument(spec.symbol);
          state.instruments[spec.symbol] = { instrument, at: Date.now() };
        }
      } catch (err) {
        verdict = { ok: false, rule: 'instrument-closed', detail: `instrument details of ${spec.symbol} unavailable: ${failureMessage(err)}`, numbers: { symbol: spec.symbol } };
      }
      if (instrument) verdict = checkIntent(intent, preTradeView(state, Date.now(), instrument), config.risk);
    }
    if (verdict.ok) return false;
    const refusal: RiskRefusal = {
      refusalId: `${account}-R${String(++state.refusalSeq).padStart(6, '0')}`,
      systemId,
      symbol: spec.symbol,
      side: spec.side,
      quantity: spec.quantity,
      intent: spec.intent,
      rule: verdict.rule,
      detail: verdict.detail,
      numbers: verdict.numbers,
      frameStart: frame?.start ?? null,
      at: Date.now(),
    };
    state.counters.ordersRefused++;
    state.lastRefusals.push(refusal);
    keepLast(state.lastRefusals, RISK_HISTORY_KEPT);
    outcome.refusals = [...(outcome.refusals ?? []), refusal];
    wf.log.warn('order intent refused by a risk check', { account, systemId, rule: verdict.rule, detail: verdict.detail, intent: spec.intent });
    return true;
  }

  function failureMessage(err: unknown): string {
    const cause = (err as { cause?: { message?: string } }).cause;
    return cause?.message ?? String(err);
  }

  /** Sends one intent: sequence number, intent recorded before sending, then the broker (or the dry run). */
  async function sendOrder(
    systemId: string,
    spec: Omit<OrderRequest, 'account' | 'clientOrderId' | 'type'>,
    frame: { start: number; close: number; timeframe: Frame['timeframe'] } | null,
    outcome: SessionOutcome,
  ): Promise<OrderReport | null> {
    const seq = ++state.orderSeq;
    const clientOrderId = clientOrderIdFor(account, seq);
    const request: OrderRequest = { account, clientOrderId, type: 'market', ...spec };
    const record: OrderRecord = {
      clientOrderId,
      seq,
      systemId,
      symbol: spec.symbol,
      side: spec.side,
      quantity: spec.quantity,
      intent: spec.intent,
      positionRef: spec.positionRef,
      stopLevel: spec.stopLevel,
      status: 'pending',
      frameStart: frame?.start,
    };
    await store.recordOrderIntent(account, record);
    if (riskEngine) noteOrderSent(state, Date.now());

    let report = config.tradingEnabled ? await placeAndSettle(request) : null;
    if (!config.tradingEnabled || report?.status === 'dry-run') {
      // Dry run (invariant 6): nothing was sent; the intent is filled in the session's books at the frame's close.
      const price = frame?.close ?? state.lastPrice[spec.symbol] ?? 0;
      report = {
        clientOrderId,
        brokerOrderId: '',
        status: 'dry-run',
        symbol: spec.symbol,
        side: spec.side,
        quantity: spec.quantity,
        filledQuantity: spec.quantity,
        fillPrice: price,
        filledAt: frame ? frame.start + timeframeMs(frame.timeframe) : lastFrameOf(systemId),
      };
    }
    if (!report) {
      state.counters.ordersUnknown++;
      const unknown = { ...record, status: 'unknown' as const, reason: 'outcome could not be settled with the broker' };
      state.unknownOrders.push(unknown);
      outcome.orders.push(unknown);
      return null;
    }
    outcome.orders.push({
      ...record,
      status: report.status,
      brokerOrderId: report.brokerOrderId || undefined,
      fillPrice: report.fillPrice,
      filledAt: report.filledAt,
      reason: report.reason,
    });
    const fill = fillOf(report);
    if (fill) outcome.fills.push(fill);
    if (report.status === 'rejected') {
      state.counters.ordersRejected++;
      wf.log.warn('order rejected', { account, systemId, clientOrderId, reason: report.reason ?? '' });
    } else {
      state.counters.ordersPlaced++;
      wf.log.info('order filled', { account, systemId, clientOrderId, side: spec.side, quantity: spec.quantity, price: report.fillPrice, intent: spec.intent });
    }
    return report;
  }

  function bookTrade(systemId: string, pos: Position, trade: Trade, outcome: SessionOutcome) {
    delete state.positions[systemId];
    state.systems[systemId].realisedPnl = round8(state.systems[systemId].realisedPnl + trade.pnl);
    state.recentTrades.push(trade);
    if (state.recentTrades.length > RECENT_TRADES_KEPT) state.recentTrades.splice(0, state.recentTrades.length - RECENT_TRADES_KEPT);
    outcome.trades.push(trade);
    wf.log.info('trade closed', { account, systemId, positionRef: pos.positionRef, pnl: trade.pnl, reason: trade.exitReason });
    if (riskEngine) protectAfterTrade(trade);
  }

  /** Protections after an exit: the stop-loss guard and the per-symbol cooldown after a loss (workflow timers lift them). */
  function protectAfterTrade(trade: Trade): void {
    const now = Date.now();
    const r = onTradeClosed(state.protection ?? initialProtectionState(state.startingBalance, now), { symbol: trade.symbol, pnl: trade.pnl, exitReason: trade.exitReason, closedAt: now }, config.protections);
    state.protection = r.state;
    for (const l of r.locks) {
      state.locks.push(l);
      wf.log.warn(`protection ${l.kind}: entries locked`, { account, symbol: l.symbol ?? '*', until: new Date(l.until).toISOString(), reason: l.reason });
    }
    if (r.locks.length) wakeTimers();
  }

  /** Protections after each frame's equity mark: a daily-loss or drawdown breach tightens the trading state, never loosens it. */
  function protectAfterEquity(equity: number): void {
    const now = Date.now();
    const r = onEquity(state.protection ?? initialProtectionState(state.startingBalance, now), equity, now, config.protections);
    state.protection = r.state;
    const breach = r.breach;
    if (!breach || severity[breach.action] <= severity[state.tradingState]) return;
    setTradingState(breach.action, `protection:${breach.protection}`, breach.detail, 'protection');
    if (breach.protection === 'daily-loss') {
      state.dailyLossLiftAt = nextUtcMidnight(now);
      wakeTimers();
    }
  }

  /** The order row of a position's protective stop leg (`<ref>-S`). */
  function stopLeg(pos: Position, status: OrderRecord['status'], frameStart: number | undefined, reason = 'protective stop'): OrderRecord {
    return {
      clientOrderId: stopOrderId(pos.positionRef),
      seq: null,
      systemId: pos.systemId,
      symbol: pos.symbol,
      side: pos.side === 'long' ? 'sell' : 'buy',
      quantity: pos.quantity,
      intent: 'close',
      positionRef: pos.positionRef,
      stopLevel: pos.stop,
      status,
      reason,
      frameStart,
    };
  }

  /**
   * The durable second step of an entry: entry filled → protective stop placed. A stop the broker refuses,
   * or that still fails after its retries, leaves the position unprotected, so it is closed at once.
   */
  async function protect(systemId: string, pos: Position, frame: Frame, entry: OrderReport, outcome: SessionOutcome): Promise<void> {
    if (!config.tradingEnabled || entry.status === 'dry-run') {
      // Dry run: the session's own books hold the stop (settleStop fills it from frames).
      outcome.orders.push(stopLeg(pos, 'working', frame.start));
      return;
    }
    let failure: string;
    try {
      const r = await broker.bounded.placeStop({ account, positionRef: pos.positionRef, symbol: pos.symbol, positionSide: pos.side, quantity: pos.quantity, stopLevel: pos.stop! });
      if (r.status === 'working') {
        outcome.orders.push(stopLeg(pos, 'working', frame.start));
        return;
      }
      if (r.status === 'filled' && (await settleStop(systemId, pos, pos.stop!, frame.start, outcome))) return;
      failure = r.reason ?? `stop ${r.status}`;
    } catch (err) {
      failure = failureMessage(err);
    }
    wf.log.error('protective stop could not be placed; closing the position', { account, systemId, positionRef: pos.positionRef, stop: pos.stop, reason: failure });
    outcome.orders.push(stopLeg(pos, 'rejected', frame.start, `protective stop not placed: ${failure}`));
    const unprotected: Position = { ...pos };
    delete unprotected.stop;
    state.positions[systemId] = unprotected;
    await closePosition(systemId, unprotected, 'stop-failed', frame.start, outcome, frame);
  }

  /** The broker's record of a triggered protective stop, booked as a trade; false if the stop has not filled. */
  async function settleStop(systemId: string, pos: Position, simulatedPrice: number, at: number, outcome: SessionOutcome): Promise<boolean> {
    const id = stopOrderId(pos.positionRef);
    // Dry run: the stop fills in the session's own books, recorded like any other fill.
    let report: OrderReport | null = {
      clientOrderId: id,
      brokerOrderId: '',
      status: 'dry-run',
      symbol: pos.symbol,
      side: pos.side === 'long' ? 'sell' : 'buy',
      quantity: pos.quantity,
      filledQuantity: pos.quantity,
      fillPrice: simulatedPrice,
      filledAt: at,
    };
    if (config.tradingEnabled) {
      report = await broker.reads.getOrder(account, id);
      if (!report || report.status !== 'filled') return false;
    }
    const price = report.fillPrice;
    const fill = fillOf(report);
    if (fill) outcome.fills.push(fill);
    outcome.orders.push({
      clientOrderId: id,
      seq: null,
      systemId,
      symbol: pos.symbol,
      side: report.side,
      quantity: report.quantity,
      intent: 'close',
      positionRef: pos.positionRef,
      stopLevel: pos.stop,
      status: report.status,
      brokerOrderId: report.brokerOrderId || undefined,
      fillPrice: report.fillPrice,
      filledAt: report.filledAt,
      reason: 'protective stop',
      frameStart: at,
    });
    bookTrade(systemId, pos, closeTrade(pos, { clientOrderId: id, price, at, reason: 'stop' }), outcome);
    return true;
  }

  async function closePosition(systemId: string, pos: Position, reason: ExitReason, at: number, outcome: SessionOutcome, frame?: Frame): Promise<Trade | null> {
    const spec = { symbol: pos.symbol, side: pos.side === 'long' ? ('sell' as const) : ('buy' as const), quantity: pos.quantity, intent: 'close' as const, positionRef: pos.positionRef };
    // No await at all without the risk engine: an extra microtask would reorder commands of recorded histories.
    if (riskEngine && (await refusedByRisk(systemId, spec, frame ?? null, outcome))) return null;
    const report = await sendOrder(systemId, spec, frame ?? null, outcome);
    if (report && (report.status === 'filled' || report.status === 'dry-run')) {
      const trade = closeTrade(pos, { clientOrderId: report.clientOrderId, price: report.fillPrice, at, reason });
      bookTrade(systemId, pos, trade, outcome);
      // The other leg of the bracket: closing the position ends its protective stop at the broker.
      if (riskEngine && pos.stop !== undefined) outcome.orders.push(stopLeg(pos, 'cancelled', frame?.start, `protective stop cancelled: position closed (${reason})`));
      return trade;
    }
    // The broker may have closed it already through the protective stop.
    if (report?.status === 'rejected' && pos.stop !== undefined && (await settleStop(systemId, pos, pos.stop, at, outcome))) {
      return outcome.trades[outcome.trades.length - 1];
    }
    wf.log.error('position could not be closed', { account, systemId, positionRef: pos.positionRef, reason: report?.reason ?? 'unknown outcome' });
    return null;
  }

  async function openPosition(systemId: string, decision: Decision, frame: Frame, outcome: SessionOutcome): Promise<void> {
    const side: OrderRequest['side'] = decision.action === 'buy' ? 'buy' : 'sell';
    // Runs older than the risk engine attach the stop to the entry; newer ones place it as a step of its own.
    const attachStop = !riskEngine && decision.stop !== undefined;
    const spec = { symbol: frame.symbol, side, quantity: decision.quantity, intent: 'open' as const, ...(attachStop ? { stopLevel: decision.stop } : {}) };
    if (riskEngine && (await refusedByRisk(systemId, spec, frame, outcome))) return;
    const report = await sendOrder(systemId, spec, frame, outcome);
    if (!report || (report.status !== 'filled' && report.status !== 'dry-run')) return;
    const posSide = side === 'buy' ? 'long' : 'short';
    const pos: Position = {
      positionRef: report.clientOrderId,
      systemId,
      symbol: frame.symbol,
      side: posSide,
      quantity: report.filledQuantity,
      entryPrice: report.fillPrice,
      ...(decision.stop !== undefined ? { stop: decision.stop } : {}),
      ...(riskEngine && decision.takeProfit !== undefined ? { takeProfit: decision.takeProfit } : {}),
      ...(riskEngine && decision.trailingStop !== undefined
        ? { trailing: { distance: decision.trailingStop, level: initialTrailLevel(posSide, report.fillPrice, decision.trailingStop) } }
        : {}),
      openedAt: frame.start,
    };
    state.positions[systemId] = pos;
    outcome.openedPositions.push(pos);
    if (riskEngine && pos.stop !== undefined) await protect(systemId, pos, frame, report, outcome);
  }

  // ---- working orders: limit and stop entries, emulated from frames ----

  function recordWorking(wo: WorkingOrder, status: WorkingOrderRecord['status'], outcome: SessionOutcome, clientOrderId?: string) {
    outcome.workingOrders = [...(outcome.workingOrders ?? []), { ...wo, status, ...(clientOrderId ? { clientOrderId } : {}) }];
  }

  function endWorking(systemId: string, status: 'expired' | 'cancelled', outcome: SessionOutcome, why: string): void {
    const wo = state.workingOrders[systemId];
    if (!wo) return;
    delete state.workingOrders[systemId];
    delete state.workingDeadlines[wo.ref];
    recordWorking(wo, status, outcome);
    wf.log.info(`working order ${status}`, { account, systemId, ref: wo.ref, type: wo.type, price: wo.price, why });
  }

  function placeWorking(systemId: string, d: Decision, entry: { type: 'limit' | 'stop'; price: number; expiresAfterMs?: number }, frame: Frame, outcome: SessionOutcome): void {
    endWorking(systemId, 'cancelled', outcome, 'replaced by a new entry order');
    const wo = workingOrderFor(workingOrderRef(account, ++state.workingSeq), systemId, d, entry, frame);
    if (entry.expiresAfterMs !== undefined) {
      // The backstop counts in workflow time from now (frames may be historical), with one timeframe of grace
      // for the last frame to arrive: on live frames the frames expire it first, as in the backtester.
      state.workingDeadlines[wo.ref] = Date.now() + entry.expiresAfterMs + 2 * timeframeMs(frame.timeframe);
    }
    state.workingOrders[systemId] = wo;
    recordWorking(wo, 'working', outcome);
    wf.log.info('working order placed', { account, systemId, ref: wo.ref, type: wo.type, side: wo.side, price: wo.price });
    wakeTimers();
  }

  /** A working order on this frame: expired ones are dropped, triggered ones enter at market. */
  async function workOrder(systemId: string, frame: Frame, outcome: SessionOutcome): Promise<void> {
    const wo = state.workingOrders[systemId];
    if (!wo || state.positions[systemId]) return;
    if (workingOrderExpired(wo, frame.start + timeframeMs(frame.timeframe))) {
      endWorking(systemId, 'expired', outcome, 'expired before this frame');
      return;
    }
    if (!workingOrderTriggered(wo, frame)) return;
    delete state.workingOrders[systemId];
    delete state.workingDeadlines[wo.ref];
    if (state.status === 'paused') {
      state.counters.entriesSkippedWhilePaused++;
      recordWorking(wo, 'cancelled', outcome);
      wf.log.info('triggered entry skipped: session paused', { account, systemId, ref: wo.ref });
      return;
    }
    const decision: Decision = {
      action: wo.side,
      quantity: wo.quantity,
      ...(wo.stop !== undefined ? { stop: wo.stop } : {}),
      ...(wo.takeProfit !== undefined ? { takeProfit: wo.takeProfit } : {}),
      ...(wo.trailingStop !== undefined ? { trailingStop: wo.trailingStop } : {}),
    };
    await openPosition(systemId, decision, frame, outcome);
    // Read again: openPosition changed the positions (TS keeps the narrowing from before the await).
    const opened = (state.positions as Record<string, Position | undefined>)[systemId];
    recordWorking(wo, 'triggered', outcome, opened?.positionRef);
  }

  /** Emulated exits (take-profit, trailing stop) on frames after the entry's; the trailing level moves after the check. */
  async function emulatedExits(systemId: string, frame: Frame, outcome: SessionOutcome): Promise<void> {
    const pos = state.positions[systemId];
    if (!pos || frame.start <= pos.openedAt) return;
    const exit = emulatedExitHit(pos, frame);
    if (exit) {
      await closePosition(systemId, pos, exit.kind, frame.start, outcome, frame);
      return;
    }
    const level = trailAfter(pos, frame);
    if (pos.trailing && level !== undefined) state.positions[systemId] = { ...pos, trailing: { ...pos.trailing, level } };
  }


  async function act(systemId: string, decision: Decision, frame: Frame, outcome: SessionOutcome): Promise<void> {
    const pos = state.positions[systemId];
    if (decision.action === 'none') return;
    if (decision.action === 'close') {
      if (riskEngine) endWorking(systemId, 'cancelled', outcome, 'the system closed');
      if (pos) await closePosition(systemId, pos, 'signal', frame.start, outcome, frame);
      return;
    }
    const wantSide = decision.action === 'buy' ? 'long' : 'short';
    if (pos?.side === wantSide) return;
    if (pos && !(await closePosition(systemId, pos, 'reverse', frame.start, outcome, frame))) return;
    if (state.status === 'paused') {
      // Paused: exits and stops work, new entries do not.
      state.counters.entriesSkippedWhilePaused++;
      wf.log.info('entry skipped: session paused', { account, systemId, action: decision.action });
      return;
    }
    const entry = riskEngine ? decision.entry : undefined;
    if (entry && entry.type !== 'market') {
      placeWorking(systemId, decision, entry, frame, outcome);
      return;
    }
    await openPosition(systemId, decision, frame, outcome);
  }

  // ---- frame processing ----

  async function handleFrame(frame: Frame, backfilled: boolean): Promise<void> {
    const key = streamKey(frame.symbol, frame.timeframe);
    state.lastPrice[frame.symbol] = frame.close;
    const outcome = emptyOutcome();
    for (const { cfg, impl } of systems.values()) {
      if (streamKey(cfg.symbol, cfg.timeframe) !== key) continue;
      const rt = state.systems[cfg.id];
      const pos = state.positions[cfg.id];
      if (pos) {
        const hit = stopTouched(pos, frame);
        if (hit.touched) await settleStop(cfg.id, pos, hit.price, frame.start, outcome);
      }
      if (riskEngine) {
        await emulatedExits(cfg.id, frame, outcome);
        await workOrder(cfg.id, frame, outcome);
      }
      let decision: Decision = NO_DECISION;
      try {
        const current = state.positions[cfg.id];
        const out = impl.decide({
          frame,
          portfolio: {
            position: current ? { side: current.side, quantity: current.quantity, entryPrice: current.entryPrice, stop: current.stop } : null,
            realisedPnl: rt.realisedPnl,
          },
          params: rt.params,
          state: rt.state,
        });
        rt.state = out.state;
        decision = out.decision;
        const bad = decisionProblem(decision);
        if (bad) {
          wf.log.error('system returned an invalid decision; ignored', { account, systemId: cfg.id, reason: bad });
          decision = NO_DECISION;
        }
      } catch (err) {
        // An error in strategy code is logged and skipped: it must not stop the session.
        wf.log.error('system failed on frame; no decision', { account, systemId: cfg.id, start: frame.start, error: String(err) });
      }
      await act(cfg.id, decision, frame, outcome);
    }
    for (const { cfg } of systems.values()) {
      if (streamKey(cfg.symbol, cfg.timeframe) === key) outcome.systemStates.push({ ...snapshotOf(cfg.id), frameStart: frame.start });
    }
    const pnl = pnlOf(state);
    outcome.equity = {
      ts: frame.start + timeframeMs(frame.timeframe),
      balance: round8(state.startingBalance + pnl.realised),
      realisedPnl: round8(pnl.realised),
      unrealisedPnl: round8(pnl.unrealised),
      equity: round8(state.startingBalance + pnl.total),
    };
    if (riskEngine) protectAfterEquity(outcome.equity.equity);
    await recordOutcome(outcome);
    // Only now is the frame done: `lastFrames` (what status shows and feeders wait on) means processed and stored.
    state.lastFrames[key] = frame.start;
    state.counters.framesProcessed++;
    if (backfilled) state.counters.framesBackfilled++;
  }

  /** Processes one queued frame: skips one already processed, backfills a gap before it (invariant 2). */
  async function processFrame(frame: Frame): Promise<void> {
    const key = streamKey(frame.symbol, frame.timeframe);
    const tf = timeframeMs(frame.timeframe);
    const last = state.lastFrames[key];
    if (last !== undefined && frame.start <= last) {
      state.counters.framesDuplicate++;
      return;
    }
    if (last !== undefined && frame.start > last + tf) {
      const expected = (frame.start - last) / tf - 1;
      const found = await store.loadFrames({ symbol: frame.symbol, timeframe: frame.timeframe, fromStart: last + tf, toStart: frame.start - tf });
      for (const f of found) if (f.start > (state.lastFrames[key] ?? -1)) await handleFrame(f, true);
      if (found.length < expected) {
        state.counters.framesMissing += expected - found.length;
        wf.log.warn('gap in frames not fully backfilled', { account, stream: key, expected, found: found.length });
      }
    }
    await handleFrame(frame, false);
  }

  // ---- reconciliation (invariant 3) ----

  /**
   * Compares the broker's positions with the session's and adopts the broker's: settles unknown orders,
   * books positions the broker closed (by their stop when it says so), adopts positions this session's
   * orders opened, and lists foreign ones. Every difference is logged at error level.
   */
  async function reconcile(reason: string): Promise<ReconciliationReport> {
    const outcome = emptyOutcome();
    const closeFills = new Map<string, OrderReport>();
    const stillUnknown: typeof state.unknownOrders = [];
    let settled = 0;
    for (const u of state.unknownOrders) {
      const report = await broker.reads.getOrder(account, u.clientOrderId);
      if (!report || report.status === 'pending') {
        stillUnknown.push(u);
        continue;
      }
      settled++;
      outcome.orders.push({ ...u, status: report.status, brokerOrderId: report.brokerOrderId || undefined, fillPrice: report.fillPrice, filledAt: report.filledAt, reason: report.reason ?? 'settled by reconciliation' });
      const fill = fillOf(report);
      if (fill) outcome.fills.push(fill);
      if (u.intent === 'close' && u.positionRef && report.status === 'filled') closeFills.set(u.positionRef, report);
    }
    const atBroker = await broker.reads.getPositions(account);
    const drifts = diffPositions(account, state.positions, atBroker, state.unknownOrders);
    const at = Date.now();
    const foreign: BrokerPosition[] = [];
    for (const d of drifts) {
      wf.log.error(`reconciliation: ${d.kind}`, { account, positionRef: d.positionRef, systemId: d.systemId ?? '', detail: d.detail, reason });
      if (d.kind === 'closed-at-broker' && d.session && d.systemId) {
        const pos = d.session;
        let exit = closeFills.get(pos.positionRef);
        let exitReason: ExitReason = 'signal';
        if (!exit && pos.stop !== undefined) {
          const stop = await broker.reads.getOrder(account, stopOrderId(pos.positionRef));
          if (stop?.status === 'filled') {
            exit = stop;
            exitReason = 'stop';
            outcome.orders.push({ clientOrderId: stop.clientOrderId, seq: null, systemId: d.systemId, symbol: pos.symbol, side: stop.side, quantity: stop.quantity, intent: 'close', positionRef: pos.positionRef, stopLevel: pos.stop, status: 'filled', brokerOrderId: stop.brokerOrderId, fillPrice: stop.fillPrice, filledAt: stop.filledAt, reason: 'protective stop' });
            const fill = fillOf(stop);
            if (fill) outcome.fills.push(fill);
          }
        }
        const price = exit?.fillPrice ?? state.lastPrice[pos.symbol] ?? pos.entryPrice;
        bookTrade(d.systemId, pos, closeTrade(pos, { clientOrderId: exit?.clientOrderId ?? `${pos.positionRef}-R`, price, at: lastFrameOf(d.systemId), reason: exit ? exitReason : 'reconciled' }), outcome);
      } else if (d.kind === 'changed-at-broker' && d.broker && d.systemId) {
        const adopted: Position = { ...state.positions[d.systemId], side: d.broker.side, quantity: d.broker.quantity, entryPrice: d.broker.entryPrice };
        if (d.broker.stopLevel !== undefined) adopted.stop = d.broker.stopLevel;
        else delete adopted.stop;
        state.positions[d.systemId] = adopted;
        outcome.openedPositions.push(adopted);
      } else if (d.kind === 'opened-at-broker' && d.broker && d.systemId && !state.positions[d.systemId]) {
        const b = d.broker;
        const adopted: Position = { positionRef: b.positionRef, systemId: d.systemId, symbol: b.symbol, side: b.side, quantity: b.quantity, entryPrice: b.entryPrice, ...(b.stopLevel !== undefined ? { stop: b.stopLevel } : {}), openedAt: lastFrameOf(d.systemId) };
        state.positions[d.systemId] = adopted;
        outcome.openedPositions.push(adopted);
      } else if (d.broker) {
        foreign.push(d.broker);
      }
    }
    // Orders whose outcome the broker still cannot tell stay unknown for the next check.
    state.unknownOrders = stillUnknown;
    state.foreignPositions = foreign;
    state.counters.reconciliationDrifts += drifts.length;
    const report: ReconciliationReport = { at, reason, drifts, settled, stillUnknown: stillUnknown.length };
    state.lastReconciliation = report;
    if (!drifts.length) wf.log.info('reconciliation: session and broker agree', { account, reason, positions: atBroker.length });
    await recordOutcome(outcome);
    return report;
  }

  // ---- timers (issue 6): lock expiry, the daily-loss lift, order expiry, flatten at session close ----
  // Deadlines live in state and this loop waits on workflow timers, so a crash or a continue-as-new
  // neither resets nor loses them.

  let timersChanged = false;
  let stopping = false;
  function wakeTimers(): void {
    timersChanged = true;
  }

  function nextDeadline(): number | null {
    const times: number[] = state.locks.map((l) => l.until);
    if (state.dailyLossLiftAt !== null) times.push(state.dailyLossLiftAt);
    if (state.nextFlattenAt !== null) times.push(state.nextFlattenAt);
    times.push(...Object.values(state.workingDeadlines));
    return times.length ? Math.min(...times) : null;
  }

  async function fireDueTimers(): Promise<void> {
    const now = Date.now();
    const outcome = emptyOutcome();
    for (const l of state.locks.filter((x) => x.until <= now)) wf.log.info(`protection ${l.kind} lifted`, { account, symbol: l.symbol ?? '*', reason: l.reason });
    state.locks = state.locks.filter((l) => l.until > now);
    if (state.dailyLossLiftAt !== null && now >= state.dailyLossLiftAt) {
      state.dailyLossLiftAt = null;
      // Only a state this protection set is lifted; a person's halt or a drawdown breach stays.
      if (state.tradingStateBy === 'protection:daily-loss') setTradingState('active', 'protection:daily-loss', 'new UTC day: the daily loss limit starts afresh', 'protection');
    }
    // Working orders expire on frames (parity with the backtester); this backstop ends one when no frame comes.
    for (const wo of Object.values(state.workingOrders)) {
      const at = state.workingDeadlines[wo.ref];
      if (at !== undefined && now >= at) endWorking(wo.systemId, 'expired', outcome, 'expired (no frame came in time)');
    }
    for (const [ref, at] of Object.entries(state.workingDeadlines)) if (now >= at) delete state.workingDeadlines[ref];
    if (state.nextFlattenAt !== null && now >= state.nextFlattenAt) {
      state.nextFlattenAt = config.schedule.flattenAt ? nextCleanTime(now, config.schedule.flattenAt) : null;
      await flattenAtSessionClose(now, outcome);
    }
    await recordOutcome(outcome);
  }

  /** The trading day's end: every working order cancelled, every position closed, entries locked until reopenAt. */
  async function flattenAtSessionClose(now: number, outcome: SessionOutcome): Promise<void> {
    wf.log.info('session close: flattening the account', { account, flattenAt: config.schedule.flattenAt ?? '', positions: Object.keys(state.positions).length });
    for (const id of Object.keys(state.workingOrders)) endWorking(id, 'cancelled', outcome, 'session close');
    for (const [systemId, pos] of Object.entries(state.positions)) await closePosition(systemId, pos, 'session-close', lastFrameOf(systemId), outcome);
    const reopenAt = config.schedule.reopenAt;
    if (reopenAt) {
      state.locks.push({ id: `session-closed:*:${now}`, kind: 'session-closed', since: now, until: nextCleanTime(now, reopenAt), reason: `entries closed from ${config.schedule.flattenAt} to ${reopenAt} UTC` });
    }
  }

  async function runTimers(): Promise<void> {
    while (!stopping) {
      timersChanged = false;
      const next = nextDeadline();
      const wait = next === null ? undefined : next - Date.now();
      if (wait === undefined) {
        await wf.condition(() => timersChanged || stopping);
        continue;
      }
      // true: a deadline was added or the run is ending; false: the timer fired.
      if (wait > 0 && (await wf.condition(() => timersChanged || stopping, wait))) continue;
      await lock.runExclusive(fireDueTimers);
    }
  }

  // ---- lifecycle ----

  wf.upsertSearchAttributes([
    { key: SA_ACCOUNT, value: account },
    { key: SA_BROKER, value: config.broker },
    { key: SA_STATUS, value: state.status },
    ...(riskEngine ? [{ key: SA_TRADING_STATE, value: state.tradingState }] : []),
  ]);

  if (!input.carried) {
    const checkpoint = await store.prepareAccount(account);
    // A fresh session never reuses an order id of an earlier one (invariant 1).
    state.orderSeq = Math.max(state.orderSeq, checkpoint.maxOrderSeq);
    if (checkpoint.openPositions > 0) {
      wf.log.warn('fresh session starts while the store lists open positions; reconciliation adopts the broker state', {
        account,
        openPositions: checkpoint.openPositions,
      });
    }
    if (config.tradingEnabled) state.startingBalance = (await broker.reads.getAccount(account)).balance;
    wf.log.info('session started', { account, broker: config.broker, tradingEnabled: config.tradingEnabled, systems: config.systems.length });
  } else {
    // A run carried from code older than the account's latest migrations migrates its schema first.
    if (riskEngine) await store.prepareAccount(account);
    wf.log.info('session continued', { account, run: state.runs, queuedFrames: queue.length });
  }
  // On every start and after every continue-as-new, the broker's view is adopted before any decision.
  if (config.tradingEnabled && wf.patched('reconcile-on-start')) {
    await lock.runExclusive(() => reconcile(input.carried ? 'continue-as-new' : 'session start'));
  }

  let timers: Promise<void> | null = null;
  if (riskEngine) {
    state.protection ??= initialProtectionState(state.startingBalance, Date.now());
    const flattenAt = config.schedule.flattenAt;
    state.nextFlattenAt = flattenAt ? (state.nextFlattenAt ?? nextCleanTime(Date.now(), flattenAt)) : null;
    timers = runTimers();
  }

  const cleanAt = nextCleanTime(Date.now(), config.dailyCleanTime);
  const rolloverDue = () => wf.workflowInfo().continueAsNewSuggested || Date.now() >= cleanAt;
  for (;;) {
    const waitMs = Math.max(cleanAt - Date.now(), 1);
    await wf.condition(() => queue.length > 0 || wf.workflowInfo().continueAsNewSuggested, waitMs);
    if (rolloverDue()) break;
    while (queue.length > 0 && !wf.workflowInfo().continueAsNewSuggested) {
      const frame = queue.shift()!;
      await lock.runExclusive(() => processFrame(frame));
    }
  }

  // Invariant 4: let in-flight updates and timer work finish, then carry everything forward.
  if (timers) {
    await lock.runExclusive(() => {
      stopping = true;
    });
    await timers;
  }
  await wf.condition(wf.allHandlersFinished);
  wf.log.info('continuing as new', { account, reason: wf.workflowInfo().continueAsNewSuggested ? 'history size' : 'daily clean time' });
  const carried: SessionState = { ...state, pendingFrames: queue.splice(0) };
  await wf.continueAsNew<typeof accountSession>({ config, carried });
}
