import { activeLocks, lockActive, lockFor, lockId, type ProtectionLock } from '../../risk/locks';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const lock = (over: Partial<ProtectionLock>): ProtectionLock => ({
  id: 'x',
  kind: 'loss-cooldown',
  symbol: 'EURUSD',
  since: T,
  until: T + 60_000,
  reason: 'test',
  ...over,
});

describe('locks', () => {
  it('a lock is in force from since (inclusive) to until (exclusive)', () => {
    const l = lock({});
    expect(lockActive(l, T - 1)).toBe(false);
    expect(lockActive(l, T)).toBe(true);
    expect(lockActive(l, T + 59_999)).toBe(true);
    expect(lockActive(l, T + 60_000)).toBe(false);
  });

  it('activeLocks keeps only the locks in force', () => {
    const a = lock({ id: 'a' });
    const b = lock({ id: 'b', until: T + 1_000 });
    expect(activeLocks([a, b], T + 500).map((l) => l.id)).toEqual(['a', 'b']);
    expect(activeLocks([a, b], T + 1_000).map((l) => l.id)).toEqual(['a']);
    expect(activeLocks([a, b], T + 60_000)).toEqual([]);
  });

  it('lockFor finds a lock on the symbol, or on every symbol, and nothing once it expired', () => {
    const onEur = lock({ id: 'eur' });
    const onAll = lock({ id: 'all', kind: 'stop-loss-guard', symbol: undefined, until: T + 120_000 });
    expect(lockFor([onEur], 'GBPUSD', T)).toBeUndefined();
    expect(lockFor([onEur], 'EURUSD', T)?.id).toBe('eur');
    expect(lockFor([onEur, onAll], 'GBPUSD', T)?.id).toBe('all');
    expect(lockFor([onEur, onAll], 'EURUSD', T)?.id).toBe('eur');
    expect(lockFor([onEur, onAll], 'EURUSD', T + 60_000)?.id).toBe('all');
    expect(lockFor([onEur, onAll], 'EURUSD', T + 120_000)).toBeUndefined();
  });

  it('lock ids are the kind, the symbol (or *) and the start', () => {
    expect(lockId('loss-cooldown', 'EURUSD', T)).toBe(`loss-cooldown:EURUSD:${T}`);
    expect(lockId('stop-loss-guard', undefined, T)).toBe(`stop-loss-guard:*:${T}`);
  });
});
