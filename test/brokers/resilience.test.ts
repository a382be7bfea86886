import type { BrokerAdapter, OrderReport, OrderRequest } from '../../brokers/adapter';
import { BrokerCircuitOpenError, BrokerUnavailableError, OrderRejectedError } from '../../brokers/errors';
import { CircuitBreakingAdapter, isBrokerHealthFailure } from '../../brokers/resilience';

/** A scripted adapter: pure logic under test, so an in-memory stand-in is right here. */
function scripted(outcomes: Array<'ok' | 'down' | 'reject'>) {
  let calls = 0;
  const report = { clientOrderId: 'a-1', status: 'filled' } as OrderReport;
  const adapter = {
    name: 'scripted',
    capabilities: { supportsStopOrders: true, supportsClientOrderId: true },
    async placeOrder(_o: OrderRequest) {
      const next = outcomes[Math.min(calls, outcomes.length - 1)];
      calls++;
      if (next === 'down') throw new BrokerUnavailableError('503 from broker', 'scripted');
      if (next === 'reject') throw new OrderRejectedError('insufficient funds', 'scripted', 'a-1');
      return report;
    },
  } as unknown as BrokerAdapter;
  return { adapter, calls: () => calls };
}

function logger() {
  const lines: Array<[string, unknown, string]> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push([level, obj, msg]);
  return { log: { error: at('error'), warn: at('warn'), info: at('info') }, lines };
}

const order = {} as OrderRequest;

test('classes health failures: unavailable yes, rejections no, an open circuit no, unknown errors yes', () => {
  expect(isBrokerHealthFailure(new BrokerUnavailableError('x', 'b'))).toBe(true);
  expect(isBrokerHealthFailure(new OrderRejectedError('x', 'b', 'id'))).toBe(false);
  expect(isBrokerHealthFailure(new BrokerCircuitOpenError('x', 'b', 1))).toBe(false);
  expect(isBrokerHealthFailure(new TypeError('fetch failed'))).toBe(true);
});

test('opens after consecutive failures, fails fast while open (no call reaches the broker), logs at error', async () => {
  const s = scripted(['down']);
  const l = logger();
  const a = new CircuitBreakingAdapter(s.adapter, l.log, { consecutiveFailures: 3, halfOpenAfterMs: 60_000 });
  for (let i = 0; i < 3; i++) await expect(a.placeOrder(order)).rejects.toBeInstanceOf(BrokerUnavailableError);
  expect(a.state).toBe('open');
  const err = await a.placeOrder(order).catch((e) => e);
  expect(err).toBeInstanceOf(BrokerCircuitOpenError);
  expect(err.retryable).toBe(true);
  expect(err.retryAfterMs).toBe(60_000);
  expect(s.calls()).toBe(3);
  expect(l.lines.filter(([lvl]) => lvl === 'error')).toHaveLength(1);
  expect(l.lines[0][2]).toMatch(/circuit opened/);
});

test('rejected orders never open the circuit', async () => {
  const s = scripted(['reject']);
  const a = new CircuitBreakingAdapter(s.adapter, logger().log, { consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
  for (let i = 0; i < 5; i++) await expect(a.placeOrder(order)).rejects.toBeInstanceOf(OrderRejectedError);
  expect(a.state).toBe('closed');
  expect(s.calls()).toBe(5);
});

test('half-opens after the delay and closes on a successful trial call', async () => {
  const s = scripted(['down', 'down', 'ok']);
  const l = logger();
  const a = new CircuitBreakingAdapter(s.adapter, l.log, { consecutiveFailures: 2, halfOpenAfterMs: 100 });
  await expect(a.placeOrder(order)).rejects.toBeInstanceOf(BrokerUnavailableError);
  await expect(a.placeOrder(order)).rejects.toBeInstanceOf(BrokerUnavailableError);
  expect(a.state).toBe('open');
  await new Promise((r) => setTimeout(r, 150));
  await expect(a.placeOrder(order)).resolves.toMatchObject({ status: 'filled' });
  expect(a.state).toBe('closed');
  expect(l.lines.map(([lvl]) => lvl)).toEqual(['error', 'warn', 'info']);
});

test('forwards getInstrument and placeStop through the breaker: while it is open they fail fast too', async () => {
  let calls = 0;
  const inner = {
    name: 'scripted',
    capabilities: { supportsStopOrders: true, supportsClientOrderId: true },
    async getInstrument(symbol: string) {
      calls++;
      return { symbol, tradable: true, marketStatus: 'TRADEABLE', minQuantity: 0, quantityStep: 0 };
    },
    async placeStop() {
      calls++;
      throw new BrokerUnavailableError('503 from broker', 'scripted');
    },
  } as unknown as BrokerAdapter;
  const wrapped = new CircuitBreakingAdapter(inner, logger().log, { consecutiveFailures: 2, halfOpenAfterMs: 60_000 });
  expect(await wrapped.getInstrument('X')).toMatchObject({ symbol: 'X', tradable: true });
  const stop = { account: 'a', positionRef: 'a-1', symbol: 'X', positionSide: 'long' as const, quantity: 1, stopLevel: 1 };
  await expect(wrapped.placeStop(stop)).rejects.toBeInstanceOf(BrokerUnavailableError);
  await expect(wrapped.placeStop(stop)).rejects.toBeInstanceOf(BrokerUnavailableError);
  expect(wrapped.state).toBe('open');
  await expect(wrapped.placeStop(stop)).rejects.toBeInstanceOf(BrokerCircuitOpenError);
  await expect(wrapped.getInstrument('X')).rejects.toBeInstanceOf(BrokerCircuitOpenError);
  expect(calls).toBe(3);
});
