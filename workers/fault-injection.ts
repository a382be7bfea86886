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
