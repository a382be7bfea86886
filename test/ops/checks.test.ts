/**
 * Each check against the real services: the right status and exit code, one status line and perfdata,
 * on a healthy target and on a broken one.
 */
import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { runCheck, type CheckOutcome, type CheckResult } from '../../ops/checks/plugin';
import { checkMysql } from '../../ops/checks/mysql';
import { checkMongo } from '../../ops/checks/mongo';
import { checkTemporal } from '../../ops/checks/temporal';
import { checkWorker } from '../../ops/checks/worker';
import { checkSession, judgeSession } from '../../ops/checks/session';
import { parseRange } from '../../ops/checks/plugin';
import { generateFrames } from '../../market/synthetic';
import { emptyCounters } from '../../engine/session-state';
import { brokerTaskQueue, pauseSignal, setTradingStateUpdate, statusQuery, type StatusView } from '../../workflows/definitions';
import { TEST_ENV, uniqueAccount } from '../support/env';
import { feedPaced, startInProcessWorkers, startSession, temporalClient } from '../support/harness';
import { WorkerProcess } from '../support/worker-processes';

const TEMPORAL = { address: TEST_ENV.TEMPORAL_ADDRESS, namespace: TEST_ENV.TEMPORAL_NAMESPACE };
const CLOSED_PORT = '127.0.0.1:1';

async function run(service: string, check: () => Promise<CheckResult>, timeoutMs = 20_000): Promise<CheckOutcome> {
  return runCheck(service, check, timeoutMs);
}

/** One line, `SERVICE STATUS: text | 'label'=value...`. */
function expectStatusLine(out: CheckOutcome, service: string, status: string): void {
  expect(out.line.split('\n')).toHaveLength(1);
  expect(out.line).toMatch(new RegExp(`^${service} ${status}: [^|]+ \\| ('[a-z_]+'=-?[0-9.]+[a-z%]*(;[^; ]*){0,4} ?)+$`));
}

describe('mysql', () => {
  test('healthy: OK with connect time perfdata; a slow threshold turns it WARNING/CRITICAL', async () => {
    const ok = await run('mysql', () => checkMysql({ url: TEST_ENV.MYSQL_URL, warning: '5', critical: '10' }));
    expect(ok.result.status).toBe('OK');
    expect(ok.exitCode).toBe(0);
    expectStatusLine(ok, 'MYSQL', 'OK');
    expect(ok.line).toMatch(/'connect_time'=[0-9.]+s;;;0 'time'=[0-9.]+s;5;10;0$/);
    // No connection takes less than nothing: @0: alerts on every non-negative time.
    const warn = await run('mysql', () => checkMysql({ url: TEST_ENV.MYSQL_URL, warning: '@0:' }));
    expect(warn.exitCode).toBe(1);
    const crit = await run('mysql', () => checkMysql({ url: TEST_ENV.MYSQL_URL, warning: '@0:', critical: '@0:' }));
    expect(crit.exitCode).toBe(2);
  });

  test('closed port: CRITICAL', async () => {
    const out = await run('mysql', () => checkMysql({ url: `mysql://maotrade:maotrade@${CLOSED_PORT}` }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'MYSQL', 'CRITICAL');
    expect(out.line).toContain('ECONNREFUSED');
    expect(out.line).not.toContain('maotrade:maotrade@'); // the password is masked
  });

  test('wrong password: CRITICAL', async () => {
    const url = new URL(TEST_ENV.MYSQL_URL);
    url.password = 'not-the-password';
    const out = await run('mysql', () => checkMysql({ url: url.toString() }));
    expect(out.exitCode).toBe(2);
    expect(out.line).toMatch(/Access denied/);
  });
});

describe('mongo', () => {
  test('healthy: OK with ping time', async () => {
    const out = await run('mongo', () => checkMongo({ url: TEST_ENV.MONGO_URL, warning: '5', critical: '10' }));
    expect(out.exitCode).toBe(0);
    expectStatusLine(out, 'MONGO', 'OK');
    expect(out.line).toMatch(/'time'=[0-9.]+s;5;10;0$/);
  });

  test('closed port: CRITICAL', async () => {
    const out = await run('mongo', () => checkMongo({ url: `mongodb://${CLOSED_PORT}/maologs`, serverSelectionTimeoutMs: 1_000 }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'MONGO', 'CRITICAL');
  });
});

describe('temporal', () => {
  test('healthy: OK, serving and namespace registered', async () => {
    const out = await run('temporal', () => checkTemporal({ ...TEMPORAL, warning: '5', critical: '10' }));
    expect(out.exitCode).toBe(0);
    expectStatusLine(out, 'TEMPORAL', 'OK');
    expect(out.line).toContain(`namespace ${TEST_ENV.TEMPORAL_NAMESPACE} registered`);
  });

  test('unknown namespace: CRITICAL', async () => {
    const out = await run('temporal', () => checkTemporal({ ...TEMPORAL, namespace: `nosuch-${Date.now()}` }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'TEMPORAL', 'CRITICAL');
  });

  test('closed port: CRITICAL', async () => {
    const out = await run('temporal', () => checkTemporal({ address: CLOSED_PORT, namespace: 'default', connectTimeoutMs: 1_000 }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'TEMPORAL', 'CRITICAL');
  });
});

describe('worker', () => {
  let broker: WorkerProcess | undefined;
  afterAll(async () => {
    await broker?.stop();
  });

  test('a live broker worker process: OK, and its poller is listed; after SIGKILL the process is gone', async () => {
    broker = new WorkerProcess('broker-paper');
    await broker.start();
    const pid = broker.pid!;
    const out = await run('worker', () => checkWorker({ ...TEMPORAL, taskQueue: brokerTaskQueue('paper'), kinds: ['activity'] }));
    expect(out.exitCode).toBe(0);
    expectStatusLine(out, 'WORKER', 'OK');
    expect(out.line).toMatch(/'activity_pollers'=[1-9]\d*;;;0 'pollers'=[1-9]\d*;;1:;0$/);
    // The poller counted is this process's (identity `<pid>@<host>`), not some other test run's.
    const { connection } = await temporalClient();
    try {
      const r = await connection.workflowService.describeTaskQueue({
        namespace: TEMPORAL.namespace,
        taskQueue: { name: brokerTaskQueue('paper'), kind: 1 },
        taskQueueType: 2,
      });
      expect((r.pollers ?? []).map((p) => p.identity)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${pid}@`))]));
    } finally {
      await connection.close();
    }
    await broker.kill();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  test('a task queue nobody ever polled: CRITICAL', async () => {
    const queue = `never-polled-${uniqueAccount('q')}`;
    const out = await run('worker', () => checkWorker({ ...TEMPORAL, taskQueue: queue }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'WORKER', 'CRITICAL');
    expect(out.line).toContain(`no pollers on task queue ${queue}`);
    expect(out.line).toMatch(/'pollers'=0;;1:;0$/);
  });

  test('Temporal unreachable: CRITICAL', async () => {
    const out = await run('worker', () => checkWorker({ address: CLOSED_PORT, namespace: 'default', taskQueue: 'x', connectTimeoutMs: 1_000 }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'WORKER', 'CRITICAL');
  });
});

describe('session', () => {
  const PARAMS = { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.5 };
  let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
  let client: Client;
  let connection: Connection;
  const handles: WorkflowHandle[] = [];

  beforeAll(async () => {
    workers = await startInProcessWorkers();
    ({ client, connection } = await temporalClient());
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.terminate('test done').catch(() => undefined)));
    await connection?.close();
    await workers?.stop();
  });

  /** A session fed `count` 1m frames, the newest starting `ageMin` minutes ago. */
  async function sessionWithFrames(prefix: string, count: number, ageMin: number): Promise<{ account: string; handle: WorkflowHandle }> {
    const account = uniqueAccount(prefix);
    const step = 60_000;
    const start = Math.floor(Date.now() / step) * step - (count - 1 + ageMin) * step;
    const frames = generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', start, count, seed: 7, trendCycle: 0 });
    const handle = await startSession(
      client,
      { account, broker: 'paper', tradingEnabled: true, systems: [{ id: 'ma', system: 'ma-crossover', symbol: account.toUpperCase(), timeframe: '1m', params: PARAMS }] },
      workers.taskQueue,
    );
    handles.push(handle);
    await feedPaced(workers.pool, handle, frames);
    return { account, handle };
  }

  test('running with fresh frames: OK; the same session against a tighter frame-age threshold: WARNING, CRITICAL', async () => {
    const { account, handle } = await sessionWithFrames('chkok', 8, 1);
    const out = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(out.exitCode).toBe(0);
    expectStatusLine(out, 'SESSION', 'OK');
    expect(out.line).toContain(`session ${account} (paper) running`);
    const age = Number(/'frame_age'=([0-9.]+)s;600;1800;0/.exec(out.line)?.[1]);
    const s = await handle.query(statusQuery);
    const expectedAge = (Date.now() - Math.max(...Object.values(s.lastFrames))) / 1000;
    expect(age).toBeGreaterThanOrEqual(60);
    expect(Math.abs(age - expectedAge)).toBeLessThan(30);
    expect(out.line).toContain(`'frames_processed'=${s.counters.framesProcessed}c;;;0`);

    const warn = await run('session', () => checkSession({ ...TEMPORAL, account, warning: '30', critical: '1800' }));
    expect(warn.exitCode).toBe(1);
    expect(warn.line).toMatch(/^SESSION WARNING: .*last frame [0-9.]+ s ago/);
    const crit = await run('session', () => checkSession({ ...TEMPORAL, account, warning: '10', critical: '30' }));
    expect(crit.exitCode).toBe(2);
  });

  test('stale frames (newest an hour old): CRITICAL under the default thresholds', async () => {
    const { account } = await sessionWithFrames('chkold', 6, 60);
    const out = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'SESSION', 'CRITICAL');
    expect(out.line).toMatch(/last frame 3[6-9]\d\d(\.\d+)? s ago/);
  });

  test('paused longer than the threshold (0 s): WARNING, or CRITICAL with a critical threshold of 0 s; not under the defaults', async () => {
    const { account, handle } = await sessionWithFrames('chkpause', 4, 1);
    await handle.signal(pauseSignal, { by: 'test', reason: 'check' });
    for (let i = 0; (await handle.query(statusQuery)).status !== 'paused'; i++) {
      if (i > 200) throw new Error('session never paused');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1_100));
    const warn = await run('session', () => checkSession({ ...TEMPORAL, account, pausedWarning: '0' }));
    expect(warn.exitCode).toBe(1);
    expectStatusLine(warn, 'SESSION', 'WARNING');
    const pausedFor = Number(/paused for ([0-9.]+) s/.exec(warn.line)?.[1]);
    expect(pausedFor).toBeGreaterThanOrEqual(1);
    expect(pausedFor).toBeLessThan(30);
    expect(warn.line).toMatch(/'paused'=[0-9.]+s;0;3600;0/);
    const crit = await run('session', () => checkSession({ ...TEMPORAL, account, pausedWarning: '0', pausedCritical: '0' }));
    expect(crit.exitCode).toBe(2);
    const defaults = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(defaults.exitCode).toBe(0);
    expect(defaults.line).toMatch(/^SESSION OK: session \S+ \(paper\) paused: paused for/);
  });

  test('trading reducing: WARNING, halted: CRITICAL, each with who and why from the risk query; active again: OK', async () => {
    const { account, handle } = await sessionWithFrames('chkstate', 4, 1);
    const set = (state: 'active' | 'reducing' | 'halted', reason: string) =>
      handle.executeUpdate(setTradingStateUpdate, { args: [{ state, by: 'ops_checker', reason }] });
    await set('reducing', 'daily review');
    const warn = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(warn.exitCode).toBe(1);
    expectStatusLine(warn, 'SESSION', 'WARNING');
    expect(warn.line).toMatch(new RegExp(`^SESSION WARNING: session ${account} \\(paper\\) running: trading reducing by ops_checker at \\S+Z: daily review \\|`));
    expect(warn.line).toContain("'trading_state'=1;0;1;0;2");
    await set('halted', 'broker outage');
    const crit = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(crit.exitCode).toBe(2);
    expectStatusLine(crit, 'SESSION', 'CRITICAL');
    expect(crit.line).toContain('trading halted by ops_checker at ');
    expect(crit.line).toContain(': broker outage |');
    expect(crit.line).toContain("'trading_state'=2;0;1;0;2");
    await set('active', 'resolved');
    const ok = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(ok.exitCode).toBe(0);
    expect(ok.line).toContain("'trading_state'=0;0;1;0;2");
  });

  test('unknown account: CRITICAL', async () => {
    const account = uniqueAccount('nosess');
    const out = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(out.exitCode).toBe(2);
    expectStatusLine(out, 'SESSION', 'CRITICAL');
    expect(out.line).toBe(`SESSION CRITICAL: no session for account ${account} (workflow session-${account} not found) | 'running'=0;;1:;0;1`);
  });

  test('a terminated session: CRITICAL', async () => {
    const { account, handle } = await sessionWithFrames('chkterm', 2, 1);
    await handle.terminate('test');
    const out = await run('session', () => checkSession({ ...TEMPORAL, account }));
    expect(out.exitCode).toBe(2);
    expect(out.line).toContain(`session ${account} is TERMINATED, not running`);
  });
});

describe('session judgement (drift, unknown orders)', () => {
  const view = (over: Partial<StatusView> = {}): StatusView => ({
    account: 'acc',
    broker: 'paper',
    status: 'running',
    tradingState: 'active',
    tradingEnabled: true,
    orderSeq: 0,
    lastFrames: { 'ACC|1m': Date.now() - 5_000 },
    queuedFrames: 0,
    counters: { ...emptyCounters(), framesProcessed: 1 },
    lastRejection: null,
    runsSinceStart: 0,
    unknownOrders: 0,
    foreignPositions: 0,
    lastReconciliation: { at: Date.now(), reason: 'start', drifts: 0, stillUnknown: 0 },
    ...over,
  });
  const t = { warning: parseRange('600'), critical: parseRange('1800') };
  const never = async () => {
    throw new Error('not paused');
  };

  test('clean: OK', async () => {
    expect((await judgeSession('acc', view(), Date.now(), never, t, t)).status).toBe('OK');
  });
  test('drifts in the last reconciliation: CRITICAL', async () => {
    const r = await judgeSession('acc', view({ lastReconciliation: { at: 0, reason: 'start', drifts: 2, stillUnknown: 0 } }), Date.now(), never, t, t);
    expect(r.status).toBe('CRITICAL');
    expect(r.message).toContain('last reconciliation found 2 drift(s)');
  });
  test('degraded (a broker read needs a person): CRITICAL with since, reason and the next retry', async () => {
    const since = Date.UTC(2026, 11, 4, 15, 0);
    const r = await judgeSession('acc', view({ status: 'degraded', degraded: { since, reason: 'reconciliation: BrokerAuthError 401', retryAt: since + 60_000, retries: 1 } }), Date.now(), never, t, t);
    expect(r.status).toBe('CRITICAL');
    expect(r.message).toBe('session acc (paper) degraded: degraded since 2026-12-04T15:00:00.000Z: reconciliation: BrokerAuthError 401 (retry 2 at 2026-12-04T15:01:00.000Z)');
    expect(r.perfdata).toContainEqual(expect.objectContaining({ label: 'degraded', value: 1 }));
  });
  test('unknown orders: CRITICAL', async () => {
    const r = await judgeSession('acc', view({ unknownOrders: 1 }), Date.now(), never, t, t);
    expect(r.status).toBe('CRITICAL');
    expect(r.message).toContain('1 order(s) in unknown state');
  });
  test('trading halted: CRITICAL naming who and why; reducing: WARNING; the risk query is asked only when not active', async () => {
    const change = (to: 'reducing' | 'halted') => async () => ({ seq: 3, at: Date.UTC(2026, 0, 2, 3, 4, 5), from: 'active' as const, to, by: 'alice', reason: 'broker outage', source: 'command' as const });
    const halted = await judgeSession('acc', view({ tradingState: 'halted' }), Date.now(), never, t, t, change('halted'));
    expect(halted.status).toBe('CRITICAL');
    expect(halted.message).toBe('session acc (paper) running: trading halted by alice at 2026-01-02T03:04:05.000Z: broker outage');
    expect(halted.perfdata).toContainEqual({ label: 'trading_state', value: 2, warning: '0', critical: '1', min: 0, max: 2 });
    const reducing = await judgeSession('acc', view({ tradingState: 'reducing' }), Date.now(), never, t, t, change('reducing'));
    expect(reducing.status).toBe('WARNING');
    expect(reducing.message).toContain('trading reducing by alice');
    expect(reducing.perfdata).toContainEqual(expect.objectContaining({ label: 'trading_state', value: 1 }));
    // The risk query failing (or an older change) still reports the state, without who.
    const noRisk = await judgeSession('acc', view({ tradingState: 'halted' }), Date.now(), never, t, t, never);
    expect(noRisk.status).toBe('CRITICAL');
    expect(noRisk.message).toBe('session acc (paper) running: trading halted');
    const active = await judgeSession('acc', view(), Date.now(), never, t, t, async () => {
      throw new Error('asked the risk query of an active session');
    });
    expect(active.status).toBe('OK');
    expect(active.perfdata).toContainEqual(expect.objectContaining({ label: 'trading_state', value: 0 }));
  });
  test('no frame yet: its age counts from the run start', async () => {
    const r = await judgeSession('acc', view({ lastFrames: {} }), Date.now() - 700_000, never, t, t);
    expect(r.status).toBe('WARNING');
    expect(r.message).toMatch(/no frame yet \(running for 70\d(\.\d+)? s\)/);
  });
});
