import type { OrderReport } from '../brokers/adapter';

/**
 * Crash-test fault point: with MAOTRADE_FAULT_KILL_AFTER_SUBMIT=N the broker worker SIGKILLs itself
 * right after the N-th order it submitted was accepted by the broker, before the activity reports back:
 * the "order sent, acknowledgement lost" case of invariant 1. Unset in every real deployment.
 */
export function crashAfterSubmitHook(env: NodeJS.ProcessEnv): ((report: OrderReport) => void) | undefined {
  const n = Number(env.MAOTRADE_FAULT_KILL_AFTER_SUBMIT ?? '');
  if (!Number.isInteger(n) || n <= 0) return undefined;
  let submitted = 0;
  return (report) => {
    if (report.status !== 'filled') return;
    submitted += 1;
    if (submitted === n) {
      process.stderr.write(`fault injection: SIGKILL after submitting ${report.clientOrderId}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
}

/**
 * Crash-test fault point: with MAOTRADE_FAULT_KILL_BEFORE=<activity>:<n> the worker SIGKILLs itself
 * when the n-th call of that activity starts (e.g. `recordOutcome:3`: the broker has answered, the
 * store has not been written). Returns the activities unchanged when the variable is unset.
 */
export function withCrashBefore<T extends Record<string, (...args: any[]) => Promise<any>>>(acts: T, env: NodeJS.ProcessEnv): T {
  const spec = env.MAOTRADE_FAULT_KILL_BEFORE;
  if (!spec) return acts;
  const [name, nth] = spec.split(':');
  const n = Number(nth);
  if (!(name in acts) || !Number.isInteger(n) || n <= 0) throw new Error(`MAOTRADE_FAULT_KILL_BEFORE: expected <activity>:<n>, got "${spec}"`);
  let calls = 0;
  const original = acts[name];
  return {
    ...acts,
    [name]: async (...args: unknown[]) => {
      calls += 1;
      if (calls === n) {
        process.stderr.write(`fault injection: SIGKILL before ${name} call ${n}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      return original(...args);
    },
  };
}
