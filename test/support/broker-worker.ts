import { NativeConnection, Worker } from '@temporalio/worker';
import { createBrokerActivities } from '../../activities/broker-activities';
import type { BrokerAdapter } from '../../brokers/adapter';
import { brokerTaskQueue } from '../../workflows/definitions';
import { TEST_ENV } from './env';

/**
 * One broker worker in this process serving `broker-<name>` with any adapter (a wrapped or faulty one),
 * for sessions run by the session worker processes: nothing else serves that task queue.
 */
export async function startBrokerWorker(name: string, adapter: BrokerAdapter): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: TEST_ENV.TEMPORAL_NAMESPACE,
    taskQueue: brokerTaskQueue(name),
    activities: createBrokerActivities({ adapter, tradingEnabled: true }),
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
