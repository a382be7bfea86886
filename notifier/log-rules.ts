/**
 * Which log lines are alerts, and the alert each one makes. The messages are the exact ones the
 * engine, the workflow shell and the circuit breaker write (`maologs.logs`, see logging/mongo-sink.ts):
 *
 *   brokers/resilience.ts      `broker <name>: circuit opened`            → circuit-opened (critical)
 *                              `broker <name>: circuit closed again`      → circuit-opened recovered (ok)
 *   engine/reconcile.ts        `reconciliation: <drift kind>`             → reconciliation-drift (critical)
 *   engine/orders.ts           `order outcome unknown; left to reconciliation` → order-unknown (critical)
 *   engine/order-tracking.ts   `order outcome unknown; asking the broker until it answers` → order-unknown (critical)
 *   engine/degraded.ts         `session degraded: a broker read needs a person` → session-degraded (critical)
 *                              `session recovered from degraded`          → session-degraded recovered (ok)
 *   engine/positions.ts        `protective stop could not be placed; closing the position` → stop-not-placed (critical)
 *   engine/stop-liveness.ts    `protective stop could not be placed; the position is not protected at the broker`
 *                                                                         → stop-not-placed (critical)
 *                              `protective stop live again`               → stop-not-placed recovered (ok)
 *                              `position could not be closed`             → position-not-closed (critical)
 *   engine/trading-state.ts    `trading state <active|reducing|halted>`   → trading-state-changed (halted
 *                              critical, reducing warning, active ok), or protection-fired when
 *                              `source` is `protection` (daily loss, max drawdown)
 *   engine/protections.ts      `protection <kind>: entries locked`        → protection-fired (warning)
 *
 * `LOG_ALERT_FILTER` selects exactly these lines in MongoDB, so the source reads nothing else.
 */
import type { Alert } from './alert';

/** The fields of a log document the rules read (pino line → logging/mongo-sink.ts `toLogDoc`). */
export interface LogLine {
  _id?: unknown;
  time: Date;
  level: number;
  msg?: string;
  account?: string;
  [field: string]: unknown;
}

export const ALERT_MESSAGE_PATTERNS: readonly RegExp[] = [
  /^broker \S+: circuit (opened|closed again)$/,
  /^reconciliation: (closed|changed|opened|foreign)-at-broker$/,
  /^order outcome unknown; (left to reconciliation|asking the broker until it answers)$/,
  /^session (degraded: a broker read needs a person|recovered from degraded)$/,
  /^protective stop could not be placed; (closing the position|the position is not protected at the broker)$/,
  /^protective stop live again$/,
  /^position could not be closed$/,
  /^trading state (active|reducing|halted)$/,
  /^protection \S+: entries locked$/,
];

/** A MongoDB filter for the lines the rules handle (one anchored regex: FerretDB serves it). */
export const LOG_ALERT_REGEX =
  '^(broker [^ ]+: circuit (opened|closed again)|reconciliation: (closed|changed|opened|foreign)-at-broker|order outcome unknown; (left to reconciliation|asking the broker until it answers)|session (degraded: a broker read needs a person|recovered from degraded)|protective stop could not be placed; (closing the position|the position is not protected at the broker)|protective stop live again|position could not be closed|trading state (active|reducing|halted)|protection [^ ]+: entries locked)$';

const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
/** Fields a person may read: the line's own facts, without Temporal's bookkeeping. */
function facts(line: LogLine): Record<string, unknown> {
  const { _id, time: _t, level: _l, levelName: _n, msg: _m, service: _s, sdkComponent: _c, taskQueue: _q, namespace: _ns, runId: _r, workflowType: _wt, attempt: _a, ...rest } = line;
  void _id;
  return rest;
}

/** The alert a log line makes, or null when the line is not alert-worthy. */
export function alertFromLog(line: LogLine): Alert | null {
  const msg = line.msg ?? '';
  const at = line.time.getTime();
  const account = typeof line.account === 'string' ? line.account : undefined;
  const base = { at, fields: facts(line), ...(account !== undefined ? { account } : {}) };
  const who = account !== undefined ? `account ${account}: ` : '';
  let m: RegExpExecArray | null;

  if ((m = /^broker (\S+): circuit (opened|closed again)$/.exec(msg))) {
    const broker = m[1];
    const opened = m[2] === 'opened';
    const retry = typeof line.retryAfterMs === 'number' ? ` Calls fail fast; the next try in ${Math.round(line.retryAfterMs / 1000)} s.` : '';
    return {
      ...base,
      kind: 'circuit-opened',
      key: `circuit:${broker}`,
      tier: 'trading-critical',
      severity: opened ? 'critical' : 'ok',
      title: opened ? `broker ${broker}: circuit opened` : `broker ${broker}: circuit closed again`,
      text: opened
        ? `The circuit breaker of broker ${broker} opened after repeated infrastructure failures${line.error ? ` (last: ${str((line.error as { message?: unknown }).message ?? line.error)})` : ''}.${retry} Sessions on ${broker} wait for it.`
        : `Calls to broker ${broker} succeed again; the circuit is closed.`,
    };
  }
  if ((m = /^reconciliation: ((?:closed|changed|opened|foreign)-at-broker)$/.exec(msg))) {
    return {
      ...base,
      kind: 'reconciliation-drift',
      key: `drift:${account ?? '?'}:${m[1]}:${str(line.positionRef)}`,
      tier: 'trading-critical',
      severity: 'critical',
      title: `${who}reconciliation drift ${m[1]}`,
      text: `Reconciliation (${str(line.reason) || 'on request'}) found position ${str(line.positionRef)}${line.systemId ? ` of system ${str(line.systemId)}` : ''} ${m[1].replace(/-/g, ' ')}: ${str(line.detail)}. The session adopted the broker's view.`,
    };
  }
  if (msg === 'session degraded: a broker read needs a person' || msg === 'session recovered from degraded') {
    const down = msg.startsWith('session degraded');
    return {
      ...base,
      kind: 'session-degraded',
      key: `degraded:${account ?? '?'}`,
      tier: 'trading-critical',
      severity: down ? 'critical' : 'ok',
      title: down ? `${who}session degraded` : `${who}session no longer degraded`,
      text: down
        ? `A broker read needs a person: ${str(line.reason)}. The session keeps running (stops and exits work, entries wait) and tries again at ${line.retryAt ? new Date(Number(line.retryAt)).toISOString() : 'its next deadline'}.`
        : `The session reads from its broker again after ${Math.round(Number(line.degradedForMs ?? 0) / 1000)} s degraded.`,
    };
  }
  if (msg === 'order outcome unknown; left to reconciliation' || msg === 'order outcome unknown; asking the broker until it answers') {
    return {
      ...base,
      kind: 'order-unknown',
      key: `unknown:${account ?? '?'}:${str(line.clientOrderId)}`,
      tier: 'trading-critical',
      severity: 'critical',
      title: `${who}order ${str(line.clientOrderId)} in unknown state`,
      text: `Neither the order's answer nor the broker's lookup told what became of order ${str(line.clientOrderId)} (${str(line.error)}). It is left to reconciliation; check it at the broker.`,
    };
  }
  if (msg === 'protective stop could not be placed; closing the position') {
    return {
      ...base,
      kind: 'stop-not-placed',
      key: `stop:${account ?? '?'}:${str(line.positionRef)}`,
      tier: 'trading-critical',
      severity: 'critical',
      title: `${who}protective stop could not be placed`,
      text: `The stop at ${str(line.stop)} for position ${str(line.positionRef)}${line.systemId ? ` (system ${str(line.systemId)})` : ''} could not be placed (${str(line.reason)}); the position is being closed.`,
    };
  }
  if (msg === 'protective stop could not be placed; the position is not protected at the broker' || msg === 'protective stop live again') {
    const down = msg !== 'protective stop live again';
    return {
      ...base,
      kind: 'stop-not-placed',
      key: `stop:${account ?? '?'}:${str(line.positionRef)}`,
      tier: 'trading-critical',
      severity: down ? 'critical' : 'ok',
      title: down ? `${who}position ${str(line.positionRef)} has no stop at the broker` : `${who}protective stop of ${str(line.positionRef)} live again`,
      text: down
        ? `The stop at ${str(line.stop)} for position ${str(line.positionRef)}${line.systemId ? ` (system ${str(line.systemId)})` : ''} is not at the broker and placing it failed (${str(line.reason)}); the position stays open and the session places the stop again on every frame. Check it at the broker.`
        : `The stop at ${str(line.stop)} for position ${str(line.positionRef)} is at the broker again.`,
    };
  }
  if (msg === 'position could not be closed') {
    return {
      ...base,
      kind: 'position-not-closed',
      key: `close:${account ?? '?'}:${str(line.positionRef)}`,
      tier: 'trading-critical',
      severity: 'critical',
      title: `${who}position ${str(line.positionRef)} could not be closed`,
      text: `Closing position ${str(line.positionRef)}${line.systemId ? ` (system ${str(line.systemId)})` : ''} failed: ${str(line.reason)}. ${line.stopLive === false ? 'ITS PROTECTIVE STOP IS NOT LIVE at the broker; the session places it again on every frame.' : 'Its stop stays in place; check it at the broker.'}`,
    };
  }
  if ((m = /^trading state (active|reducing|halted)$/.exec(msg))) {
    const to = m[1];
    const byProtection = line.source === 'protection';
    const why = `${line.from ? `from ${str(line.from)} ` : ''}by ${str(line.by) || 'unknown'}${line.reason ? `: ${str(line.reason)}` : ''}`;
    return {
      ...base,
      kind: byProtection ? 'protection-fired' : 'trading-state-changed',
      // Every change is news: the time makes the key unique (the source never reads a line twice).
      key: `trading-state:${account ?? '?'}:${to}:${at}`,
      tier: 'trading-critical',
      severity: to === 'halted' ? 'critical' : to === 'reducing' ? 'warning' : 'ok',
      title: `${who}trading ${to}${byProtection ? ` (${str(line.by).replace(/^protection:/, '')} protection)` : ''}`,
      text: `Trading state set to ${to} ${why}.${to === 'reducing' ? ' Only closes pass.' : to === 'halted' ? ' Nothing passes; broker-side stops stay in place.' : ''}`,
    };
  }
  if ((m = /^protection (\S+): entries locked$/.exec(msg))) {
    const symbol = str(line.symbol) || '*';
    return {
      ...base,
      kind: 'protection-fired',
      key: `protection:${account ?? '?'}:${m[1]}:${symbol}`,
      tier: 'trading-critical',
      severity: 'warning',
      title: `${who}protection ${m[1]} fired`,
      text: `Protection ${m[1]} locks entries on ${symbol === '*' ? 'every symbol' : symbol} until ${str(line.until)}: ${str(line.reason)}.`,
    };
  }
  return null;
}
