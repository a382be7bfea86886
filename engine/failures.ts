/**
 * How the engine reads a failed effect. A driver hands back whatever the call threw: an activity failure
 * whose `cause` names the broker's error type, or a plain error. Read by shape, so no Temporal import.
 */
import { NON_RETRYABLE_BROKER_ERRORS } from '../brokers/errors';

interface FailureCause {
  type?: string;
  message?: string;
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
