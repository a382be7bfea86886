import {
  ProtectionsConfigSchema,
  initialProtectionState,
  nextUtcMidnight,
  onEquity,
  onTradeClosed,
  utcDay,
  type ProtectionState,
  type ProtectionsConfig,
} from '../../risk/protections';

const DAY1 = Date.UTC(2026, 10, 25, 9, 0, 0);
const DAY2 = Date.UTC(2026, 10, 26, 0, 0, 0);
const MIN = 60_000;

const cfg = (input: unknown): ProtectionsConfig => ProtectionsConfigSchema.parse(input);
const state = (over: Partial<ProtectionState> = {}): ProtectionState => ({ ...initialProtectionState(10_000, DAY1), ...over });

describe('ProtectionsConfigSchema', () => {
  it('is empty (every protection off) when absent', () => {
    expect(ProtectionsConfigSchema.parse(undefined)).toEqual({});
    expect(ProtectionsConfigSchema.parse({})).toEqual({});
  });

  it('fills the defaults of each protection given', () => {
    expect(cfg({ dailyLoss: { limit: 500 }, maxDrawdown: { pct: 10 }, stopLossGuard: {}, lossCooldown: {} })).toEqual({
      dailyLoss: { limit: 500, action: 'reducing' },
      maxDrawdown: { pct: 10, action: 'halted' },
      stopLossGuard: { maxStops: 3, windowMinutes: 60, cooldownMinutes: 60 },
      lossCooldown: { minutes: 30 },
    });
  });

  it.each([
    [{ dailyLoss: { limit: 0 } }, 'dailyLoss.limit must be positive'],
    [{ dailyLoss: { limit: 5, action: 'active' } }, 'dailyLoss.action must be reducing or halted'],
    [{ maxDrawdown: { pct: 0 } }, 'maxDrawdown.pct must be above 0'],
    [{ maxDrawdown: { pct: 100 } }, 'maxDrawdown.pct must be below 100'],
    [{ stopLossGuard: { maxStops: 0 } }, 'stopLossGuard.maxStops must be at least 1'],
    [{ stopLossGuard: { maxStops: 1.5 } }, 'stopLossGuard.maxStops must be a whole number'],
    [{ stopLossGuard: { windowMinutes: -1 } }, 'stopLossGuard.windowMinutes must be positive'],
    [{ stopLossGuard: { cooldownMinutes: 0 } }, 'stopLossGuard.cooldownMinutes must be positive'],
    [{ lossCooldown: { minutes: 0 } }, 'lossCooldown.minutes must be positive'],
  ])('%j is refused: %s', (input, message) => {
    const r = ProtectionsConfigSchema.safeParse(input);
    expect(r.success ? '' : r.error.issues.map((i) => i.message).join('; ')).toBe(message);
  });

  it('refuses unknown fields by name', () => {
    const r = ProtectionsConfigSchema.safeParse({ dailyLoss: { limit: 5, pct: 3 } });
    expect(r.success ? '' : r.error.issues[0].message).toContain("'pct'");
  });
});

describe('UTC days', () => {
  it('utcDay and nextUtcMidnight follow UTC', () => {
    expect(utcDay(DAY1)).toBe('2026-11-25');
    expect(utcDay(DAY2 - 1)).toBe('2026-11-25');
    expect(utcDay(DAY2)).toBe('2026-11-26');
    expect(nextUtcMidnight(DAY1)).toBe(DAY2);
    expect(nextUtcMidnight(DAY2 - 1)).toBe(DAY2);
    expect(nextUtcMidnight(DAY2)).toBe(DAY2 + 86_400_000);
  });

  it('the initial state starts the day and the peak at the equity', () => {
    expect(initialProtectionState(10_000, DAY1)).toEqual({ day: '2026-11-25', dayStartEquity: 10_000, peakEquity: 10_000, stopTimes: [] });
  });
});

describe('onEquity', () => {
  it('raises the peak and keeps the day start within the day', () => {
    const r = onEquity(state(), 10_500, DAY1 + MIN, cfg({}));
    expect(r).toEqual({ state: { day: '2026-11-25', dayStartEquity: 10_000, peakEquity: 10_500, stopTimes: [] }, breach: null, dayRolled: false });
    expect(onEquity(r.state, 10_200, DAY1 + 2 * MIN, cfg({})).state.peakEquity).toBe(10_500);
  });

  it('rolls the UTC day: the day start equity becomes the equity at the roll', () => {
    const r = onEquity(state({ peakEquity: 11_000 }), 9_000, DAY2, cfg({}));
    expect(r.dayRolled).toBe(true);
    expect(r.state).toEqual({ day: '2026-11-26', dayStartEquity: 9_000, peakEquity: 11_000, stopTimes: [] });
  });

  it('a daily loss reaching the limit is a breach, just under is not', () => {
    const c = cfg({ dailyLoss: { limit: 1_000 } });
    expect(onEquity(state(), 9_000.01, DAY1 + MIN, c).breach).toBeNull();
    expect(onEquity(state(), 9_000, DAY1 + MIN, c).breach).toEqual({
      protection: 'daily-loss',
      action: 'reducing',
      detail: 'daily loss 1,000 (day start equity 10,000, equity 9,000) reaches dailyLoss.limit 1,000',
      numbers: { dayStartEquity: 10_000, equity: 9_000, loss: 1_000, limit: 1_000 },
    });
  });

  it('the daily loss is measured from the new day start after a roll', () => {
    const c = cfg({ dailyLoss: { limit: 1_000, action: 'halted' } });
    const r = onEquity(state({ dayStartEquity: 10_000 }), 8_500, DAY2, c);
    expect(r.breach).toBeNull();
    expect(onEquity(r.state, 7_500, DAY2 + MIN, c).breach).toMatchObject({ protection: 'daily-loss', action: 'halted', numbers: { loss: 1_000 } });
  });

  it('a drawdown from the peak reaching the pct is a breach, just under is not', () => {
    const c = cfg({ maxDrawdown: { pct: 20 } });
    const peaked = onEquity(state(), 12_000, DAY1 + MIN, c).state;
    expect(onEquity(peaked, 9_600.01, DAY1 + 2 * MIN, c).breach).toBeNull();
    expect(onEquity(peaked, 9_600, DAY1 + 2 * MIN, c).breach).toEqual({
      protection: 'max-drawdown',
      action: 'halted',
      detail: 'drawdown 20% (peak equity 12,000, equity 9,600) reaches maxDrawdown.pct 20%',
      numbers: { peakEquity: 12_000, equity: 9_600, drawdownPct: 20, limitPct: 20 },
    });
  });

  it('the peak is raised before the drawdown is measured, and survives a day roll', () => {
    const c = cfg({ maxDrawdown: { pct: 10, action: 'reducing' } });
    const r = onEquity(state(), 20_000, DAY2, c);
    expect(r.breach).toBeNull();
    expect(onEquity(r.state, 18_000, DAY2 + MIN, c).breach).toMatchObject({ protection: 'max-drawdown', action: 'reducing' });
  });

  it('reports the daily loss first when both are breached', () => {
    const c = cfg({ dailyLoss: { limit: 100 }, maxDrawdown: { pct: 1 } });
    expect(onEquity(state(), 5_000, DAY1 + MIN, c).breach?.protection).toBe('daily-loss');
  });

  it('no protection configured: no breach whatever the loss', () => {
    expect(onEquity(state(), 1, DAY1 + MIN, cfg({})).breach).toBeNull();
  });
});

describe('onTradeClosed: stop-loss guard', () => {
  const c = cfg({ stopLossGuard: { maxStops: 3, windowMinutes: 60, cooldownMinutes: 45 } });
  const stop = (closedAt: number, exitReason = 'stop') => ({ symbol: 'EURUSD', pnl: -10, exitReason, closedAt });

  it('counts stop and trailing-stop exits and locks every symbol at maxStops, then starts over', () => {
    let ps = state();
    let r = onTradeClosed(ps, stop(DAY1), c);
    expect(r.locks).toEqual([]);
    r = onTradeClosed(r.state, stop(DAY1 + 10 * MIN, 'trailing-stop'), c);
    expect(r.state.stopTimes).toEqual([DAY1, DAY1 + 10 * MIN]);
    r = onTradeClosed(r.state, { symbol: 'GBPUSD', pnl: 50, exitReason: 'signal', closedAt: DAY1 + 20 * MIN }, c);
    expect(r.locks).toEqual([]);
    const at = DAY1 + 30 * MIN;
    r = onTradeClosed(r.state, stop(at), c);
    expect(r.locks).toEqual([
      {
        id: `stop-loss-guard:*:${at}`,
        kind: 'stop-loss-guard',
        since: at,
        until: at + 45 * MIN,
        reason: '3 stop exits within 60 min reach stopLossGuard.maxStops 3: entries paused 45 min',
      },
    ]);
    expect(r.locks[0].symbol).toBeUndefined();
    expect(r.state.stopTimes).toEqual([]);
    ps = r.state;
    expect(onTradeClosed(ps, stop(at + MIN), c).locks).toEqual([]);
  });

  it('forgets stops older than the window', () => {
    let r = onTradeClosed(state(), stop(DAY1), c);
    r = onTradeClosed(r.state, stop(DAY1 + 30 * MIN), c);
    r = onTradeClosed(r.state, stop(DAY1 + 60 * MIN + 1), c);
    expect(r.locks).toEqual([]);
    expect(r.state.stopTimes).toEqual([DAY1 + 30 * MIN, DAY1 + 60 * MIN + 1]);
  });

  it('a stop exactly at the window edge still counts', () => {
    let r = onTradeClosed(state(), stop(DAY1), c);
    r = onTradeClosed(r.state, stop(DAY1 + 30 * MIN), c);
    r = onTradeClosed(r.state, stop(DAY1 + 60 * MIN), c);
    expect(r.locks.map((l) => l.kind)).toEqual(['stop-loss-guard']);
  });

  it('does nothing when the guard is not configured', () => {
    const r = onTradeClosed(state(), stop(DAY1), cfg({}));
    expect(r).toEqual({ state: state(), locks: [] });
  });
});

describe('onTradeClosed: loss cooldown', () => {
  const c = cfg({ lossCooldown: { minutes: 30 } });

  it('a losing exit locks its symbol for the cooldown', () => {
    const r = onTradeClosed(state(), { symbol: 'EURUSD', pnl: -12.5, exitReason: 'signal', closedAt: DAY1 }, c);
    expect(r.locks).toEqual([
      {
        id: `loss-cooldown:EURUSD:${DAY1}`,
        kind: 'loss-cooldown',
        symbol: 'EURUSD',
        since: DAY1,
        until: DAY1 + 30 * MIN,
        reason: 'losing exit on EURUSD (pnl -12.5): entries on it paused 30 min',
      },
    ]);
  });

  it('a flat or winning exit does not', () => {
    expect(onTradeClosed(state(), { symbol: 'EURUSD', pnl: 0, exitReason: 'signal', closedAt: DAY1 }, c).locks).toEqual([]);
    expect(onTradeClosed(state(), { symbol: 'EURUSD', pnl: 5, exitReason: 'stop', closedAt: DAY1 }, c).locks).toEqual([]);
  });

  it('a losing stop can trigger both locks, the guard first', () => {
    const both = cfg({ lossCooldown: {}, stopLossGuard: { maxStops: 1 } });
    const r = onTradeClosed(state(), { symbol: 'EURUSD', pnl: -1, exitReason: 'stop', closedAt: DAY1 }, both);
    expect(r.locks.map((l) => l.id)).toEqual([`stop-loss-guard:*:${DAY1}`, `loss-cooldown:EURUSD:${DAY1}`]);
  });
});
