import { execFile } from 'node:child_process';
import path from 'node:path';
import { ROOT, TEST_ENV } from '../support/env';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI process (`node --import tsx cli/maotrade.ts ...`) against the test services. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'cli', 'maotrade.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, ...TEST_ENV, LOG_LEVEL: 'silent', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}
