import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createPool, type Pool } from '../../db/pool';
import { MarketDataStore } from '../../db/market-data-store';
import { createStoreActivities } from '../../activities/store-activities';
import { createBrokerActivities } from '../../activities/broker-activities';
import { createFeederActivities } from '../../activities/feeder-activities';
import type { BrokerAdapter } from '../../brokers/adapter';
import { PaperBrokerAdapter, type PaperConfig } from '../../brokers/paper';
import { SESSION_TASK_QUEUE, SA_ACCOUNT, SA_BROKER, SA_STATUS, brokerTaskQueue, sessionWorkflowId, statusQuery, submitFramesUpdate } from '../../workflows/definitions';
import type { accountSession } from '../../workflows/account-session';
import type { SessionConfigInput } from '../../workflows/session-config';
import { streamKey, type Frame } from '../../market/frame';
import { TEST_ENV, WORKFLOW_BUNDLE } from './env';

export const PAPER_TEST_CONFIG: Partial<PaperConfig> = { spreadBps: 2, slippageBps: 1, initialBalance: 100_000 };

export async function temporalClient(): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  return { client: new Client({ connection, namespace: TEST_ENV.TEMPORAL_NAMESPACE }), connection };
}

/**
 * The session worker and the paper-broker worker, in this process, against the real services. The
 * session task queue is private to this process (`maotrade-sessions-<pid>`), so concurrent test runs
 * and the worker processes of other tests never take each other's sessions; start sessions on it.
 */
export async function startInProcessWorkers(
  opts: {
    brokerTradingEnabled?: boolean;
    paper?: Partial<PaperConfig>;
    /** Extra broker adapters by broker name (each served on `broker-<name>`), e.g. IG against its fake server. */
    brokers?: Record<string, BrokerAdapter>;
    sessionDefaults?: { tradingEnabled: boolean; dailyCleanTime: string };
  } = {},
) {
  const connection = await NativeConnection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const clientConnection = await Connection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: TEST_ENV.TEMPORAL_NAMESPACE });
  const pool = createPool(TEST_ENV.MYSQL_URL);
  const taskQueue = `${SESSION_TASK_QUEUE}-${process.pid}`;
  const session = await Worker.create({
    connection,
    namespace: TEST_ENV.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowBundle: { codePath: WORKFLOW_BUNDLE },
    activities: {
      ...createStoreActivities({ pool, mysqlUrl: TEST_ENV.MYSQL_URL }),
      ...createFeederActivities({
        pool,
        client,
        sessionDefaults: opts.sessionDefaults ?? { tradingEnabled: true, dailyCleanTime: '23:45' },
        sessionTaskQueue: taskQueue,
      }),
    },
  });
  const adapters: Record<string, BrokerAdapter> = { paper: new PaperBrokerAdapter(pool, opts.paper ?? PAPER_TEST_CONFIG), ...opts.brokers };
  const brokerWorkers = await Promise.all(
    Object.entries(adapters).map(([name, adapter]) =>
      Worker.create({
        connection,
        namespace: TEST_ENV.TEMPORAL_NAMESPACE,
        taskQueue: brokerTaskQueue(name),
        activities: createBrokerActivities({ adapter, tradingEnabled: opts.brokerTradingEnabled ?? true }),
      }),
    ),
  );
  const running = Promise.all([session.run(), ...brokerWorkers.map((w) => w.run())]);
  return {
    pool,
    taskQueue,
    client,
    async stop() {
      session.shutdown();
      for (const w of brokerWorkers) w.shutdown();
      await running;
      await connection.close();
      await clientConnection.close();
      await pool.end();
    },
  };
}

export async function startSession(
  client: Client,
  config: SessionConfigInput,
  taskQueue: string = SESSION_TASK_QUEUE,
): Promise<WorkflowHandle<typeof accountSession>> {
  return client.workflow.start<typeof accountSession>('accountSession', {
    taskQueue,
    workflowId: sessionWorkflowId(config.account),
    args: [{ config }],
    typedSearchAttributes: [
      { key: SA_ACCOUNT, value: config.account },
      { key: SA_BROKER, value: config.broker },
      { key: SA_STATUS, value: 'running' },
    ],
  });
}

/** Stores frames in maodata first (the venue's price feed and the backfill source), then submits them. */
export async function feedFrames(pool: Pool, handle: WorkflowHandle, frames: Frame[]): Promise<void> {
  await new MarketDataStore(pool).upsertCandles(frames);
  await handle.executeUpdate(submitFramesUpdate, { args: [frames] });
}

/** Waits until the session has processed the frame starting at `start` on its stream. */
export async function waitForFrame(handle: WorkflowHandle, frame: Frame, timeoutMs = 60_000): Promise<void> {
  const key = streamKey(frame.symbol, frame.timeframe);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await handle.query(statusQuery);
    if ((s.lastFrames[key] ?? -1) >= frame.start) return;
    if (Date.now() > deadline) throw new Error(`session did not process frame ${frame.start} within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Feeds frames one at a time, each after the previous one was processed: a live market's pace. */
export async function feedPaced(pool: Pool, handle: WorkflowHandle, frames: Frame[]): Promise<void> {
  for (const f of frames) {
    await feedFrames(pool, handle, [f]);
    await waitForFrame(handle, f);
  }
}
