/** The session config schema (config/session-config.ts): netting venues refuse two systems on one symbol. */
import { BROKER_NAMES } from '../../brokers';
import { VENUE_CAPABILITIES, isNettingVenue } from '../../brokers/capabilities';
import { SessionConfigSchema, crossAccountNettingIssues, type SessionConfigInput } from '../../config/session-config';

const system = (id: string, symbol: string) => ({ id, system: 'ma-crossover', symbol, timeframe: '1m' as const, params: {} });
const config = (broker: string, systems: SessionConfigInput['systems']): SessionConfigInput => ({
  account: 'acct',
  broker,
  tradingEnabled: true,
  systems,
});

describe('venue capabilities', () => {
  it('every broker declares its position model: paper and IG hedge (per deal), Alpaca nets (per symbol)', () => {
    expect(Object.keys(VENUE_CAPABILITIES).sort()).toEqual([...BROKER_NAMES].sort());
    expect(VENUE_CAPABILITIES.paper!.positionModel).toBe('hedging');
    expect(VENUE_CAPABILITIES.ig!.positionModel).toBe('hedging');
    expect(VENUE_CAPABILITIES.alpaca!.positionModel).toBe('netting');
    expect(isNettingVenue('alpaca')).toBe(true);
    expect(isNettingVenue('paper')).toBe(false);
    expect(isNettingVenue('toString')).toBe(false);
    expect(isNettingVenue('nosuchbroker')).toBe(false);
  });
});

describe('SessionConfigSchema on a netting venue', () => {
  it('refuses two systems of one session on one symbol, on systems[i].symbol, naming both ids, the symbol and netting', () => {
    const r = SessionConfigSchema.safeParse(config('alpaca', [system('ma', 'AAPL'), system('mb', 'MSFT'), system('mc', 'AAPL')]));
    expect(r.success).toBe(false);
    const issues = r.success ? [] : r.error.issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(['systems', 2, 'symbol']);
    expect(issues[0]!.message).toContain('"ma"');
    expect(issues[0]!.message).toContain('"mc"');
    expect(issues[0]!.message).toContain('AAPL');
    expect(issues[0]!.message).toContain('netting');
  });

  it('one issue per extra system on a symbol, each naming the first system on it', () => {
    const r = SessionConfigSchema.safeParse(config('alpaca', [system('a', 'SPY'), system('b', 'SPY'), system('c', 'SPY')]));
    expect(r.success).toBe(false);
    const issues = r.success ? [] : r.error.issues;
    expect(issues.map((i) => i.path)).toEqual([
      ['systems', 1, 'symbol'],
      ['systems', 2, 'symbol'],
    ]);
    expect(issues[1]!.message).toMatch(/"a" and "c" both trade SPY on alpaca, a netting venue/);
  });

  it('accepts one system per symbol on a netting venue, and any number per symbol on hedging venues', () => {
    expect(SessionConfigSchema.safeParse(config('alpaca', [system('ma', 'AAPL'), system('mb', 'MSFT')])).success).toBe(true);
    expect(SessionConfigSchema.safeParse(config('paper', [system('ma', 'AAPL'), system('mb', 'AAPL')])).success).toBe(true);
    expect(SessionConfigSchema.safeParse(config('ig', [system('ma', 'CS.D.EURUSD.MINI.IP'), system('mb', 'CS.D.EURUSD.MINI.IP')])).success).toBe(true);
  });
});

describe('crossAccountNettingIssues', () => {
  const mine = SessionConfigSchema.parse(config('alpaca', [system('ma', 'AAPL'), system('mb', 'MSFT')]));

  it("names the other account and system, the symbol, netting and the worker's shared key, on systems[i].symbol", () => {
    const issues = crossAccountNettingIssues(mine, [
      { account: 'other', systemId: 'x1', symbol: 'MSFT' },
      { account: 'third', systemId: 'y1', symbol: 'MSFT' },
      { account: 'acct', systemId: 'ma', symbol: 'AAPL' },
    ]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(['systems', 1, 'symbol']);
    expect(issues[0]!.message).toContain('system "mb" of account "acct" trades MSFT on alpaca');
    expect(issues[0]!.message).toContain('account "other" (system "x1"), account "third" (system "y1")');
    expect(issues[0]!.message).toContain('netting');
    expect(issues[0]!.message).toContain('ALPACA_KEY_ID');
  });

  it('nothing on a hedging venue or without a shared symbol', () => {
    const paper = SessionConfigSchema.parse(config('paper', [system('ma', 'AAPL')]));
    expect(crossAccountNettingIssues(paper, [{ account: 'other', systemId: 'x', symbol: 'AAPL' }])).toEqual([]);
    expect(crossAccountNettingIssues(mine, [{ account: 'other', systemId: 'x', symbol: 'TSLA' }])).toEqual([]);
  });
});
