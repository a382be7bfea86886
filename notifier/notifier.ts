/**
 * Sends each alert to every configured channel: de-duplicated first (notifier/dedup.ts), then each
 * channel on its own with retry and backoff (notifier/retry.ts), so one failing channel neither blocks
 * nor repeats another. A failure is logged with the channel's (secret-free) message; when every channel
 * failed, the alert is forgotten by the deduplicator so its next occurrence is tried again.
 */
import type { Logger } from 'pino';
import type { Alert } from './alert';
import type { Channel } from './channel';
import type { Deduplicator } from './dedup';
import { withRetry, type RetryOptions } from './retry';

export interface NotifyResult {
  suppressed: boolean;
  sent: string[];
  failed: { channel: string; error: string }[];
}

export interface NotifierOptions {
  retry?: RetryOptions;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  now?: () => number;
}

export class Notifier {
  constructor(
    private readonly channels: readonly Channel[],
    private readonly dedup: Deduplicator,
    private readonly opts: NotifierOptions = {},
  ) {}

  get channelNames(): string[] {
    return this.channels.map((c) => c.name);
  }

  async notify(alert: Alert): Promise<NotifyResult> {
    const now = (this.opts.now ?? Date.now)();
    if (!this.dedup.admit(alert, now)) return { suppressed: true, sent: [], failed: [] };
    const results = await Promise.allSettled(this.channels.map((c) => withRetry(() => c.send(alert), this.opts.retry)));
    const out: NotifyResult = { suppressed: false, sent: [], failed: [] };
    results.forEach((r, i) => {
      const channel = this.channels[i].name;
      if (r.status === 'fulfilled') out.sent.push(channel);
      else out.failed.push({ channel, error: (r.reason as Error)?.message ?? String(r.reason) });
    });
    for (const f of out.failed) this.opts.logger?.error({ channel: f.channel, alertKey: alert.key, kind: alert.kind, error: f.error }, 'notifier: alert not delivered');
    if (out.sent.length) this.opts.logger?.info({ channels: out.sent, alertKey: alert.key, kind: alert.kind, severity: alert.severity }, 'notifier: alert sent');
    if (out.sent.length === 0 && out.failed.length > 0) this.dedup.forget(alert.key);
    return out;
  }
}
