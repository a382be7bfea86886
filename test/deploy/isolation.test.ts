/**
 * A test run can never touch a live session (issue 12, item 5). A "demo-like" session runs with its own
 * worker processes exactly as the main job starts them (scripts/main.sh: the production entry points,
 * the main job's namespace, queues `maotrade-sessions` and `broker-paper`, the paper venue's default
 * settings), while the suite's worker processes poll the very same queue names with the test venue's
 * settings, and a suite session trades at the same time. Every task of the demo session, each order
 * included, must have been served by the demo's workers (worker identity in the workflow history) and
 * filled at the demo venue's prices; the suite's session never by the demo's workers.
 *
 * If a real main job is polling the main namespace's queues right now, this test does not join it (that
 * would be a test touching a live session): the demo stand-in then runs in a namespace of its own.
 */
import os from 'node:os';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { generateFrames } from '../../market/synthetic';
import type { Frame } from '../../market/frame';
import { SESSION_TASK_QUEUE, brokerTaskQueue, statusQuery } from '../../workflows/definitions';
import { LIVE_NAMESPACE, TEST_ENV, uniqueAccount } from '../support/env';
import { PAPER_TEST_CONFIG, feedPaced, startSession } from '../support/harness';
import { expectedPaperRun } from '../support/oracle';
import { accountRows } from '../support/account-rows';
import { ensureNamespace } from '../support/temporal-namespace';
import { WorkerProcess, useProcessWorkers } from '../support/worker-processes';

jest.setTimeout(600_000);

const PARAMS = { fastPeriod: 5, slowPeriod: 20, stopDistancePct: 0.4 };
const COUNT = 240;
const BROKER_QUEUE = brokerTaskQueue('paper');
const { EventType, TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;

/** The suite's worker processes, as every process test starts them (test namespace, test venue). */
const suite = useProcessWorkers();

const identityOf = (w: WorkerProcess) => `${w.pid}@${os.hostname()}`;

/** Pollers of the main job's queues that are alive: not a process of this machine that has exited, seen in the last 2 minutes. */
async function livePollers(client: Client, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for (const [name, taskQueueType] of [
    [SESSION_TASK_QUEUE, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
    [BROKER_QUEUE, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
  ] as const) {
    const r = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL }, taskQueueType });
    for (const p of r.pollers ?? []) {
      const seenMs = Number(p.lastAccessTime?.seconds ?? 0) * 1000;
      const [pid, host] = (p.identity ?? '').split('@');
      const gone = host === os.hostname() && !isAlive(Number(pid));
      if (!gone && Date.now() - seenMs < 120_000) found.push(`${name}: ${p.identity}`);
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** For every task of the session's history: which queue it was on and which worker identity took it. */
async function servedBy(handle: WorkflowHandle) {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<number, { type: string; queue: string }>();
  const activities: { type: string; queue: string; identity: string }[] = [];
  const workflowTasks: string[] = [];
  for (const e of events) {
    const id = Number(e.eventId);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const a = e.activityTaskScheduledEventAttributes!;
      scheduled.set(id, { type: a.activityType!.name!, queue: a.taskQueue!.name! });
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const a = e.activityTaskStartedEventAttributes!;
      activities.push({ ...scheduled.get(Number(a.scheduledEventId))!, identity: a.identity ?? '' });
    } else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
      workflowTasks.push(e.workflowTaskStartedEventAttributes!.identity ?? '');
    }
  }
  return { activities, workflowTasks, broker: activities.filter((a) => a.queue === BROKER_QUEUE) };
}

/** The sorted fill prices of the session's executed orders, rounded for comparison. */
const fillPrices = (prices: number[]) => prices.map((p) => Number(p).toFixed(6)).sort();

describe('a test run beside the main job', () => {
  let connection: Connection;
  let demoClient: Client;
  let demoNamespace = LIVE_NAMESPACE;
  let demoSession: WorkerProcess;
  let demoBroker: WorkerProcess;

  beforeAll(async () => {
    connection = await Connection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
    const live = await livePollers(new Client({ connection, namespace: LIVE_NAMESPACE }), LIVE_NAMESPACE);
    if (live.length) {
      demoNamespace = `${TEST_ENV.TEMPORAL_NAMESPACE}-main`;
      console.log(`a main job polls namespace ${LIVE_NAMESPACE} (${live.join(', ')}): the demo stand-in runs in ${demoNamespace} instead`);
      await ensureNamespace(TEST_ENV.TEMPORAL_ADDRESS, demoNamespace);
    }
    demoClient = new Client({ connection, namespace: demoNamespace });
    // As scripts/main.sh starts them: the compiled entry points, the main job's namespace, no venue settings.
    demoSession = new WorkerProcess('session', { TEMPORAL_NAMESPACE: demoNamespace });
    demoBroker = new WorkerProcess('broker-paper', { TEMPORAL_NAMESPACE: demoNamespace });
    await Promise.all([demoSession.start(), demoBroker.start()]);
  });

  afterAll(async () => {
    await Promise.all([demoSession?.stop(), demoBroker?.stop()]);
    await connection?.close();
  });

  test("every order of the demo session is served by the demo's broker worker, none of the suite's", async () => {
    expect(TEST_ENV.TEMPORAL_NAMESPACE).not.toBe(demoNamespace);
    const demoAccount = uniqueAccount('isodemo');
    const suiteAccount = uniqueAccount('isosuite');
    const framesOf = (account: string): Frame[] => generateFrames({ symbol: account.toUpperCase(), timeframe: '1m', count: COUNT, seed: 4 });
    const configOf = (account: string) => ({
      account,
      broker: 'paper',
      tradingEnabled: true,
      systems: [{ id: 'ma', system: 'ma-crossover', symbol: account.toUpperCase(), timeframe: '1m' as const, params: PARAMS }],
    });
    // The same queue names on both sides: the demo's as main.sh has them, the suite's as the suite's tests have them.
    const demo = await startSession(demoClient, configOf(demoAccount), SESSION_TASK_QUEUE);
    const mine = await startSession(suite.client, configOf(suiteAccount), SESSION_TASK_QUEUE);
    const demoIds = { session: identityOf(demoSession), broker: identityOf(demoBroker) };
    const suiteIds = { session: identityOf(suite.sessionWorker), broker: identityOf(suite.brokerWorker) };
    try {
      // Both trade at the same time, frame by frame.
      await Promise.all([feedPaced(suite.pool, demo, framesOf(demoAccount)), feedPaced(suite.pool, mine, framesOf(suiteAccount))]);
      for (const h of [demo, mine]) expect((await h.query(statusQuery)).counters.framesProcessed).toBe(COUNT);

      const d = await servedBy(demo);
      const s = await servedBy(mine);
      const demoOrders = d.broker.filter((a) => a.type === 'placeOrder');
      const suiteOrders = s.broker.filter((a) => a.type === 'placeOrder');
      expect(demoOrders.length).toBeGreaterThanOrEqual(6);
      expect(suiteOrders.length).toBeGreaterThanOrEqual(6);
      // Every broker call and every workflow task of the demo by the demo's workers, and vice versa.
      expect(new Set(d.broker.map((a) => a.identity))).toEqual(new Set([demoIds.broker]));
      expect(new Set(d.workflowTasks)).toEqual(new Set([demoIds.session]));
      expect(new Set(d.activities.filter((a) => a.queue !== BROKER_QUEUE).map((a) => a.identity))).toEqual(new Set([demoIds.session]));
      // The suite's session never by the demo's workers. (Other engineers' test runs share the test
      // namespace, so its tasks may go to their suite workers: only the demo's identities are excluded.)
      const suiteServers = new Set([...s.broker.map((a) => a.identity), ...s.workflowTasks]);
      for (const id of Object.values(demoIds)) expect(suiteServers.has(id)).toBe(false);
      expect(s.broker.some((a) => a.identity === suiteIds.broker)).toBe(true);

      // And the venue agrees: the demo's orders filled at the default paper settings (1 bps spread), the suite's at the test's (2 bps).
      const demoRows = await accountRows(suite.pool, demoAccount);
      const suiteRows = await accountRows(suite.pool, suiteAccount);
      const atDefaults = expectedPaperRun(framesOf(demoAccount), 'ma-crossover', PARAMS, {}).orders.map((o) => o.price);
      const atTest = expectedPaperRun(framesOf(suiteAccount), 'ma-crossover', PARAMS, PAPER_TEST_CONFIG).orders.map((o) => o.price);
      expect(fillPrices(atDefaults)).not.toEqual(fillPrices(atTest));
      expect(fillPrices(demoRows.paperOrders.map((o) => o.fill_price))).toEqual(fillPrices(atDefaults));
      expect(fillPrices(suiteRows.paperOrders.map((o) => o.fill_price))).toEqual(fillPrices(atTest));
    } finally {
      await Promise.all([demo.terminate('isolation test done'), mine.terminate('isolation test done')]);
    }
  });
});
