import type { BrokerPosition } from '../../brokers/adapter';
import type { Position } from '../../trading/position';
import { diffPositions, type UnsettledOrder } from '../../engine/reconciliation';

const pos = (over: Partial<Position> = {}): Position => ({
  positionRef: 'acc-000001',
  systemId: 'ma',
  symbol: 'EURUSD',
  side: 'long',
  quantity: 2,
  entryPrice: 1.1,
  stop: 1.09,
  openedAt: 0,
  ...over,
});
const atBroker = (over: Partial<BrokerPosition> = {}): BrokerPosition => ({
  positionRef: 'acc-000001',
  brokerPositionId: 'D1',
  symbol: 'EURUSD',
  side: 'long',
  quantity: 2,
  entryPrice: 1.1,
  stopLevel: 1.09,
  ...over,
});
const unsettled = (over: Partial<UnsettledOrder> = {}): UnsettledOrder => ({
  clientOrderId: 'acc-000007',
  seq: 7,
  systemId: 'ma',
  symbol: 'EURUSD',
  side: 'buy',
  quantity: 2,
  intent: 'open',
  status: 'unknown',
  ...over,
});

describe('diffPositions', () => {
  it('finds no drift when the session and the broker agree', () => {
    expect(diffPositions('acc', { ma: pos() }, [atBroker()], [])).toEqual([]);
  });

  it('reports a position the broker no longer holds', () => {
    const d = diffPositions('acc', { ma: pos() }, [], []);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ kind: 'closed-at-broker', positionRef: 'acc-000001', systemId: 'ma' });
  });

  it('reports size, side, entry and stop changes, naming each', () => {
    const [d] = diffPositions('acc', { ma: pos() }, [atBroker({ quantity: 1, side: 'short', entryPrice: 1.2, stopLevel: undefined })], []);
    expect(d.kind).toBe('changed-at-broker');
    expect(d.detail).toMatch(/side long → short/);
    expect(d.detail).toMatch(/quantity 2 → 1/);
    expect(d.detail).toMatch(/entry 1.1 → 1.2/);
    expect(d.detail).toMatch(/stop 1.09 → none/);
  });

  it('attributes a broker position opened by an unsettled order of the session to its system', () => {
    const [d] = diffPositions('acc', {}, [atBroker({ positionRef: 'acc-000007' })], [unsettled()]);
    expect(d).toMatchObject({ kind: 'opened-at-broker', systemId: 'ma', positionRef: 'acc-000007' });
  });

  it('calls any other broker position foreign, whether or not it carries the account reference', () => {
    const d = diffPositions('acc', {}, [atBroker({ positionRef: 'acc-000009' }), atBroker({ positionRef: 'MANUAL1' })], [unsettled({ intent: 'close', clientOrderId: 'acc-000009' })]);
    expect(d.map((x) => x.kind)).toEqual(['foreign-at-broker', 'foreign-at-broker']);
    expect(d[0].detail).toMatch(/carries this account's reference/);
    expect(d[1].detail).toMatch(/not opened by this session/);
  });

  it('ignores floating-point noise in prices', () => {
    expect(diffPositions('acc', { ma: pos({ entryPrice: 0.1 + 0.2 }) }, [atBroker({ entryPrice: 0.3 })], [])).toEqual([]);
  });
});
