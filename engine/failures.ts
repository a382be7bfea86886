/**
 * How the engine reads a failed effect. A driver hands back whatever the call threw: an activity failure
 * whose `cause` names the broker's error type, or a plain error. Read by shape, so no Temporal import.
 */
import { NON_RETRYABLE_BROKER_ERRORS } from '../brokers/errors';

interface FailureCause {
  type?: string;
  message?: string;
  nonRetryable?: boolean;
}

function causeOf(err: unknown): FailureCause | undefined {
  return (err as { cause?: FailureCause } | null)?.cause;
}

/** The broker's own message when there is one, else the error itself. */
export function failureMessage(err: unknown): string {
  return causeOf(err)?.message ?? String(err);
}

/** The broker refused for good (its error class is non-retryable): `type: message`; null when it may still succeed. */
export function brokerRefusal(err: unknown): string | null {
  const cause = causeOf(err);
  return cause?.type && NON_RETRYABLE_BROKER_ERRORS.includes(cause.type) ? `${cause.type}: ${cause.message}` : null;
}

/** No retry of the same call can fix it (the activity's failure is non-retryable): a person must look (engine/degraded.ts). */
export function needsPerson(err: unknown): boolean {
  const cause = causeOf(err);
  if (!cause) return false;
  return cause.nonRetryable === true || (cause.type !== undefined && NON_RETRYABLE_BROKER_ERRORS.includes(cause.type));
}
