/**
 * De-duplication like Nagios' renotify: an alert whose key was sent less than its tier's renotify
 * period ago is not sent again. A key whose severity changed (warning → critical, or a recovery) is
 * news and goes out at once. In memory: a restarted notifier may send an alert once more.
 */
import { DEFAULT_RENOTIFY_MS, type Alert, type AlertSeverity, type AlertTier } from './alert';

export class Deduplicator {
  private readonly sent = new Map<string, { at: number; severity: AlertSeverity }>();
  private readonly renotifyMs: Record<AlertTier, number>;

  constructor(renotifyMs: Partial<Record<AlertTier, number>> = {}) {
    this.renotifyMs = { ...DEFAULT_RENOTIFY_MS, ...renotifyMs };
  }

  /** Whether to send `alert` at `now`; when true, the send is recorded. */
  admit(alert: Alert, now: number): boolean {
    const last = this.sent.get(alert.key);
    if (last && last.severity === alert.severity && now - last.at < this.renotifyMs[alert.tier]) return false;
    this.sent.set(alert.key, { at: now, severity: alert.severity });
    this.prune(now);
    return true;
  }

  /** Forgets a key (its send failed everywhere), so the next occurrence goes out. */
  forget(key: string): void {
    this.sent.delete(key);
  }

  /** Forgets keys older than the longest period, so the map stays small. */
  private prune(now: number): void {
    if (this.sent.size < 10_000) return;
    const longest = Math.max(...Object.values(this.renotifyMs));
    for (const [k, v] of this.sent) if (now - v.at >= longest) this.sent.delete(k);
  }
}
