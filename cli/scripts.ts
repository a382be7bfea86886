import { spawn } from 'node:child_process';
import path from 'node:path';

/** Runs one of the project's scripts (scripts/<name>.ts) with the given arguments, output passed through. */
export function runScript(name: 'backtest' | 'import-candles', args: string[], root = path.join(__dirname, '..')): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', `${name}.ts`), ...args], { cwd: root, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}
