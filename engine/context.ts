/**
 * What every step of the session engine works on: the account's config and systems, its durable state,
 * the feature switches of the run (patches), and the synchronous ports to the world.
 * No Temporal import and no I/O here: the engine runs the same in a workflow, a backtest and a unit test.
 */
import type { SessionOutcome } from '../db/account-store';
import { streamKey } from '../market/frame';
import type { DecisionInput, PortfolioView, SystemState, TradingSystem } from '../systems/types';
import type { Position } from '../trading/position';
import type { TradingState, TradingStateChange } from '../risk/trading-state';
import type { SessionConfig, SystemConfig } from '../config/session-config';
import type { RiskLimits } from '../risk/limits';
import type { SessionStatus } from '../workflows/definitions';
import type { SessionState } from './session-state';

export type LogFields = Record<string, unknown>;

/** Effects that need no answer: the driver performs them at once. */
export interface EnginePorts {
  /** Now, epoch ms: workflow time live, the bar's time in a backtest. */
  now(): number;
  log(level: 'info' | 'warn' | 'error', message: string, fields: LogFields): void;
  /** Whether this run takes a change guarded by `id` (Temporal's `patched`; always true in a backtest). */
  patched(id: string): boolean;
  statusChanged(status: SessionStatus): void;
  tradingStateChanged(state: TradingState): void;
  /** A deadline was added: the driver's timer loop recomputes its next wake-up. */
  timersChanged(): void;
}

/** Behaviour switches fixed for a run (a recorded history of an older run replays without them). */
export interface EngineFeatures {
  /** Issue 6: risk checks, protections, brackets, working orders, emulated exits. */
  riskEngine: boolean;
  /** Issue 11 item 7: P&L, equity, exposure and protections in account currency from the instrument's money facts. */
  accountCurrency?: boolean;
}

export interface SystemSlot {
  cfg: SystemConfig;
  impl: TradingSystem;
  /** `symbol|timeframe` of the system's stream. */
  stream: string;
  /** The decision input, reused from frame to frame (systems are pure and keep nothing of it). */
  input: DecisionInput<unknown, SystemState>;
  /** The portfolio view last given, rebuilt only when the position or the realised P&L changed. */
  view: PortfolioView;
  viewOf: { position: Position | undefined; realisedPnl: number };
}

export interface EngineContext {
  account: string;
  config: SessionConfig;
  systems: Map<string, SystemSlot>;
  /** The same slots in config order, for the per-frame loop (an array walk allocates no iterator). */
  slots: SystemSlot[];
  state: SessionState;
  features: EngineFeatures;
  ports: EnginePorts;
  /** Trading-state changes waiting for the next store write. */
  unrecordedControl: TradingStateChange[];
  /**
   * Live: every frame writes the systems' states and an equity row. A backtest keeps its own equity
   * column and records only what changed (orders, trades, refusals, states).
   */
  recordEveryFrame: boolean;
  /** Equity at the last frame's close (balance + realised + unrealised). */
  lastEquity: number;
  /** The reused frame outcome of a backtest (frameOutcome). */
  scratch?: SessionOutcome;
  /** config.risk without its nulls, built once (engine/limits.ts). */
  configuredLimits?: RiskLimits;
}

export function emptyOutcome(): SessionOutcome {
  return { orders: [], fills: [], openedPositions: [], trades: [], systemStates: [] };
}

/**
 * The outcome a frame collects. Live, a new one (the activity's argument). A backtest's sync driver has
 * copied everything out of the last one when the step ended, so it is cleared and reused.
 */
export function frameOutcome(ctx: EngineContext): SessionOutcome {
  if (ctx.recordEveryFrame) return emptyOutcome();
  const o = (ctx.scratch ??= emptyOutcome());
  // Only what a step filled is cleared: most bars fill nothing, and a length write is not free.
  if (o.orders.length) o.orders.length = 0;
  if (o.fills.length) o.fills.length = 0;
  if (o.openedPositions.length) o.openedPositions.length = 0;
  if (o.trades.length) o.trades.length = 0;
  if (o.refusals !== undefined) o.refusals = undefined;
  if (o.controlEvents !== undefined) o.controlEvents = undefined;
  if (o.workingOrders !== undefined) o.workingOrders = undefined;
  return o;
}

/** The last processed frame's start of a system's stream (the time a non-frame step books at). */
export function lastFrameOf(ctx: EngineContext, systemId: string): number {
  const { cfg } = ctx.systems.get(systemId)!;
  return ctx.state.lastFrames[streamKey(cfg.symbol, cfg.timeframe)] ?? ctx.ports.now();
}

export function snapshotOf(ctx: EngineContext, systemId: string) {
  const { cfg } = ctx.systems.get(systemId)!;
  const rt = ctx.state.systems[systemId];
  return {
    systemId,
    systemName: cfg.system,
    params: rt.params,
    state: rt.state,
    frameStart: ctx.state.lastFrames[streamKey(cfg.symbol, cfg.timeframe)] ?? null,
  };
}
