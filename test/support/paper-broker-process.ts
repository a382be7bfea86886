/**
 * A paper-broker worker in a process of its own, serving `broker-<name>` (argv[2]) for this test only,
 * with the production fault point MAOTRADE_FAULT_KILL_AFTER_SUBMIT. Unlike the shared `broker-paper`
 * queue, nothing else sends orders to it, so its count-based SIGKILL hits the test's own order.
 * Run as a script (`node --import tsx test/support/paper-broker-process.ts <name>`) or spawned by
 * startPaperBrokerProcess.
 */
import { spawn } from 'node:child_process';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBrokerActivities } from '../../activities/broker-activities';
import { PaperBrokerAdapter } from '../../brokers/paper';
import { createPool } from '../../db/pool';
import { brokerTaskQueue } from '../../workflows/definitions';
import { crashAfterSubmitHook } from '../../workers/fault-injection';
import { ROOT, TEST_ENV } from './env';
import { PAPER_TEST_CONFIG } from './harness';

const READY = 'paper broker process polling';

async function serve(name: string): Promise<void> {
  const pool = createPool(TEST_ENV.MYSQL_URL);
  const connection = await NativeConnection.connect({ address: TEST_ENV.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: TEST_ENV.TEMPORAL_NAMESPACE,
    taskQueue: brokerTaskQueue(name),
    activities: createBrokerActivities({
      adapter: new PaperBrokerAdapter(pool, PAPER_TEST_CONFIG),
      tradingEnabled: true,
      afterSubmit: crashAfterSubmitHook(process.env),
    }),
  });
  process.stdout.write(`${READY}\n`);
  try {
    await worker.run(); // until SIGTERM
  } finally {
    await connection.close();
    await pool.end();
  }
}

/** Starts the process; resolves once it polls. */
export async function startPaperBrokerProcess(name: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/paper-broker-process.ts', name], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.once('exit', (_code, signal) => resolve({ signal, stderr: output })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`paper broker process ${name} did not start: ${output}`));
    }, 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`paper broker process ${name} exited during start: ${output}`)));
  });
  return {
    /** Resolves when it has exited (a fault-injected SIGKILL); fails after `timeoutMs` with what it wrote. */
    async exitedWithin(timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`paper broker process ${name} still running after ${timeoutMs} ms: ${output.slice(-3000)}`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    /** SIGTERM (it drains and stops), SIGKILL if it is still there after 10 s; resolves when it has exited. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

if (require.main === module) {
  serve(process.argv[2] ?? 'paperkb').catch((err) => {
    process.stderr.write(`paper broker process failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
