/**
 * The AccountSession's durable state: everything carried across continue-as-new (invariant 4).
 * Plain JSON only, and pure helpers over it, so the workflow stays deterministic.
 */
import type { Frame } from '../market/frame';
import type { Position } from '../trading/position';
import { unrealisedPnl } from '../trading/position';
import type { Trade } from '../trading/trade';
import type { SystemState } from '../systems/types';
import type { PnlView, SessionCounters, SessionStatus } from '../workflows/definitions';
import type { ReconciliationReport, UnsettledOrder } from './reconciliation';
import type { BrokerPosition, Instrument } from '../brokers/adapter';
import type { TradingState, TradingStateChange } from '../risk/trading-state';
import type { ProtectionLock } from '../risk/locks';
import type { ProtectionState } from '../risk/protections';
import type { WorkingOrder } from '../trading/working-order';
import type { RiskRefusal } from '../risk/refusal';
import type { RiskLimits } from '../risk/limits';
import type { Degradation } from './degraded';
import type { TrackedOrder } from './order-tracking';

export interface SystemRuntime {
  params: Record<string, unknown>;
  state: SystemState;
  realisedPnl: number;
}

export interface SessionState {
  status: SessionStatus;
  /** Last order sequence used; the next intent gets orderSeq + 1 (invariant 1). */
  orderSeq: number;
  lastFrames: Record<string, number>;
  /** Open positions by system id: each system owns at most one position on its stream. */
  positions: Record<string, Position>;
  systems: Record<string, SystemRuntime>;
  lastPrice: Record<string, number>;
  startingBalance: number;
  counters: SessionCounters;
  lastRejection: string | null;
  /** Frames accepted but not yet processed when the run ended. */
  pendingFrames: Frame[];
  recentTrades: Trade[];
  /** Orders whose outcome could not be settled: handed to reconciliation. */
  unknownOrders: UnsettledOrder[];
  /** Positions at the broker that no system of this session owns (shown, never traded). */
  foreignPositions: BrokerPosition[];
  lastReconciliation: ReconciliationReport | null;
  runs: number;
  // ---- risk engine (issue 6); absent in state carried from older runs, filled by normaliseRiskState ----
  tradingState: TradingState;
  /** Last trading-state changes, newest last (at most RISK_HISTORY_KEPT). */
  tradingStateHistory: TradingStateChange[];
  /** Who set the current trading state: a protection lifts only a state it set itself. */
  tradingStateBy: string;
  controlSeq: number;
  refusalSeq: number;
  lastRefusals: RiskRefusal[];
  /** Workflow times of orders sent in the last minute (the max-orders-per-minute rule). */
  recentOrderTimes: number[];
  locks: ProtectionLock[];
  protection: ProtectionState | null;
  /** When a daily-loss state is lifted (next UTC midnight after the breach); null when none is pending. */
  dailyLossLiftAt: number | null;
  /** Next flatten-at-session-close instant; null when the schedule has none. */
  nextFlattenAt: number | null;
  /** Emulated limit/stop entries waiting for a frame, by system id (at most one per system). */
  workingOrders: Record<string, WorkingOrder>;
  /** Workflow-time backstop expiry of each working order with an expiry, by ref. */
  workingDeadlines: Record<string, number>;
  workingSeq: number;
  /** The broker's instrument details by symbol, with the workflow time they were read. */
  instruments: Record<string, { instrument: Instrument; at: number }>;
  // ---- order lifecycle (issue 11); absent in state carried from older runs ----
  /** Orders not final yet (working, partially filled, unknown), by system id: at most one per system. */
  trackedOrders: Record<string, TrackedOrder>;
  /** Set while a broker read needs a person (engine/degraded.ts). */
  degraded: Degradation | null;
  /** Per stream, where the last backfill page ended while more pages remain (engine/backfill.ts). */
  backfilledTo: Record<string, number>;
  /** The limits in force, defaults included, fixed at a fresh start (engine/limits.ts); null: the configured ones. */
  riskLimits: RiskLimits | null;
}

export const RISK_HISTORY_KEPT = 50;

/** Fills the risk-engine fields of a state carried from a run older than the risk engine. */
export function normaliseRiskState(s: SessionState): SessionState {
  s.tradingState ??= 'active';
  s.tradingStateHistory ??= [];
  s.tradingStateBy ??= '';
  s.controlSeq ??= 0;
  s.refusalSeq ??= 0;
  s.lastRefusals ??= [];
  s.recentOrderTimes ??= [];
  s.locks ??= [];
  s.protection ??= null;
  s.dailyLossLiftAt ??= null;
  s.nextFlattenAt ??= null;
  s.workingOrders ??= {};
  s.workingDeadlines ??= {};
  s.workingSeq ??= 0;
  s.instruments ??= {};
  s.counters.ordersRefused ??= 0;
  s.trackedOrders ??= {};
  s.degraded ??= null;
  s.backfilledTo ??= {};
  s.riskLimits ??= null;
  return s;
}

/** Keeps the newest `max` entries of a list carried in state. */
export function keepLast<T>(list: T[], max: number): void {
  if (list.length > max) list.splice(0, list.length - max);
}

export const RECENT_TRADES_KEPT = 200;

export function emptyCounters(): SessionCounters {
  return {
    framesProcessed: 0,
    framesDuplicate: 0,
    framesRejected: 0,
    framesBackfilled: 0,
    framesMissing: 0,
    ordersPlaced: 0,
    ordersRejected: 0,
    ordersUnknown: 0,
    entriesSkippedWhilePaused: 0,
    reconciliationDrifts: 0,
    ordersRefused: 0,
  };
}

/** The state of a session that starts fresh (nothing carried from an earlier run). */
export function initialSessionState(): SessionState {
  return {
    status: 'running',
    orderSeq: 0,
    lastFrames: {},
    positions: {},
    systems: {},
    lastPrice: {},
    startingBalance: 0,
    counters: emptyCounters(),
    lastRejection: null,
    pendingFrames: [],
    recentTrades: [],
    unknownOrders: [],
    foreignPositions: [],
    lastReconciliation: null,
    runs: 0,
    tradingState: 'active',
    tradingStateHistory: [],
    tradingStateBy: '',
    controlSeq: 0,
    refusalSeq: 0,
    lastRefusals: [],
    recentOrderTimes: [],
    locks: [],
    protection: null,
    dailyLossLiftAt: null,
    nextFlattenAt: null,
    workingOrders: {},
    workingDeadlines: {},
    workingSeq: 0,
    instruments: {},
    trackedOrders: {},
    degraded: null,
    backfilledTo: {},
    riskLimits: null,
  };
}

export function pnlOf(state: SessionState): PnlView {
  const bySystem: PnlView['bySystem'] = {};
  let realised = 0;
  let unrealised = 0;
  for (const [id, rt] of Object.entries(state.systems)) {
    const p = state.positions[id];
    const price = p ? state.lastPrice[p.symbol] : undefined;
    const u = p && price !== undefined ? unrealisedPnl(p, price) : 0;
    bySystem[id] = { realised: rt.realisedPnl, unrealised: u };
    realised += rt.realisedPnl;
    unrealised += u;
  }
  return { realised, unrealised, total: realised + unrealised, bySystem };
}

/**
 * The next daily clean instant strictly after `nowMs`, for a UTC time of day `HH:MM[:SS]`.
 * The session continues-as-new there (invariant 4).
 */
export function nextCleanTime(nowMs: number, clock: string): number {
  const [h, m, s = 0] = clock.split(':').map(Number);
  const d = new Date(nowMs);
  let at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, m, s);
  if (at <= nowMs) at += 86_400_000;
  return at;
}

/** Inserts a frame into a queue kept in (start, symbol, timeframe) order; returns false for a duplicate. */
export function enqueueFrame(queue: Frame[], f: Frame): boolean {
  let i = queue.length;
  while (i > 0) {
    const q = queue[i - 1];
    if (q.start < f.start || (q.start === f.start && `${q.symbol}|${q.timeframe}` < `${f.symbol}|${f.timeframe}`)) break;
    if (q.start === f.start && q.symbol === f.symbol && q.timeframe === f.timeframe) return false;
    i--;
  }
  queue.splice(i, 0, f);
  return true;
}
