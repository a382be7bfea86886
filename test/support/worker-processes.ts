import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../db/pool';
import { ROOT, TEST_ENV, WORKFLOW_BUNDLE } from './env';
import { PAPER_TEST_CONFIG, temporalClient } from './harness';

export type WorkerKind = 'session' | 'broker-paper';

/** The compiled workers (`.run/dist`, built by the global setup from the current sources), as deployed. */
const ENTRY: Record<WorkerKind, string[]> = {
  session: ['.run/dist/session-worker.js'],
  'broker-paper': ['.run/dist/broker-worker.js', 'paper'],
};

/**
 * A real worker process (the production entry point), started and SIGKILLed by the test. Its output
 * goes to `.run/test-logs/<name>.log` so a failing test can be read afterwards.
 */
export class WorkerProcess {
  private child: ChildProcess | null = null;
  private starts = 0;
  constructor(
    readonly kind: WorkerKind,
    private readonly env: Record<string, string> = {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once it polls its task queue. */
  async start(extraEnv: Record<string, string> = {}, timeoutMs = 60_000): Promise<void> {
    if (this.child) throw new Error(`${this.kind} worker already running`);
    this.starts += 1;
    const logDir = path.join(ROOT, '.run', 'test-logs');
    fs.mkdirSync(logDir, { recursive: true });
    const log = fs.createWriteStream(path.join(logDir, `${this.kind}-${process.pid}-${this.starts}.log`));
    const child = spawn(process.execPath, ENTRY[this.kind], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...TEST_ENV,
        LOG_LEVEL: 'info',
        TRADING_ENABLE: 'true',
        MAOTRADE_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE,
        ...this.env,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.on('exit', () => {
      if (this.child === child) this.child = null;
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} worker did not start within ${timeoutMs} ms`)), timeoutMs);
      const onData = (buf: Buffer) => {
        if (buf.toString().includes('"state":"RUNNING"')) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.kind} worker exited during start (code ${code}, signal ${signal})`));
      });
    });
  }

  /** Resolves when the process has exited (for example after a fault-injected self-kill). */
  async exited(timeoutMs = 60_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} worker still running after ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** SIGKILL: no shutdown, no flush, no goodbye — a crash. */
  async kill(): Promise<number> {
    const child = this.child;
    if (!child) throw new Error(`${this.kind} worker is not running`);
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await done;
    return killedAt;
  }

  /** Graceful stop (SIGTERM), then SIGKILL after a grace period. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
  }
}

/** The production worker processes (session + paper broker) plus a pool and a client, for one test file. */
export interface ProcessStack {
  sessionWorker: WorkerProcess;
  brokerWorker: WorkerProcess;
  pool: Pool;
  client: Client;
}

/** Starts the worker processes before the file's tests and stops them after; the paper venue uses PAPER_TEST_CONFIG. */
export function useProcessWorkers(): ProcessStack {
  const stack = {} as ProcessStack & { connection: Connection };
  beforeAll(async () => {
    const env = { PAPER_SPREAD_BPS: String(PAPER_TEST_CONFIG.spreadBps), PAPER_SLIPPAGE_BPS: String(PAPER_TEST_CONFIG.slippageBps) };
    stack.sessionWorker = new WorkerProcess('session', env);
    stack.brokerWorker = new WorkerProcess('broker-paper', env);
    await Promise.all([stack.sessionWorker.start(), stack.brokerWorker.start()]);
    stack.pool = createPool(TEST_ENV.MYSQL_URL);
    ({ client: stack.client, connection: stack.connection } = await temporalClient());
  });
  afterAll(async () => {
    await Promise.all([stack.sessionWorker?.stop(), stack.brokerWorker?.stop()]);
    await stack.connection?.close();
    await stack.pool?.end();
  });
  return stack;
}
