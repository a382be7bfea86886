import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { AccountSnapshot, BrokerAdapter, BrokerPosition, CandleRequest, Quote } from './adapter';
import type { Instrument } from '../trading/instrument';
import type { OrderReport, StopReport } from '../trading/order-report';
import type { OrderRequest, StopRequest } from '../trading/order-request';
import type { Frame } from '../market/frame';
import { BrokerCircuitOpenError, BrokerError } from './errors';
import { reportsCallBudgets, type CallBudgets } from './timeouts';

export interface BreakerOptions {
  /** Consecutive infrastructure failures that open the circuit. */
  consecutiveFailures: number;
  /** How long the circuit stays open before one trial call is let through. */
  halfOpenAfterMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = Object.freeze({ consecutiveFailures: 5, halfOpenAfterMs: 30_000 });

/**
 * Failures that say the broker is unwell (unreachable, 5xx, timeouts, outcomes it cannot tell), as
 * opposed to answers about the request itself (a rejected order, bad input, bad credentials), which
 * say nothing about the broker's health and never open the circuit.
 */
export function isBrokerHealthFailure(err: unknown): boolean {
  if (err instanceof BrokerError) return err.retryable && !(err instanceof BrokerCircuitOpenError);
  return true; // network errors, timeouts and bugs from the client library
}

/** What the breaker logs through (a pino logger fits). */
export interface BreakerLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * A BrokerAdapter whose every call goes through a circuit breaker (cockatiel), so a failing broker is
 * not hammered by every session's retries: while the circuit is open, calls fail at once with a
 * retryable BrokerCircuitOpenError carrying when to try again, and Temporal's retry policy waits.
 * Opening is logged at error level (an operator must know).
 */
export class CircuitBreakingAdapter implements BrokerAdapter {
  readonly name: string;
  readonly capabilities: BrokerAdapter['capabilities'];
  private readonly breaker: CircuitBreakerPolicy;
  /** The wrapped adapter's call budgets (brokers/timeouts.ts), when it reports them: the breaker adds no wait. */
  readonly callBudgets?: () => CallBudgets;

  constructor(
    private readonly inner: BrokerAdapter,
    private readonly logger: BreakerLog,
    private readonly options: BreakerOptions = DEFAULT_BREAKER,
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    if (reportsCallBudgets(inner)) this.callBudgets = () => inner.callBudgets();
    this.breaker = circuitBreaker(handleWhen(isBrokerHealthFailure), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.consecutiveFailures),
    });
    this.breaker.onBreak((reason) => {
      const error = 'error' in reason ? String((reason.error as Error)?.message ?? reason.error) : 'isolated';
      this.logger.error({ broker: this.name, breaker: 'open', retryAfterMs: options.halfOpenAfterMs, error }, `broker ${this.name}: circuit opened`);
    });
    this.breaker.onHalfOpen(() => this.logger.warn({ broker: this.name, breaker: 'half-open' }, `broker ${this.name}: circuit half-open, trying one call`));
    this.breaker.onReset(() => this.logger.info({ broker: this.name, breaker: 'closed' }, `broker ${this.name}: circuit closed again`));
  }

  get state(): BreakerState {
    return STATE_NAMES[this.breaker.state];
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(fn);
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        throw new BrokerCircuitOpenError(`broker ${this.name} circuit is open: not called`, this.name, this.options.halfOpenAfterMs);
      }
      throw err;
    }
  }

  getAccount(account: string): Promise<AccountSnapshot> {
    return this.call(() => this.inner.getAccount(account));
  }
  getPositions(account: string): Promise<BrokerPosition[]> {
    return this.call(() => this.inner.getPositions(account));
  }
  placeOrder(order: OrderRequest): Promise<OrderReport> {
    return this.call(() => this.inner.placeOrder(order));
  }
  getOrder(account: string, clientOrderId: string): Promise<OrderReport | null> {
    return this.call(() => this.inner.getOrder(account, clientOrderId));
  }
  getCandles(request: CandleRequest): Promise<Frame[]> {
    return this.call(() => this.inner.getCandles(request));
  }
  getLatestPrice(symbol: string): Promise<Quote> {
    return this.call(() => this.inner.getLatestPrice(symbol));
  }
  getInstrument(symbol: string): Promise<Instrument> {
    return this.call(() => this.inner.getInstrument(symbol));
  }
  placeStop(req: StopRequest): Promise<StopReport> {
    return this.call(() => this.inner.placeStop(req));
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
