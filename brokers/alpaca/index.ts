import type { AccountSnapshot, BrokerAdapter, BrokerCapabilities, BrokerPosition, CandleRequest, Quote } from '../adapter';
import { stopLegIncarnation, stopLegRef } from '../../trading/client-order-id';
import type { Instrument } from '../../trading/instrument';
import type { OrderReport, StopReport } from '../../trading/order-report';
import { OrderRequestSchema, type OrderRequest, type StopRequest } from '../../trading/order-request';
import { InvalidOrderError } from '../errors';
import { beat } from '../progress';
import type { CallBudgets, ReportsCallBudgets } from '../timeouts';
import type { Frame } from '../../market/frame';
import { AlpacaHttpClient } from './client';
import { parseAlpacaConfig, type AlpacaConfig, type AlpacaConfigInput } from './config';
import { AlpacaDataClient } from './data';
import { BROKER } from './errors';
import { AlpacaExecutionClient } from './execution';
import { AlpacaAccountSchema, AlpacaOrderListSchema, AlpacaPositionListSchema, toOrderReport, type AlpacaOrder, type AlpacaPosition } from './parsing';
import { openLots, workingStops } from './positions';
import { alpacaInstrument } from './instruments';
import { AlpacaStopClient } from './stops';
import { alpacaCallBudgets } from './timeouts';

/** Orders per page of `GET /v2/orders` (Alpaca's maximum). */
const ORDERS_PAGE_LIMIT = 500;

export interface AlpacaAdapterOptions {
  /** Clock (epoch ms): decides which bars are closed and times the fill polls. Default Date.now. */
  now?: () => number;
  /** How the fill poll waits. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Progress beats: before every HTTP exchange and on every fill/cancel poll iteration. Default `beat`
   * (brokers/progress.ts), which reaches the broker activity's heartbeat when there is one.
   */
  heartbeat?: () => void;
}

/**
 * Alpaca (trading API v2 + market data v2) behind `BrokerAdapter`. One instance trades the one account its API key
 * belongs to; the `account` argument names our account in reports and is not sent to Alpaca.
 *
 * Supports: market entries and closes, protective stops as separate `stop` orders (`<entry>-S`, with the entry or
 * later through placeStop), instrument details (asset + clock), exactly-once submits
 * by client_order_id, positions split per entry (see positions.ts), closed validated bars, latest quotes.
 * Does not support: limit / bracket / OTO orders, notional orders, crypto or options symbols, streaming updates.
 */
export class AlpacaBrokerAdapter implements BrokerAdapter, ReportsCallBudgets {
  readonly name = BROKER;
  readonly capabilities: BrokerCapabilities = Object.freeze({ supportsStopOrders: true, supportsClientOrderId: true });
  /** The parsed config without the credentials (those live only inside the HTTP client). */
  readonly config: Readonly<Omit<AlpacaConfig, 'keyId' | 'secretKey'>>;
  private readonly http: AlpacaHttpClient;
  private readonly execution: AlpacaExecutionClient;
  private readonly data: AlpacaDataClient;
  private readonly stops: AlpacaStopClient;
  private currency: Promise<string> | undefined;

  constructor(config: AlpacaConfigInput, options: AlpacaAdapterOptions = {}) {
    const parsed = parseAlpacaConfig(config);
    const { keyId: _keyId, secretKey: _secretKey, ...rest } = parsed;
    this.config = Object.freeze(rest);
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const heartbeat = options.heartbeat ?? beat;
    this.http = new AlpacaHttpClient(parsed, { now, heartbeat });
    // Only the HTTP client ever holds the credentials.
    this.execution = new AlpacaExecutionClient(this.http, this.config, { now, sleep, heartbeat });
    this.data = new AlpacaDataClient(this.http, this.config, now);
    const execution = this.execution;
    this.stops = new AlpacaStopClient({
      http: this.http,
      config: this.config,
      findOrder: (id) => execution.findOrder(id),
      findStop: (ref) => execution.findStop(ref),
      submit: (id, body) => execution.submit(id, body),
      quote: (symbol) => this.data.getLatestQuote(symbol),
    });
  }

  /** The worst case of every session call under this adapter's config (timeouts.ts). */
  callBudgets(): CallBudgets {
    return alpacaCallBudgets(this.config);
  }

  /** `GET /v2/account`: balance is Alpaca's equity (cash plus the market value of open positions). */
  async getAccount(account: string): Promise<AccountSnapshot> {
    const a = await this.http.get('trading', '/v2/account', AlpacaAccountSchema);
    return { account, currency: a.currency, balance: a.equity };
  }

  /**
   * `GET /v2/positions`, each symbol's net position split into one BrokerPosition per open entry (positions.ts), with
   * the entry's protective stop level when its stop order is still working. A position the order history cannot
   * explain is reported whole under `alpaca-position-<symbol>` (a ref no session owns: reconciliation flags it).
   */
  async getPositions(account: string): Promise<BrokerPosition[]> {
    void account;
    const positions = await this.http.get('trading', '/v2/positions', AlpacaPositionListSchema);
    const out: BrokerPosition[] = [];
    for (const p of [...positions].sort((a, b) => (a.symbol < b.symbol ? -1 : 1))) out.push(...(await this.positionLots(p)));
    return out;
  }

  async placeOrder(input: OrderRequest): Promise<OrderReport> {
    const parsed = OrderRequestSchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidOrderError(`invalid order: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, BROKER);
    }
    return this.execution.placeOrder(parsed.data);
  }

  /**
   * The order with this clientOrderId (entries, closes and protective stops alike), or null. A stop leg `<ref>-S`
   * is answered by its latest incarnation (re-placed after a refused close: execution.ts), under the id asked.
   */
  async getOrder(account: string, clientOrderId: string): Promise<OrderReport | null> {
    void account;
    const ref = stopLegIncarnation(clientOrderId) === 1 ? stopLegRef(clientOrderId) : null;
    const o = ref !== null ? (await this.execution.findStop(ref))?.order : await this.execution.findOrder(clientOrderId);
    return o ? { ...toOrderReport(o), clientOrderId } : null;
  }

  getCandles(request: CandleRequest): Promise<Frame[]> {
    return this.data.getCandles(request);
  }

  getLatestPrice(symbol: string): Promise<Quote> {
    return this.data.getLatestQuote(symbol);
  }

  /** Asset (tradable, sizes) and market clock (open): see instruments.ts. */
  getInstrument(symbol: string): Promise<Instrument> {
    return alpacaInstrument(this.http, symbol, () => this.accountCurrency());
  }

  /** The position's protective stop as its own `stop` order `<entry>-S` (stops.ts). */
  placeStop(req: StopRequest): Promise<StopReport> {
    return this.stops.placeStop(req);
  }

  /** The account's currency from `GET /v2/account`, asked once per adapter (a failed ask is asked again next time). */
  private accountCurrency(): Promise<string> {
    this.currency ??= this.http.get('trading', '/v2/account', AlpacaAccountSchema).then((a) => a.currency);
    this.currency.catch(() => (this.currency = undefined));
    return this.currency;
  }

  private async positionLots(p: AlpacaPosition): Promise<BrokerPosition[]> {
    const history: AlpacaOrder[] = [];
    let until: string | undefined;
    let lots = null;
    for (let page = 0; page < this.config.positionHistoryPages; page++) {
      const batch = await this.http.get('trading', '/v2/orders', AlpacaOrderListSchema, {
        status: 'all',
        symbols: p.symbol,
        direction: 'desc',
        limit: ORDERS_PAGE_LIMIT,
        nested: false,
        until,
      });
      history.push(...batch);
      lots = openLots(p.qty, history);
      if (lots || batch.length < ORDERS_PAGE_LIMIT) break;
      const oldest = Math.min(...batch.map((o) => o.submitted_at ?? o.created_at));
      until = new Date(oldest).toISOString();
    }
    if (!lots) {
      return [
        {
          positionRef: `alpaca-position-${p.symbol}`,
          brokerPositionId: p.asset_id,
          symbol: p.symbol,
          side: p.side,
          quantity: Math.abs(p.qty),
          entryPrice: p.avg_entry_price,
        },
      ];
    }
    const stops = workingStops(history);
    return lots.map((l) => {
      const stop = stops.get(l.ref);
      return {
        positionRef: l.ref,
        brokerPositionId: `${p.asset_id}:${l.ref}`,
        symbol: p.symbol,
        side: l.side,
        quantity: l.quantity,
        entryPrice: l.entryPrice,
        ...(stop !== undefined ? { stopLevel: stop } : {}),
      };
    });
  }
}

export { AlpacaConfigSchema, alpacaConfigFromEnv, parseAlpacaConfig, type AlpacaConfig, type AlpacaConfigInput } from './config';
export { AlpacaHttpClient } from './client';
export { AlpacaDataClient, ALPACA_TIMEFRAMES } from './data';
export { AlpacaExecutionClient } from './execution';
export { alpacaCallBudgets, ALPACA_ASSUMED_SYMBOLS_HELD, type AlpacaTimingConfig } from './timeouts';
export { AlpacaMalformedResponseError, alpacaErrorFor } from './errors';
