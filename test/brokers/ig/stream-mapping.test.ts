import { accountToEvent, chartItem, chartToFrameEvent, confirmToEvent, positionUpdateToEvent, tradeToEvents, workingOrderUpdateToEvent } from '../../../brokers/ig/stream';

const EPIC = 'CS.D.EURUSD.CFD.IP';
const t0 = Date.UTC(2026, 2, 2, 9, 30);
const candle = (over: Record<string, string | null> = {}) => ({
  BID_OPEN: '1.0800', BID_HIGH: '1.0810', BID_LOW: '1.0790', BID_CLOSE: '1.0805',
  OFR_OPEN: '1.0802', OFR_HIGH: '1.0812', OFR_LOW: '1.0792', OFR_CLOSE: '1.0807',
  UTM: String(t0), CONS_END: '1', CONS_TICK_COUNT: '42', ...over,
});

describe('IG CHART mapping', () => {
  it('a completed candle (CONS_END=1) → a frame of the mid prices at UTM', () => {
    expect(chartToFrameEvent(EPIC, '1m', candle())).toEqual({
      kind: 'frame', venue: 'ig',
      frame: { symbol: EPIC, timeframe: '1m', start: t0, open: 1.0801, high: 1.0811, low: 1.0791, close: 1.0806, volume: 42 },
    });
  });
  it('a candle still forming is no frame', () => {
    expect(chartToFrameEvent(EPIC, '1m', candle({ CONS_END: '0' }))).toBeNull();
    expect(chartToFrameEvent(EPIC, '1m', candle({ CONS_END: null }))).toBeNull();
  });
  it('missing prices or an unaligned time are named', () => {
    expect(chartToFrameEvent(EPIC, '1m', candle({ OFR_HIGH: null }))).toEqual({ issues: ['high: needs BID_HIGH and OFR_HIGH, got 1.0810 / null'] });
    expect(chartToFrameEvent(EPIC, '1m', candle({ UTM: String(t0 + 1_000) }))).toEqual({ issues: [expect.stringMatching(/^start: .* not aligned to timeframe 1m/)] });
  });
  it('item names; timeframes IG does not stream are refused', () => {
    expect(chartItem(EPIC, '1m')).toBe(`CHART:${EPIC}:1MINUTE`);
    expect(chartItem(EPIC, '5m')).toBe(`CHART:${EPIC}:5MINUTE`);
    expect(chartItem(EPIC, '1h')).toBe(`CHART:${EPIC}:HOUR`);
    expect(() => chartItem(EPIC, '15m')).toThrow('IG streams no 15m candles');
  });
});

describe('IG TRADE mapping', () => {
  const confirm = (o: Record<string, unknown> = {}) => JSON.stringify({
    dealReference: 'acc1-000001', dealId: 'DIAAAAB', dealStatus: 'ACCEPTED', reason: 'SUCCESS', status: 'OPEN', epic: EPIC,
    direction: 'BUY', size: 2, level: 1.0807, date: '2026-03-02T09:30:05.123', affectedDeals: [{ dealId: 'DIAAAAB', status: 'OPENED' }], ...o,
  });

  it('CONFIRMS ACCEPTED → filled at level, keyed by the deal reference', () => {
    expect(confirmToEvent(confirm())).toEqual({
      kind: 'order', venue: 'ig', event: 'CONFIRMS', at: Date.UTC(2026, 2, 2, 9, 30, 5, 123),
      report: { clientOrderId: 'acc1-000001', brokerOrderId: 'DIAAAAB', status: 'filled', symbol: EPIC, side: 'buy', quantity: 2, filledQuantity: 2, fillPrice: 1.0807, filledAt: Date.UTC(2026, 2, 2, 9, 30, 5, 123) },
    });
  });
  it('CONFIRMS REJECTED → rejected with the reason', () => {
    expect(confirmToEvent(confirm({ dealStatus: 'REJECTED', reason: 'INSUFFICIENT_FUNDS', level: null, status: null }))).toMatchObject({
      report: { status: 'rejected', filledQuantity: 0, fillPrice: 0, reason: 'IG REJECTED: INSUFFICIENT_FUNDS' },
    });
  });
  it('OPU: open, and deleted by IG (SYSTEM: the stop)', () => {
    const opu = (status: string, channel: string) => JSON.stringify({ dealReference: 'acc1-000001', dealId: 'DIAAAAB', direction: 'BUY', epic: EPIC, status, dealStatus: 'ACCEPTED', level: 1.08, size: status === 'DELETED' ? 0 : 2, stopLevel: 1.07, limitLevel: null, channel, timestamp: '2026-03-02T09:31:00.000' });
    expect(positionUpdateToEvent(opu('OPEN', 'PUBLIC_WEB_API'))).toMatchObject({ kind: 'position', status: 'open', dealReference: 'acc1-000001', side: 'buy', size: 2, stopLevel: 1.07 });
    expect(positionUpdateToEvent(opu('DELETED', 'SYSTEM'))).toMatchObject({ status: 'deleted', channel: 'SYSTEM', size: 0, at: Date.UTC(2026, 2, 2, 9, 31) });
  });
  it('WOU: a refused working order is rejected; a deleted one is pending for REST to settle', () => {
    const wou = (o: Record<string, unknown>) => JSON.stringify({ dealReference: 'acc1-W000001', dealId: 'DIW1', direction: 'SELL', epic: EPIC, status: 'OPEN', dealStatus: 'ACCEPTED', level: 1.1, size: 1, orderType: 'LIMIT', ...o });
    expect(workingOrderUpdateToEvent(wou({ dealStatus: 'REJECTED' }))).toMatchObject({ event: 'WOU', report: { clientOrderId: 'acc1-W000001', status: 'rejected', side: 'sell' } });
    expect(workingOrderUpdateToEvent(wou({ status: 'DELETED' }))).toMatchObject({ report: { status: 'pending', reason: 'working order deleted (filled or cancelled: REST settles it)' } });
  });
  it('a DISTINCT update carries one field; malformed payloads are named, never thrown', () => {
    expect(tradeToEvents({ CONFIRMS: confirm(), OPU: null, WOU: null })).toHaveLength(1);
    expect(tradeToEvents({ CONFIRMS: null, OPU: '{not json', WOU: null })).toEqual([{ issues: ['OPU: not JSON'] }]);
    expect(tradeToEvents({ OPU: JSON.stringify({ dealId: 'D', direction: 'UP', epic: EPIC, status: 'OPEN', size: 1 }) })).toEqual([{ issues: [expect.stringMatching(/^OPU\.direction/)] }]);
    expect(confirmToEvent(confirm({ level: null }))).toEqual({ issues: [expect.stringMatching(/^CONFIRMS: .*level/)] });
  });
});

describe('IG ACCOUNT mapping', () => {
  it('numbers, and null for fields not sent', () => {
    expect(accountToEvent('ABC123', { PNL: '-12.5', FUNDS: '10000', EQUITY: '9987.5', MARGIN: null })).toEqual({
      kind: 'account', venue: 'ig', account: 'ABC123', pnl: -12.5, deposit: null, availableCash: null, funds: 10000, margin: null, equity: 9987.5, availableToDeal: null,
    });
  });
});
