import type { Pool } from '../../db/pool';
import { MarketDataStore } from '../../db/market-data-store';
import type {
  AccountSnapshot,
  BrokerAdapter,
  BrokerPosition,
  CandleRequest,
  Instrument,
  OrderReport,
  OrderRequest,
  Quote,
  StopReport,
  StopRequest,
} from '../adapter';
import { InvalidOrderError } from '../errors';
import type { Frame } from '../../market/frame';
import { PaperConfigSchema, type PaperConfig } from './config';
import { BROKER, PaperExecution } from './execution';
import { paperInstrument, paperMoneyFacts, type PaperMoneyFacts } from './instruments';
import { PaperLedger, toReport } from './ledger';

/**
 * A simulated venue with its own persistent ledger (`maopaper`, ledger.ts). Its price feed is `maodata.candles`:
 * orders and stops are execution.ts, fills the fill model (fill-model.ts), instrument details instruments.ts.
 * Every operation on an account runs in one transaction holding the account row lock, so concurrent retries
 * serialise and `placeOrder` is idempotent by clientOrderId. The money facts of its instruments (point value,
 * currencies, conversion rate, commission) come from the config; the ledger books P&L and fees with them, and
 * with the defaults (1, one currency, 1, no fees) it books price difference × quantity, as it always has.
 */
export class PaperBrokerAdapter implements BrokerAdapter {
  readonly name = BROKER;
  readonly capabilities = { supportsStopOrders: true, supportsClientOrderId: true };
  private readonly config: PaperConfig;
  private readonly market: MarketDataStore;
  private readonly ledger: PaperLedger;
  private readonly execution: PaperExecution;
  private readonly money: PaperMoneyFacts;

  constructor(
    private readonly pool: Pool,
    config: Partial<PaperConfig> = {},
  ) {
    this.config = Object.freeze(PaperConfigSchema.parse(config));
    this.market = new MarketDataStore(pool);
    this.money = Object.freeze(paperMoneyFacts(this.config));
    const perPoint = Number(this.money.pointValue) * Number(this.money.conversionRate);
    this.ledger = new PaperLedger(pool, this.config, {
      perPoint,
      perOrder: Number(this.money.commission.perOrder),
      rateBps: this.money.commission.rateBps,
    });
    this.execution = new PaperExecution(this.ledger, this.market, this.config);
  }

  async getAccount(account: string): Promise<AccountSnapshot> {
    return this.ledger.inAccount(account, async (conn) => {
      await this.execution.triggerStops(conn, account);
      return this.ledger.account(conn, account);
    });
  }

  async getPositions(account: string): Promise<BrokerPosition[]> {
    return this.ledger.inAccount(account, async (conn) => {
      await this.execution.triggerStops(conn, account);
      return this.ledger.openPositions(conn, account);
    });
  }

  async getOrder(account: string, clientOrderId: string): Promise<OrderReport | null> {
    return this.ledger.inAccount(account, async (conn) => {
      await this.execution.triggerStops(conn, account);
      const row = await this.ledger.findOrder(conn, account, clientOrderId);
      return row ? toReport(row) : null;
    });
  }

  async getCandles(request: CandleRequest): Promise<Frame[]> {
    // The venue's feed is maodata; only frames already closed at the latest quote are returned.
    const { frames } = await this.market.loadCandles(request);
    return frames;
  }

  async getLatestPrice(symbol: string): Promise<Quote> {
    const quote = await this.execution.quote(symbol);
    if (!quote) throw new InvalidOrderError(`no price for ${symbol}`, BROKER);
    return quote;
  }

  async getInstrument(symbol: string): Promise<Instrument> {
    return paperInstrument(this.pool, symbol, (await this.market.latestCandle(symbol)) !== null, this.money);
  }

  placeOrder(order: OrderRequest): Promise<OrderReport> {
    return this.execution.placeOrder(order);
  }

  placeStop(req: StopRequest): Promise<StopReport> {
    return this.execution.placeStop(req);
  }
}
