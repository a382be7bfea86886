/**
 * Everything a caller needs to talk to an AccountSession: ids, task queues, signals, updates,
 * queries and search attributes. Tests, workers, the gateway and the CLI import these instead of
 * repeating strings.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { FrameInput } from '../market/frame';
import type { Position } from '../trading/position';
import type { Trade } from '../trading/trade';
import type { SystemState } from '../systems/types';
import type { ReconciliationReport } from '../engine/reconciliation';
import type { TradingState, TradingStateChange, TradingStateCommand } from '../risk/trading-state';
import type { RiskView } from './risk-view';

export const SESSION_TASK_QUEUE = 'maotrade-sessions';
export const brokerTaskQueue = (broker: string): string => `broker-${broker}`;
export const sessionWorkflowId = (account: string): string => `session-${account}`;

export const SA_ACCOUNT = defineSearchAttributeKey('MaoAccount', 'KEYWORD');
export const SA_BROKER = defineSearchAttributeKey('MaoBroker', 'KEYWORD');
export const SA_STATUS = defineSearchAttributeKey('MaoStatus', 'KEYWORD');
/** active | reducing | halted (risk/trading-state.ts). */
export const SA_TRADING_STATE = defineSearchAttributeKey('MaoTradingState', 'KEYWORD');

/** `degraded`: a broker read needs a person (engine/degraded.ts); the session runs on and retries. */
export type SessionStatus = 'running' | 'paused' | 'degraded';

export interface SessionCounters {
  framesProcessed: number;
  framesDuplicate: number;
  framesRejected: number;
  framesBackfilled: number;
  framesMissing: number;
  ordersPlaced: number;
  ordersRejected: number;
  ordersUnknown: number;
  entriesSkippedWhilePaused: number;
  reconciliationDrifts: number;
  /** Order intents the risk engine refused before any broker call. */
  ordersRefused: number;
}

export interface StatusView {
  account: string;
  broker: string;
  status: SessionStatus;
  /** active | reducing | halted: what orders the risk engine lets through. */
  tradingState: TradingState;
  tradingEnabled: boolean;
  orderSeq: number;
  /** Last processed frame start per stream `symbol|timeframe`. */
  lastFrames: Record<string, number>;
  queuedFrames: number;
  counters: SessionCounters;
  lastRejection: string | null;
  runsSinceStart: number;
  unknownOrders: number;
  foreignPositions: number;
  lastReconciliation: { at: number; reason: string; drifts: number; stillUnknown: number } | null;
  /** Why the session is degraded, since when and its next retry; null when it is not. Absent in older runs. */
  degraded?: { since: number; reason: string; retryAt: number; retries: number } | null;
  /** Orders working at the broker or unknown, tracked until final (engine/order-tracking.ts). */
  ordersInFlight?: { systemId: string; clientOrderId: string; intent: 'open' | 'close'; state: string; filledQuantity: number; quantity: number; since: number }[];
}

export interface PnlView {
  realised: number;
  unrealised: number;
  total: number;
  bySystem: Record<string, { realised: number; unrealised: number }>;
}

export interface SystemView {
  system: string;
  symbol: string;
  timeframe: string;
  params: Record<string, unknown>;
  state: SystemState;
}

// Signals: fire-and-forget.
export const frameSignal = defineSignal<[FrameInput | FrameInput[]]>('frame');
export const pauseSignal = defineSignal<[{ by?: string; reason?: string }?]>('pause');
export const resumeSignal = defineSignal<[{ by?: string; reason?: string }?]>('resume');

// Updates: the caller gets the result or a validation error.
export const submitFramesUpdate = defineUpdate<{ accepted: number; duplicates: number }, [FrameInput[]]>('submitFrames');
export const closePositionUpdate = defineUpdate<Trade | null, [{ systemId: string; by?: string }]>('closePosition');
export const closeAllUpdate = defineUpdate<Trade[], [{ by?: string }]>('closeAll');
export const reconcileUpdate = defineUpdate<ReconciliationReport, [{ by?: string; reason?: string }]>('reconcile');
/** Sets the account's trading state; null when it already was in that state. */
export const setTradingStateUpdate = defineUpdate<TradingStateChange | null, [TradingStateCommand]>('setTradingState');
export const setParamsUpdate = defineUpdate<Record<string, unknown>, [{ systemId: string; params: unknown; by?: string }]>(
  'setParams',
);

// Queries.
export const statusQuery = defineQuery<StatusView>('status');
export const positionsQuery = defineQuery<Position[]>('positions');
export const pnlQuery = defineQuery<PnlView>('pnl');
export const systemsQuery = defineQuery<Record<string, SystemView>>('systems');
export const tradesQuery = defineQuery<Trade[]>('trades');
export const riskQuery = defineQuery<RiskView>('risk');
