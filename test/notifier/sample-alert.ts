import type { Alert } from '../../notifier/alert';

/** A trading-state alert as the log rules make it. */
export function sampleAlert(over: Partial<Alert> = {}): Alert {
  return {
    kind: 'trading-state-changed',
    key: 'trading-state:acc1:halted:1767323045000',
    tier: 'trading-critical',
    severity: 'critical',
    title: 'account acc1: trading halted',
    text: 'Trading state set to halted from active by alice: broker outage. Nothing passes; broker-side stops stay in place.',
    account: 'acc1',
    at: Date.UTC(2026, 0, 2, 3, 4, 5),
    fields: { account: 'acc1', from: 'active', to: 'halted', by: 'alice', reason: 'broker outage', source: 'command' },
    ...over,
  };
}
