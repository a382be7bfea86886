import { spawn } from 'node:child_process';
import path from 'node:path';

export const STACK_ACTIONS = ['up', 'down', 'status'] as const;

/** `maotrade stack up|down|status` is `bash scripts/stack.sh <action>`, output passed through; resolves to its exit code. */
export function runStack(action: (typeof STACK_ACTIONS)[number], root = path.join(__dirname, '..')): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(root, 'scripts', 'stack.sh'), action], { cwd: root, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}
