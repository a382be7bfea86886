/**
 * A protection's block on entries: `since <= now < until`. Exits always pass a lock (only the trading
 * state can stop them). Locks are plain data so they survive continue-as-new.
 */
export interface ProtectionLock {
  /** Deterministic: `${kind}:${symbol ?? '*'}:${since}`. */
  id: string;
  kind: 'stop-loss-guard' | 'loss-cooldown' | 'session-closed';
  /** Undefined = every symbol. */
  symbol?: string;
  /** Epoch ms, inclusive. */
  since: number;
  /** Epoch ms, exclusive: at `until` the lock has expired. */
  until: number;
  reason: string;
}

export type ProtectionLockKind = ProtectionLock['kind'];

export function lockActive(lock: ProtectionLock, now: number): boolean {
  return lock.since <= now && now < lock.until;
}

/** The locks still in force at `now` (the workflow drops the rest). */
export function activeLocks(locks: readonly ProtectionLock[], now: number): ProtectionLock[] {
  return locks.filter((l) => lockActive(l, now));
}

/** The first lock blocking entries on `symbol` at `now`, or undefined. */
export function lockFor(locks: readonly ProtectionLock[], symbol: string, now: number): ProtectionLock | undefined {
  return locks.find((l) => lockActive(l, now) && (l.symbol === undefined || l.symbol === symbol));
}

export function lockId(kind: ProtectionLockKind, symbol: string | undefined, since: number): string {
  return `${kind}:${symbol ?? '*'}:${since}`;
}
