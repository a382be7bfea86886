import { ApplicationFailure } from '@temporalio/common';
import { BrokerError } from '../brokers/errors';

/**
 * Maps typed errors onto Temporal failures: the failure type is the error's class name, and errors
 * that say they are not retryable become non-retryable failures, so the retry policy stops at once.
 * A BrokerError's flag is its class's static `retryable` (brokers/errors.ts), the same flag that
 * NON_RETRYABLE_BROKER_ERRORS is derived from, so the failure and the workflow's retry policy agree;
 * other errors (config, frames, systems) are read by shape (`retryable === false`).
 */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof BrokerError || (err instanceof Error && (err as { retryable?: unknown }).retryable === false)) {
    const e = err as Error & { retryable: boolean; retryAfterMs?: number };
    return ApplicationFailure.create({
      type: e.name,
      message: e.message,
      nonRetryable: !e.retryable,
      ...(e.retryAfterMs ? { nextRetryDelay: e.retryAfterMs } : {}),
    });
  }
  return err;
}

/** Wraps every function of an activities object so thrown errors go through `toFailure`. */
export function withFailureMapping<T extends Record<string, (...args: any[]) => Promise<any>>>(acts: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    out[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
  }
  return out as T;
}
