/**
 * A generic webhook: POST of the alert as JSON (`alertPayload`), signed with HMAC-SHA256 over the exact
 * body bytes with a shared secret. Headers: `X-MAOTrade-Signature: sha256=<hex>`,
 * `X-MAOTrade-Timestamp` (epoch ms, also inside the signed body as `at`), `X-MAOTrade-Alert-Key`.
 * The receiver recomputes the HMAC of the raw body and compares in constant time.
 */
import { createHmac } from 'node:crypto';
import { alertPayload, type Alert } from './alert';
import { httpFailure, post, type Channel } from './channel';

export const SIGNATURE_HEADER = 'x-maotrade-signature';

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs?: number;
}

/** `sha256=<hex>` of the body under the secret. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export class WebhookChannel implements Channel {
  readonly name = 'webhook';
  constructor(private readonly opts: WebhookOptions) {}

  async send(alert: Alert): Promise<void> {
    const body = JSON.stringify(alertPayload(alert));
    const secrets = [this.opts.secret];
    const res = await post(
      this.name,
      this.opts.url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signBody(body, this.opts.secret),
          'x-maotrade-timestamp': String(alert.at),
          'x-maotrade-alert-key': alert.key,
        },
        body,
        timeoutMs: this.opts.timeoutMs,
      },
      secrets,
    );
    if (!res.ok) throw await httpFailure(this.name, res, secrets);
    await res.body?.cancel().catch(() => undefined);
  }
}
