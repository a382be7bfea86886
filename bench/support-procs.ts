/**
 * Process helpers for the live benchmarks: CPU seconds of a process from /proc (to say where the time
 * goes), the pids of the shared services, and a bench worker process (bench/bench-worker.ts) started
 * and stopped by pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, TEST_ENV } from '../test/support/env';

const TICKS = 100; // USER_HZ on Linux

/** utime + stime of a process (and its reaped children), seconds; NaN when it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
  } catch {
    return NaN;
  }
}

/** The first pid whose command line matches `pattern` (pgrep -f), read-only. */
export function pidOf(pattern: string): number | undefined {
  try {
    const out = execFileSync('pgrep', ['-o', '-f', pattern], { encoding: 'utf8' }).trim();
    return out ? Number(out.split('\n')[0]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A node process started from `argv` (for example `['--import', 'tsx', 'workers/session-worker.ts']`),
 * ready once it logs a worker state RUNNING; output to .run/bench/<name>-<pid>-<start>.log. Stopped or
 * SIGKILLed by its own pid only.
 */
export class EntryProcess {
  child: ChildProcess | null = null;
  starts = 0;
  constructor(
    readonly name: string,
    readonly argv: readonly string[],
    readonly env: Record<string, string>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The log file of the latest start. */
  get logFile(): string {
    return path.join(ROOT, '.run', 'bench', `${this.name}-${process.pid}-${this.starts}.log`);
  }

  async start(timeoutMs = 120_000): Promise<void> {
    if (this.child) throw new Error(`${this.name} already running`);
    this.starts += 1;
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    const log = fs.createWriteStream(this.logFile);
    const child = spawn(process.execPath, [...this.argv], {
      cwd: ROOT,
      env: { ...process.env, ...TEST_ENV, LOG_LEVEL: 'info', TRADING_ENABLE: 'true', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${timeoutMs} ms`)), timeoutMs);
      const onData = (b: Buffer) => {
        if (b.toString().includes('"state":"RUNNING"')) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited during start (code ${code}, signal ${sig})`));
      });
    });
  }

  /** SIGKILL (a crash); resolves with the instant of the kill once the process is gone. */
  async kill(): Promise<number> {
    const child = this.child;
    if (!child) throw new Error(`${this.name} is not running`);
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await done;
    return killedAt;
  }

  async stop(graceMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(t);
  }
}

/** A bench/bench-worker.ts process (private task queues, production boot). */
export class BenchWorker extends EntryProcess {
  constructor(
    readonly kind: 'session' | 'broker',
    env: Record<string, string>,
  ) {
    super(`${kind}-worker`, ['--import', 'tsx', 'bench/bench-worker.ts', kind], env);
  }
}

/**
 * The production worker entry points: under tsx (as `npm run worker:*`, the tests and docker-compose run
 * them) or compiled by `npm run build:workers` into .run/dist (no TypeScript work at start-up).
 */
export function workerArgv(entry: 'tsx' | 'compiled', worker: 'session-worker' | 'broker-worker', ...args: string[]): string[] {
  return entry === 'tsx' ? ['--import', 'tsx', `workers/${worker}.ts`, ...args] : [`.run/dist/${worker}.js`, ...args];
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}
