/**
 * The periodic part: sessions that stop receiving frames, stop running (failed, terminated) or stop
 * answering raise no log line, so every `sessionCheckMs` the notifier runs the Nagios session check
 * (ops/checks/session.ts) on every running session and on the accounts it is told to watch
 * (NOTIFIER_ACCOUNTS, so a session that failed is still looked at). A WARNING or CRITICAL result is an
 * alert (renotified by the deduplicator like Nagios); the first OK after one is a recovery.
 */
import type { Alert } from './alert';
import { checkSession } from '../ops/checks/session';
import { connectTemporal, type TemporalTarget } from '../ops/checks/temporal';
import type { CheckResult } from '../ops/checks/plugin';
import { accountOf, runningSessionsQuery } from '../fleet/sessions-query';

export interface SessionWatchOptions {
  temporal: TemporalTarget;
  /** Accounts checked even when no session of theirs is running. */
  accounts: readonly string[];
  frameWarningS: number;
  frameCriticalS: number;
  /** Replaceable for tests: the check of one account, the running accounts. */
  check?: (account: string) => Promise<CheckResult>;
  listRunning?: () => Promise<string[]>;
  now?: () => number;
}

export class SessionWatch {
  private readonly last = new Map<string, CheckResult['status']>();

  constructor(private readonly opts: SessionWatchOptions) {}

  private async running(): Promise<string[]> {
    if (this.opts.listRunning) return this.opts.listRunning();
    const { client, connection } = await connectTemporal(this.opts.temporal);
    try {
      const out: string[] = [];
      for await (const wf of client.workflow.list({ query: runningSessionsQuery(), pageSize: 200 })) out.push(accountOf(wf));
      return out;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  private check(account: string): Promise<CheckResult> {
    if (this.opts.check) return this.opts.check(account);
    return checkSession({
      ...this.opts.temporal,
      account,
      warning: String(this.opts.frameWarningS),
      critical: String(this.opts.frameCriticalS),
    });
  }

  /** One round: the alerts of every session whose check is not OK, and the recoveries. */
  async round(): Promise<Alert[]> {
    const accounts = [...new Set([...this.opts.accounts, ...(await this.running())])].sort();
    const at = (this.opts.now ?? Date.now)();
    const alerts: Alert[] = [];
    for (const account of accounts) {
      const r = await this.check(account);
      const before = this.last.get(account);
      this.last.set(account, r.status);
      if (r.status === 'OK' && (before === undefined || before === 'OK')) continue;
      const severity = r.status === 'OK' ? 'ok' : r.status === 'CRITICAL' ? 'critical' : 'warning';
      const frameAge = r.perfdata.find((p) => p.label === 'frame_age')?.value;
      alerts.push({
        kind: 'session-check',
        key: `session:${account}`,
        tier: 'trading-critical',
        severity,
        account,
        at,
        title: r.status === 'OK' ? `session ${account} OK again` : `session ${account} ${r.status}`,
        text: r.message,
        fields: { status: r.status, ...(frameAge !== undefined ? { frameAgeS: frameAge } : {}) },
      });
    }
    return alerts;
  }
}
