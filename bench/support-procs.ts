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

/** A bench/bench-worker.ts process; output to .run/bench/<name>.log. */
export class BenchWorker {
  child: ChildProcess | null = null;
  constructor(
    readonly kind: 'session' | 'broker',
    readonly env: Record<string, string>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 120_000): Promise<void> {
    const dir = path.join(ROOT, '.run', 'bench');
    fs.mkdirSync(dir, { recursive: true });
    const log = fs.createWriteStream(path.join(dir, `${this.kind}-worker-${process.pid}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bench-worker.ts', this.kind], {
      cwd: ROOT,
      env: { ...process.env, ...TEST_ENV, LOG_LEVEL: 'info', TRADING_ENABLE: 'true', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} bench worker did not start within ${timeoutMs} ms`)), timeoutMs);
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
        reject(new Error(`${this.kind} bench worker exited during start (code ${code}, signal ${sig})`));
      });
    });
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
