import { WorkflowNotFoundError, type Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import { riskQuery, sessionWorkflowId, statusQuery, type StatusView } from '../../workflows/definitions';
import type { TradingState, TradingStateChange } from '../../risk/trading-state';
import { connectTemporal, type TemporalTarget } from './temporal';
import { errorText, evaluate, thresholds, worst, type CheckResult, type PerfDatum, type Range, type Status } from './plugin';

export interface SessionCheckOptions extends TemporalTarget {
  account: string;
  /** Ranges on the age of the newest processed frame, in seconds. */
  warning?: string;
  critical?: string;
  /** Ranges on how long the session has been paused, in seconds. */
  pausedWarning?: string;
  pausedCritical?: string;
  /** How long the status query may take before the session counts as unanswering. */
  queryTimeoutMs?: number;
}

export const SESSION_CHECK_DEFAULTS = Object.freeze({ warning: '600', critical: '1800', pausedWarning: '900', pausedCritical: '3600' });

type Timestamp = { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined;
const tsMs = (t: Timestamp): number | undefined =>
  t?.seconds == null ? undefined : Number(typeof t.seconds === 'number' ? t.seconds : t.seconds.toNumber()) * 1000 + (t.nanos ?? 0) / 1e6;

/**
 * When the current pause began: the last `pause` signal of this run not followed by a `resume`; a
 * session paused across continue-as-new has no such signal in this run, so the run's start is used.
 */
async function pausedSince(handle: WorkflowHandle, runStartMs: number): Promise<number> {
  const history = await handle.fetchHistory();
  let since = runStartMs;
  for (const e of history.events ?? []) {
    const name = e.workflowExecutionSignaledEventAttributes?.signalName;
    if (name === 'pause') since = tsMs(e.eventTime as Timestamp) ?? since;
    else if (name === 'resume') since = runStartMs;
  }
  return since;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Perfdata of a session that is not there or does not answer: graphs show the gap as running=0. */
const notRunning = (message: string): CheckResult => ({ status: 'CRITICAL', message, perfdata: [{ label: 'running', value: 0, critical: '1:', min: 0, max: 1 }] });

/**
 * One account's session: CRITICAL when it is not running or does not answer its status query, when
 * the last reconciliation found drifts or orders are in an unknown state, or when trading is halted
 * (reducing: WARNING); the age of the newest frame and the time spent paused against their thresholds.
 */
export async function checkSession(opts: SessionCheckOptions): Promise<CheckResult> {
  const frameT = thresholds({ warning: opts.warning ?? SESSION_CHECK_DEFAULTS.warning, critical: opts.critical ?? SESSION_CHECK_DEFAULTS.critical });
  const pausedT = thresholds({
    warning: opts.pausedWarning ?? SESSION_CHECK_DEFAULTS.pausedWarning,
    critical: opts.pausedCritical ?? SESSION_CHECK_DEFAULTS.pausedCritical,
  });
  const workflowId = sessionWorkflowId(opts.account);
  let connection: Connection | undefined;
  try {
    let client: Client;
    ({ connection, client } = await connectTemporal(opts));
    const handle = client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return notRunning(`no session for account ${opts.account} (workflow ${workflowId} not found)`);
      throw err;
    }
    if (description.status.name !== 'RUNNING') {
      return notRunning(`session ${opts.account} is ${description.status.name}, not running`);
    }
    let view: StatusView;
    try {
      const conn = connection;
      view = await conn.withDeadline(Date.now() + (opts.queryTimeoutMs ?? 5_000), () => handle.query(statusQuery));
    } catch (err) {
      return notRunning(`session ${opts.account} is running but does not answer its status query (no session worker?): ${errorText(err)}`);
    }
    const conn = connection;
    const lastChange = async () => {
      const risk = await conn.withDeadline(Date.now() + (opts.queryTimeoutMs ?? 5_000), () => handle.query(riskQuery));
      return risk.tradingStateHistory.at(-1);
    };
    return await judgeSession(
      opts.account,
      view,
      description.startTime.getTime(),
      () => pausedSince(handle, description.startTime.getTime()),
      frameT,
      pausedT,
      lastChange,
    );
  } catch (err) {
    return notRunning(`session ${opts.account}: ${errorText(err)}`);
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Perfdata value of a trading state: graphs show halts as 2 and reducing spells as 1. */
const TRADING_STATE_LEVEL: Record<TradingState, number> = { active: 0, reducing: 1, halted: 2 };

/**
 * The trading state's part: reducing WARNING, halted CRITICAL (an operator or a protection stopped
 * entries or all orders: someone must look), with who set it and why from the risk query when it
 * answers (an older session without the query still gets the state).
 */
async function judgeTradingState(
  state: TradingState,
  lastChange: (() => Promise<TradingStateChange | undefined>) | undefined,
): Promise<{ status: Status; problem?: string }> {
  if (state === 'active') return { status: 'OK' };
  let who = '';
  const change = await lastChange?.().catch(() => undefined);
  if (change && change.to === state) who = ` by ${change.by} at ${new Date(change.at).toISOString()}: ${change.reason}`;
  return { status: state === 'halted' ? 'CRITICAL' : 'WARNING', problem: `trading ${state}${who}` };
}

export async function judgeSession(
  account: string,
  view: StatusView,
  runStartMs: number,
  pausedSinceMs: () => Promise<number>,
  frameT: { warning?: Range; critical?: Range },
  pausedT: { warning?: Range; critical?: Range },
  /** The last trading-state change (risk query), asked only when the state is not active. */
  lastTradingStateChange?: () => Promise<TradingStateChange | undefined>,
): Promise<CheckResult> {
  const now = Date.now();
  const starts = Object.values(view.lastFrames);
  // No frame yet: the session has been waiting for one since its run started.
  const newest = starts.length ? Math.max(...starts) : runStartMs;
  const frameAgeS = round3(Math.max(0, now - newest) / 1000);
  const problems: string[] = [];
  const statuses: Status[] = [];

  const frameStatus = evaluate(frameAgeS, frameT);
  statuses.push(frameStatus);
  const frameText = starts.length ? `last frame ${frameAgeS} s ago` : `no frame yet (running for ${frameAgeS} s)`;
  if (frameStatus !== 'OK') problems.push(frameText);

  let pausedS = 0;
  if (view.status === 'paused') {
    pausedS = round3(Math.max(0, now - (await pausedSinceMs())) / 1000);
    const s = evaluate(pausedS, pausedT);
    statuses.push(s);
    problems.push(`paused for ${pausedS} s`);
  }
  // A run started before trading states existed has none: it trades as active.
  const tradingState = view.tradingState ?? 'active';
  const trading = await judgeTradingState(tradingState, lastTradingStateChange);
  statuses.push(trading.status);
  if (trading.problem) problems.push(trading.problem);
  const drifts = view.lastReconciliation?.drifts ?? 0;
  if (drifts > 0) {
    statuses.push('CRITICAL');
    problems.push(`last reconciliation found ${drifts} drift(s)`);
  }
  if (view.unknownOrders > 0) {
    statuses.push('CRITICAL');
    problems.push(`${view.unknownOrders} order(s) in unknown state`);
  }
  // A broker read that needs a person (401, an unlisted 4xx): the session runs on and retries by itself.
  if (view.degraded) {
    const d = view.degraded;
    statuses.push('CRITICAL');
    problems.push(`degraded since ${new Date(d.since).toISOString()}: ${d.reason} (retry ${d.retries + 1} at ${new Date(d.retryAt).toISOString()})`);
  }
  const status = worst(...statuses);
  const base = `session ${account} (${view.broker}) ${view.status}`;
  const message = problems.length ? `${base}: ${problems.join(', ')}` : `${base}, ${frameText}, ${view.counters.ordersPlaced} orders placed`;
  const perfdata: PerfDatum[] = [
    { label: 'running', value: 1, critical: '1:', min: 0, max: 1 },
    { label: 'frame_age', value: frameAgeS, uom: 's', warning: frameT.warning, critical: frameT.critical, min: 0 },
    { label: 'paused', value: pausedS, uom: 's', warning: pausedT.warning, critical: pausedT.critical, min: 0 },
    // 0 active, 1 reducing, 2 halted.
    { label: 'trading_state', value: TRADING_STATE_LEVEL[tradingState], warning: '0', critical: '1', min: 0, max: 2 },
    { label: 'unknown_orders', value: view.unknownOrders, critical: '0', min: 0 },
    { label: 'drifts', value: drifts, critical: '0', min: 0 },
    { label: 'degraded', value: view.degraded ? 1 : 0, critical: '0', min: 0, max: 1 },
    { label: 'orders_in_flight', value: view.ordersInFlight?.length ?? 0, min: 0 },
    { label: 'frames_processed', value: view.counters.framesProcessed, uom: 'c', min: 0 },
    { label: 'orders_placed', value: view.counters.ordersPlaced, uom: 'c', min: 0 },
  ];
  return { status, message, perfdata };
}
