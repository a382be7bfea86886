/**
 * Retry with exponential backoff (cockatiel): a delivery that failed in a way a later try may fix
 * (network error, 5xx, 429: `ChannelError.retryable`) is tried again, up to `retries` more times;
 * anything else (a 4xx, a bad address) fails at once.
 */
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { ChannelError } from './channel';

export interface RetryOptions {
  /** Tries after the first; default 4. */
  retries?: number;
  /** First delay, ms; default 500. */
  initialDelayMs?: number;
  /** Longest delay, ms; default 30,000. */
  maxDelayMs?: number;
}

export function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy = retry(
    handleWhen((err) => err instanceof ChannelError && err.retryable),
    {
      maxAttempts: opts.retries ?? 4,
      backoff: new ExponentialBackoff({ initialDelay: opts.initialDelayMs ?? 500, maxDelay: opts.maxDelayMs ?? 30_000 }),
    },
  );
  return policy.execute(() => fn());
}
