/** A way to reach a person. `send` resolves once the far end accepted the message. */
import type { Alert } from './alert';

export interface Channel {
  readonly name: string;
  send(alert: Alert): Promise<void>;
}

/**
 * A delivery that failed. `retryable`: a later try may succeed (network error, 5xx, 429). Its message
 * never holds a secret: channels build it from the status and the far end's description only, and
 * pass it through `redact` with their secrets.
 */
export class ChannelError extends Error {
  constructor(
    readonly channel: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`${channel}: ${message}`);
    this.name = 'ChannelError';
  }
}

/** Replaces every occurrence of each secret (and its URL-encoded form) with [redacted]. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** A fetch to a channel's endpoint; network failures and timeouts become a retryable ChannelError. */
export async function post(channel: string, url: string, init: RequestInit & { timeoutMs?: number }, secrets: readonly (string | undefined)[]): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new ChannelError(channel, redact(`cannot reach the endpoint: ${why}`, secrets), true);
  }
}

/** An HTTP answer that is not 2xx: 5xx and 429 may pass later, other 4xx will not. */
export async function httpFailure(channel: string, res: Response, secrets: readonly (string | undefined)[]): Promise<ChannelError> {
  const body = (await res.text().catch(() => '')).slice(0, 200);
  return new ChannelError(channel, redact(`HTTP ${res.status}${body ? `: ${body}` : ''}`, secrets), res.status >= 500 || res.status === 429);
}
