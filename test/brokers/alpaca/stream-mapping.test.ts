import { barToFrameEvent, parseDataStreamMessages, parseTradingStreamMessage, tradeUpdateToEvent } from '../../../brokers/alpaca/stream';

const order = (o: Record<string, unknown> = {}) => ({
  id: 'a1b2', client_order_id: 'acc1-000001', symbol: 'AAPL', side: 'buy', type: 'market', time_in_force: 'day',
  status: 'new', qty: '10', filled_qty: '0', filled_avg_price: null, created_at: '2026-03-02T15:00:00.123456Z',
  updated_at: '2026-03-02T15:00:00.123456Z', filled_at: null, ...o,
});

describe('Alpaca trade_updates mapping', () => {
  it('new → pending, nothing filled', () => {
    const e = tradeUpdateToEvent({ event: 'new', timestamp: '2026-03-02T15:00:00.2Z', order: order({ status: 'accepted' }) });
    expect(e).toMatchObject({ kind: 'order', venue: 'alpaca', event: 'new', at: Date.parse('2026-03-02T15:00:00.2Z') });
    expect(e).toHaveProperty('report', expect.objectContaining({ clientOrderId: 'acc1-000001', brokerOrderId: 'a1b2', status: 'pending', filledQuantity: 0, fillPrice: 0, filledAt: null }));
    expect(e).not.toHaveProperty('execution');
  });

  it('fill → filled at the average price, with the execution', () => {
    const e = tradeUpdateToEvent({
      event: 'fill', timestamp: '2026-03-02T15:00:01Z', price: '179.08', qty: '6', position_qty: '10', execution_id: 'x1',
      order: order({ status: 'filled', filled_qty: '10', filled_avg_price: '179.05', filled_at: '2026-03-02T15:00:01Z' }),
    });
    expect(e).toMatchObject({
      event: 'fill',
      report: { status: 'filled', quantity: 10, filledQuantity: 10, fillPrice: 179.05, filledAt: Date.parse('2026-03-02T15:00:01Z'), side: 'buy', symbol: 'AAPL' },
      execution: { quantity: 6, price: 179.08, id: 'x1' },
    });
  });

  it('partial_fill → pending with the quantity filled so far', () => {
    const e = tradeUpdateToEvent({ event: 'partial_fill', price: '10.5', qty: '4', order: order({ status: 'partially_filled', filled_qty: '4', filled_avg_price: '10.5', filled_at: '2026-03-02T15:00:01Z' }) });
    expect(e).toMatchObject({ event: 'partial_fill', report: { status: 'pending', filledQuantity: 4, fillPrice: 10.5 }, execution: { quantity: 4, price: 10.5 } });
  });

  it('canceled with nothing filled → rejected; canceled after a partial fill → filled for that part', () => {
    expect(tradeUpdateToEvent({ event: 'canceled', order: order({ status: 'canceled' }) })).toMatchObject({ report: { status: 'rejected', reason: 'canceled at Alpaca with nothing filled' } });
    expect(tradeUpdateToEvent({ event: 'canceled', order: order({ status: 'canceled', filled_qty: '4', filled_avg_price: '10', filled_at: '2026-03-02T15:00:01Z' }) })).toMatchObject({
      report: { status: 'filled', filledQuantity: 4, quantity: 10, reason: 'canceled after a partial fill of 4 of 10' },
    });
  });

  it('rejected and expired', () => {
    expect(tradeUpdateToEvent({ event: 'rejected', reason: 'insufficient buying power', order: order({ status: 'rejected' }) })).toMatchObject({ report: { status: 'rejected', reason: 'rejected by Alpaca: insufficient buying power' } });
    expect(tradeUpdateToEvent({ event: 'expired', order: order({ status: 'expired' }) })).toMatchObject({ event: 'expired', report: { status: 'rejected' } });
  });

  it('a malformed update is reported with the field named, never thrown', () => {
    expect(tradeUpdateToEvent({ event: 'fill', order: order({ filled_qty: 'lots' }) })).toEqual({ issues: [expect.stringMatching(/^order\.filled_qty: expected a decimal number/)] });
    expect(parseTradingStreamMessage({ nope: 1 })).toMatchObject({ type: 'invalid' });
  });

  it('control messages: authorization and listening', () => {
    expect(parseTradingStreamMessage({ stream: 'authorization', data: { action: 'authenticate', status: 'authorized' } })).toEqual({ type: 'authorization', authorized: true, action: 'authenticate' });
    expect(parseTradingStreamMessage({ stream: 'authorization', data: { action: 'authenticate', status: 'unauthorized' } })).toMatchObject({ authorized: false });
    expect(parseTradingStreamMessage({ stream: 'listening', data: { streams: ['trade_updates'] } })).toEqual({ type: 'listening', streams: ['trade_updates'] });
  });
});

describe('Alpaca bars mapping', () => {
  it('a T:b minute bar → a 1-minute frame keyed by its start', () => {
    expect(barToFrameEvent({ T: 'b', S: 'SPY', o: 388.985, h: 389.13, l: 388.975, c: 389.12, v: 49378, t: '2021-02-22T19:15:00Z', n: 461, vw: 389.06 })).toEqual({
      kind: 'frame', venue: 'alpaca',
      frame: { symbol: 'SPY', timeframe: '1m', start: Date.parse('2021-02-22T19:15:00Z'), open: 388.985, high: 389.13, low: 388.975, close: 389.12, volume: 49378 },
    });
  });

  it('a bar that is not a valid frame names the field', () => {
    expect(barToFrameEvent({ T: 'b', S: 'SPY', o: 1, h: 0.5, l: 0.9, c: 1, v: 0, t: '2021-02-22T19:15:00Z' })).toEqual({ issues: expect.arrayContaining(['high: high 0.5 is below low 0.9']) });
    expect(barToFrameEvent({ T: 'b', S: 'SPY', o: 1, h: 1, l: 1, c: 1, v: 0, t: '2021-02-22T19:15:30Z' })).toEqual({ issues: [expect.stringMatching(/^start: .* is not aligned to timeframe 1m/)] });
  });

  it('arrays of control and data messages, in order', () => {
    const ms = parseDataStreamMessages([{ T: 'success', msg: 'authenticated' }, { T: 'error', code: 406, msg: 'connection limit exceeded' }, { T: 'subscription', bars: ['AAPL'] }, { T: 'q', S: 'AAPL' }]);
    expect(ms).toEqual([
      { type: 'success', msg: 'authenticated' },
      { type: 'error', code: 406, msg: 'connection limit exceeded' },
      { type: 'subscription', bars: ['AAPL'] },
      { type: 'other', T: 'q' },
    ]);
  });
});
