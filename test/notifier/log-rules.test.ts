/** notifier/log-rules.ts: the exact log lines of engine/, workflows/ and brokers/resilience.ts become the right alerts. */
import fs from 'node:fs';
import path from 'node:path';
import { ALERT_MESSAGE_PATTERNS, LOG_ALERT_REGEX, alertFromLog, type LogLine } from '../../notifier/log-rules';
import { toLogDoc } from '../../logging/mongo-sink';
import { ROOT } from '../support/env';

const T = '2026-01-02T03:04:05.000Z';
/** A pino line as a worker writes it, read back as the sink stores it. */
const line = (level: number, msg: string, fields: Record<string, unknown>): LogLine =>
  toLogDoc(JSON.stringify({ level, time: T, service: 'session-worker', workflowId: `session-${String(fields.account ?? 'x')}`, ...fields, msg })) as LogLine;

test('circuit opened (critical) and closed again (recovery) share the key', () => {
  const open = alertFromLog(line(50, 'broker ig: circuit opened', { broker: 'ig', breaker: 'open', retryAfterMs: 30_000, error: { message: 'ETIMEDOUT' } }))!;
  expect(open).toMatchObject({ kind: 'circuit-opened', key: 'circuit:ig', severity: 'critical', tier: 'trading-critical', title: 'broker ig: circuit opened', at: Date.parse(T) });
  expect(open.text).toBe('The circuit breaker of broker ig opened after repeated infrastructure failures (last: ETIMEDOUT). Calls fail fast; the next try in 30 s. Sessions on ig wait for it.');
  const closed = alertFromLog(line(30, 'broker ig: circuit closed again', { broker: 'ig', breaker: 'closed' }))!;
  expect(closed).toMatchObject({ key: 'circuit:ig', severity: 'ok' });
  expect(alertFromLog(line(40, 'broker ig: circuit half-open, trying one call', { broker: 'ig' }))).toBeNull();
});

test('reconciliation drift, unknown order, stop not placed, position not closed', () => {
  expect(alertFromLog(line(50, 'reconciliation: closed-at-broker', { account: 'acc1', positionRef: 'acc1-7', systemId: 'ma', detail: 'buy 2 EURUSD is not open at the broker', reason: 'start' }))).toMatchObject({
    kind: 'reconciliation-drift',
    key: 'drift:acc1:closed-at-broker:acc1-7',
    account: 'acc1',
    severity: 'critical',
    title: 'account acc1: reconciliation drift closed-at-broker',
    text: "Reconciliation (start) found position acc1-7 of system ma closed at broker: buy 2 EURUSD is not open at the broker. The session adopted the broker's view.",
  });
  expect(alertFromLog(line(50, 'order outcome unknown; left to reconciliation', { account: 'acc1', clientOrderId: 'acc1-9', error: 'timeout' }))).toMatchObject({
    kind: 'order-unknown',
    key: 'unknown:acc1:acc1-9',
    title: 'account acc1: order acc1-9 in unknown state',
  });
  const stop = alertFromLog(line(50, 'protective stop could not be placed; closing the position', { account: 'acc1', systemId: 'cb', positionRef: 'acc1-3', stop: 1.0845, reason: 'stop too close' }))!;
  expect(stop).toMatchObject({ kind: 'stop-not-placed', key: 'stop:acc1:acc1-3', severity: 'critical' });
  expect(stop.text).toBe('The stop at 1.0845 for position acc1-3 (system cb) could not be placed (stop too close); the position is being closed.');
  expect(alertFromLog(line(50, 'position could not be closed', { account: 'acc1', systemId: 'cb', positionRef: 'acc1-3', reason: 'market closed' }))).toMatchObject({ kind: 'position-not-closed', key: 'close:acc1:acc1-3' });
});

test('trading state changes carry who and why; a protection breach is a protection alert; a lock is a warning', () => {
  const halted = alertFromLog(line(40, 'trading state halted', { account: 'acc1', from: 'active', to: 'halted', by: 'alice', reason: 'broker outage', source: 'command' }))!;
  expect(halted).toMatchObject({ kind: 'trading-state-changed', severity: 'critical', title: 'account acc1: trading halted' });
  expect(halted.text).toBe('Trading state set to halted from active by alice: broker outage. Nothing passes; broker-side stops stay in place.');
  expect(alertFromLog(line(30, 'trading state active', { account: 'acc1', from: 'halted', to: 'active', by: 'bob', reason: 'fixed', source: 'command' }))).toMatchObject({ severity: 'ok' });
  const breach = alertFromLog(line(40, 'trading state reducing', { account: 'acc1', from: 'active', to: 'reducing', by: 'protection:daily-loss', reason: 'daily loss 1200 over the limit 1000', source: 'protection' }))!;
  expect(breach).toMatchObject({ kind: 'protection-fired', severity: 'warning', title: 'account acc1: trading reducing (daily-loss protection)' });
  const lock = alertFromLog(line(40, 'protection stop-loss-guard: entries locked', { account: 'acc1', symbol: '*', until: '2026-01-02T04:04:05.000Z', reason: '3 stops in 60 min' }))!;
  expect(lock).toMatchObject({ kind: 'protection-fired', key: 'protection:acc1:stop-loss-guard:*', severity: 'warning' });
  expect(lock.text).toBe('Protection stop-loss-guard locks entries on every symbol until 2026-01-02T04:04:05.000Z: 3 stops in 60 min.');
  // Temporal's bookkeeping stays out of the facts.
  expect(lock.fields).toMatchObject({ account: 'acc1', symbol: '*', reason: '3 stops in 60 min' });
  expect(lock.fields).not.toHaveProperty('service');
});

test('ordinary lines are not alerts, and the MongoDB regex selects exactly what the rules handle', () => {
  const ordinary = ['order filled', 'trade closed', 'session started', 'reconciliation: session and broker agree', 'reconciliation requested', 'protection loss-cooldown lifted'];
  const re = new RegExp(LOG_ALERT_REGEX);
  for (const msg of ordinary) {
    expect(alertFromLog(line(30, msg, { account: 'a' }))).toBeNull();
    expect(re.test(msg)).toBe(false);
  }
  const alerting = ['broker paper: circuit opened', 'reconciliation: foreign-at-broker', 'trading state halted', 'protection loss-cooldown: entries locked', 'position could not be closed'];
  for (const msg of alerting) {
    expect(re.test(msg)).toBe(true);
    expect(ALERT_MESSAGE_PATTERNS.some((p) => p.test(msg))).toBe(true);
  }
});

test('the messages the rules match are still the ones the code writes (a renamed log line fails here)', () => {
  const src = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
  expect(src('brokers/resilience.ts')).toContain('`broker ${this.name}: circuit opened`');
  expect(src('brokers/resilience.ts')).toContain('`broker ${this.name}: circuit closed again`');
  expect(src('engine/reconcile.ts')).toContain('`reconciliation: ${d.kind}`');
  expect(src('engine/orders.ts')).toContain("'order outcome unknown; left to reconciliation'");
  expect(src('engine/order-tracking.ts')).toContain("'order outcome unknown; asking the broker until it answers'");
  expect(src('engine/degraded.ts')).toContain("'session degraded: a broker read needs a person'");
  expect(src('engine/degraded.ts')).toContain("'session recovered from degraded'");
  expect(src('engine/positions.ts')).toContain("'protective stop could not be placed; closing the position'");
  expect(src('engine/positions.ts')).toContain("'position could not be closed'");
  expect(src('engine/stop-liveness.ts')).toContain("'protective stop could not be placed; the position is not protected at the broker'");
  expect(src('engine/stop-liveness.ts')).toContain("'protective stop live again'");
  expect(src('engine/trading-state.ts')).toContain('`trading state ${to}`');
  expect(src('engine/protections.ts')).toContain('`protection ${l.kind}: entries locked`');
  for (const kind of ['closed-at-broker', 'changed-at-broker', 'opened-at-broker', 'foreign-at-broker']) expect(src('engine/reconciliation.ts')).toContain(`'${kind}'`);
});

test('a degraded session is a critical alert with the reason and its retry; its recovery is an ok under the same key', () => {
  const down = alertFromLog(line(50, 'session degraded: a broker read needs a person', { account: 'acc1', reason: 'reconciliation: BrokerAuthError 401', retryAt: Date.UTC(2026, 11, 4, 15, 1), retries: 0 }));
  expect(down).toMatchObject({ kind: 'session-degraded', key: 'degraded:acc1', severity: 'critical', title: 'account acc1: session degraded' });
  expect(down!.text).toBe('A broker read needs a person: reconciliation: BrokerAuthError 401. The session keeps running (stops and exits work, entries wait) and tries again at 2026-12-04T15:01:00.000Z.');
  const up = alertFromLog(line(30, 'session recovered from degraded', { account: 'acc1', degradedForMs: 90_000 }));
  expect(up).toMatchObject({ kind: 'session-degraded', key: 'degraded:acc1', severity: 'ok' });
  const re = new RegExp(LOG_ALERT_REGEX);
  expect(re.test('session degraded: a broker read needs a person') && re.test('order outcome unknown; asking the broker until it answers')).toBe(true);
});

test('a stop not at the broker after a refused close is critical, its return an ok under the same key; the close alert says whether the stop is live', () => {
  const down = alertFromLog(
    line(50, 'protective stop could not be placed; the position is not protected at the broker', { account: 'acc1', systemId: 'cb', positionRef: 'acc1-3', stop: 95, reason: 'symbol halted' }),
  )!;
  expect(down).toMatchObject({ kind: 'stop-not-placed', key: 'stop:acc1:acc1-3', severity: 'critical', title: 'account acc1: position acc1-3 has no stop at the broker' });
  expect(down.text).toContain('placing it failed (symbol halted); the position stays open and the session places the stop again on every frame');
  const up = alertFromLog(line(30, 'protective stop live again', { account: 'acc1', positionRef: 'acc1-3', stop: 95 }))!;
  expect(up).toMatchObject({ kind: 'stop-not-placed', key: 'stop:acc1:acc1-3', severity: 'ok' });
  const refused = (stopLive?: boolean) =>
    alertFromLog(line(50, 'position could not be closed', { account: 'acc1', positionRef: 'acc1-3', reason: '403', ...(stopLive === undefined ? {} : { stopLive }) }))!.text;
  expect(refused(false)).toContain('ITS PROTECTIVE STOP IS NOT LIVE');
  expect(refused(true)).toContain('Its stop stays in place');
  expect(refused()).toContain('Its stop stays in place');
  const re = new RegExp(LOG_ALERT_REGEX);
  expect(re.test('protective stop could not be placed; the position is not protected at the broker') && re.test('protective stop live again')).toBe(true);
});
