/**
 * The account session as an entity: config, systems and durable state, and every step a session takes
 * (a frame, a command, a reconciliation, its timers). The workflow (workflows/account-session.ts) and
 * the backtester (backtest/engine.ts) both drive this one object; neither holds trading logic.
 */
import type { AccountCheckpoint } from '../db/account-store';
import type { AccountSnapshot } from '../brokers/adapter';
import type { SessionConfig } from '../config/session-config';
import type { Frame } from '../market/frame';
import { streamKey } from '../market/frame';
import { initialProtectionState } from '../risk/protections';
import { getSystem } from '../systems/registry';
import type { PortfolioView, TradingSystem } from '../systems/types';
import type { EngineContext, EngineFeatures, EnginePorts, SystemSlot } from './context';
import * as commands from './commands';
import type { Step } from './effects';
import { EngineRefusal, zodIssues } from './errors';
import { processFramePaged } from './backfill';
import { handleFrame } from './frame-step';
import { degrade } from './degraded';
import { failureMessage, needsPerson } from './failures';
import { knownInstrument } from './instrument-money';
import { DEFAULT_RISK_LIMITS_PATCH, fixLimits } from './limits';
import { reconcileOrStayDegraded } from './reconcile';
import { initialSessionState, nextCleanTime, normaliseRiskState, type SessionState } from './session-state';
import { fireDueTimers, nextDeadline } from './timers';
import * as views from './views';

export interface SessionEngineInit {
  config: SessionConfig;
  /** State carried from the previous run; absent on a fresh start. */
  carried?: SessionState;
  features: EngineFeatures;
  ports: EnginePorts;
  /** The systems by name; the registry when absent (a backtest may pass a system object). */
  resolveSystem?: (name: string) => TradingSystem;
  /** Default true (live); a backtest sets false (see EngineContext.recordEveryFrame). */
  recordEveryFrame?: boolean;
}

export class SessionEngine {
  readonly ctx: EngineContext;
  /** The streams (`symbol|timeframe`) some system of this session trades. */
  readonly streams: Set<string>;

  constructor({ config, carried, features, ports, resolveSystem = getSystem, recordEveryFrame = true }: SessionEngineInit) {
    const systems = new Map<string, SystemSlot>();
    for (const cfg of config.systems) {
      let impl: TradingSystem;
      try {
        impl = resolveSystem(cfg.system);
      } catch (err) {
        throw new EngineRefusal('InvalidSessionConfig', `systems.${cfg.id}.system: ${(err as Error).message}`);
      }
      const view: PortfolioView = Object.freeze({ position: null, realisedPnl: 0 });
      systems.set(cfg.id, {
        cfg,
        impl,
        stream: streamKey(cfg.symbol, cfg.timeframe),
        input: { frame: undefined as unknown as Frame, portfolio: view, params: undefined, state: {} },
        view,
        viewOf: { position: undefined, realisedPnl: 0 },
      });
    }
    const state = carried ?? initialSessionState();
    state.runs += 1;
    // State carried from runs older than reconciliation lacks these fields.
    state.foreignPositions ??= [];
    state.lastReconciliation ??= null;
    state.counters.reconciliationDrifts ??= 0;
    state.unknownOrders = (state.unknownOrders ?? []).filter((u) => typeof u === 'object');
    normaliseRiskState(state);
    // Systems added to the config since the last run start fresh; parameters are validated by each system's schema.
    for (const { cfg, impl } of systems.values()) {
      if (state.systems[cfg.id]) continue;
      const params = impl.paramsSchema.safeParse(cfg.params);
      if (!params.success) throw new EngineRefusal('InvalidSystemParamsError', `invalid params of system ${cfg.id}: ${zodIssues(params.error)}`);
      state.systems[cfg.id] = { params: params.data as Record<string, unknown>, state: impl.initialState(params.data), realisedPnl: 0 };
    }
    this.ctx = { account: config.account, config, systems, slots: [...systems.values()], state, features, ports, unrecordedControl: [], recordEveryFrame, lastEquity: state.startingBalance };
    this.streams = new Set(config.systems.map((s) => streamKey(s.symbol, s.timeframe)));
  }

  get state(): SessionState {
    return this.ctx.state;
  }

  /** A fresh start: never reuse an order id of an earlier session (invariant 1); the balance from the broker. */
  *startFresh(): Step<void> {
    const { state, config, ports, account } = this.ctx;
    const checkpoint = (yield { kind: 'prepareAccount' }) as AccountCheckpoint;
    state.orderSeq = Math.max(state.orderSeq, checkpoint.maxOrderSeq);
    // Issue 11: a session started again (after a stop, a terminate) takes back the positions its systems
    // opened, with their stops; reconciliation on start then checks each against the broker.
    const ours = (checkpoint.positions ?? []).filter((p) => this.ctx.systems.get(p.systemId)?.cfg.symbol === p.symbol);
    if (ours.length > 0 && ports.patched('adopt-stored-positions')) {
      for (const p of ours) {
        if (state.positions[p.systemId]) {
          ports.log('error', 'two open positions stored for one system; the later one is left to reconciliation', { account, systemId: p.systemId, positionRef: p.positionRef });
          continue;
        }
        state.positions[p.systemId] = p;
      }
      ports.log('info', 'fresh session adopts the open positions its systems hold in the store', { account, positions: ours.map((p) => p.positionRef).join(',') });
    } else if (checkpoint.openPositions > 0) {
      ports.log('warn', 'fresh session starts while the store lists open positions; reconciliation adopts the broker state', { account, openPositions: checkpoint.openPositions });
    }
    if (config.tradingEnabled) {
      try {
        const snapshot = (yield { kind: 'getAccount' }) as AccountSnapshot;
        state.startingBalance = snapshot.balance;
        if (this.ctx.features.riskEngine && ports.patched(DEFAULT_RISK_LIMITS_PATCH)) fixLimits(this.ctx, snapshot.balance, snapshot.currency);
      } catch (err) {
        if (!needsPerson(err)) throw err;
        degrade(this.ctx, `account balance: ${failureMessage(err)}`);
      }
    }
    if (this.ctx.features.accountCurrency && config.tradingEnabled) yield* this.moneyOfAdopted();
    ports.log('info', 'session started', { account, broker: config.broker, tradingEnabled: config.tradingEnabled, systems: config.systems.length });
  }

  /** Adopted positions book in account currency: their instruments' money facts, read once per symbol. */
  private *moneyOfAdopted(): Step<void> {
    const symbols = [...new Set(Object.values(this.ctx.state.positions).map((p) => p.symbol))];
    for (const symbol of symbols) {
      try {
        yield* knownInstrument(this.ctx, symbol);
      } catch (err) {
        // The next instrument read (an entry's risk check) gives them; until then their P&L is in price units.
        this.ctx.ports.log('warn', 'instrument details unavailable: adopted positions book in price units until they are read', { account: this.ctx.account, symbol, reason: failureMessage(err) });
      }
    }
  }

  /** A run carried from code older than the account's latest migrations migrates its schema first. */
  *startContinued(queued: number): Step<void> {
    if (this.ctx.features.riskEngine) yield { kind: 'prepareAccount' };
    this.ctx.ports.log('info', 'session continued', { account: this.ctx.account, run: this.ctx.state.runs, queuedFrames: queued });
  }

  /** Arms the protections and the schedule's flatten time (deadlines then live in state). */
  armTimers(): void {
    const { state, config, ports } = this.ctx;
    state.protection ??= initialProtectionState(state.startingBalance, ports.now());
    const flattenAt = config.schedule.flattenAt;
    state.nextFlattenAt = flattenAt ? (state.nextFlattenAt ?? nextCleanTime(ports.now(), flattenAt)) : null;
  }

  /**
   * A frame from the queue: a duplicate is skipped, a gap before it backfilled from the store, one page
   * per call. true: a page was done and the frame must be handed in again (put back at the queue's head).
   */
  frame(frame: Frame): Step<boolean> {
    return processFramePaged(this.ctx, frame);
  }

  /** A frame known to be the next of its stream (a backtest checks the order itself). */
  closedFrame(frame: Frame): Step<void> {
    return handleFrame(this.ctx, frame, false);
  }

  reconcile(reason: string): Step<import('./reconciliation').ReconciliationReport> {
    return reconcileOrStayDegraded(this.ctx, reason);
  }

  nextDeadline(): number | null {
    return nextDeadline(this.ctx);
  }

  fireDueTimers(): Step<void> {
    return fireDueTimers(this.ctx);
  }

  // ---- commands: a check (throws EngineRefusal) and a step ----

  pause(cmd?: commands.CommandBy): void {
    commands.setStatus(this.ctx, 'paused', cmd);
  }
  resume(cmd?: commands.CommandBy): void {
    commands.setStatus(this.ctx, 'running', cmd);
  }
  checkClosePosition(systemId: string): void {
    commands.checkClosePosition(this.ctx, systemId);
  }
  closePosition(systemId: string, by?: string) {
    return commands.closePositionCommand(this.ctx, systemId, by);
  }
  checkCloseAll(): void {
    commands.refuseWhenHalted(this.ctx);
  }
  closeAll(by?: string) {
    return commands.closeAllCommand(this.ctx, by);
  }
  checkSetParams(systemId: string, params: unknown): void {
    commands.checkSetParams(this.ctx, systemId, params);
  }
  setParams(systemId: string, params: unknown, by?: string) {
    return commands.setParamsCommand(this.ctx, systemId, params, by);
  }
  checkTradingState(cmd: unknown): void {
    commands.checkTradingState(this.ctx, cmd);
  }
  setTradingState(cmd: unknown) {
    return commands.setTradingStateCommand(this.ctx, cmd);
  }
  checkReconcile(): void {
    if (!this.ctx.config.tradingEnabled) throw new EngineRefusal('InvalidCommand', 'a dry-run session has no broker state to reconcile');
  }

  // ---- views (queries) ----

  status(queuedFrames: number) {
    return views.statusView(this.ctx, queuedFrames);
  }
  positions() {
    return Object.values(this.ctx.state.positions);
  }
  risk() {
    return views.riskView(this.ctx);
  }
  pnl() {
    return views.pnlView(this.ctx);
  }
  trades() {
    return [...this.ctx.state.recentTrades];
  }
  systemViews() {
    return views.systemViews(this.ctx);
  }
}
