import type { CandleRequest, Quote } from '../adapter';
import type { Instrument } from '../../trading/instrument';
import { BrokerUnavailableError, InvalidOrderError } from '../errors';
import type { Frame } from '../../market/frame';
import type { IgHttpClient } from './client';
import { BROKER } from './errors';
import {
  formatIgUtc,
  IG_RESOLUTION,
  IgMarketBodySchema,
  IgPricesBodySchema,
  isClosed,
  parseIg,
  pricesToFrames,
  type IgMarket,
} from './parsing';

/** IG's answer (404) for an epic it does not know; getInstrument reports it as the market status. */
export const IG_EPIC_UNAVAILABLE = 'error.service.marketdata.instrument.epic.unavailable';

/** IG's `marketStatus` of a market open for dealing. */
export const IG_TRADEABLE = 'TRADEABLE';

/** IG epics: `[A-Za-z0-9._]{6,30}` (IG's documented pattern). */
export const EPIC_PATTERN = /^[A-Za-z0-9._]{6,30}$/;

export function checkEpic(epic: string): void {
  if (!EPIC_PATTERN.test(epic)) throw new InvalidOrderError(`"${epic}" is not an IG epic (6-30 letters, digits, . or _)`, BROKER);
}

/** What a market order on an epic needs besides the order itself. */
export interface IgDealTerms {
  currencyCode: string;
  expiry: string;
}

/** Market data from IG: market details (GET /markets/{epic} v3) and historical prices (GET /prices/{epic} v3). */
export class IgDataClient {
  /** Deal terms by epic; instance state, lives as long as the adapter. */
  private readonly terms = new Map<string, IgDealTerms>();

  constructor(
    private readonly client: IgHttpClient,
    private readonly now: () => number,
    /** The IG account's currency (GET /accounts), for the money facts of getInstrument. */
    private readonly accountCurrency?: () => Promise<string>,
  ) {}

  async market(epic: string): Promise<{ market: IgMarket; brokerTimeMs: number | null }> {
    checkEpic(epic);
    const res = await this.client.request({ method: 'GET', path: `/markets/${encodeURIComponent(epic)}`, version: 3 });
    return { market: parseIg(IgMarketBodySchema, res.body, `market ${epic}`), brokerTimeMs: res.brokerTimeMs };
  }

  /** Currency (the instrument's default) and expiry (`-` for CFDs, `DFB` for daily spread bets) of an epic. */
  async dealTerms(epic: string): Promise<IgDealTerms> {
    const cached = this.terms.get(epic);
    if (cached) return cached;
    const { market } = await this.market(epic);
    const currencies = market.instrument.currencies ?? [];
    const currency = currencies.find((c) => c.isDefault)?.code ?? currencies[0]?.code;
    if (!currency || !/^[A-Z]{3}$/.test(currency)) throw new InvalidOrderError(`IG lists no dealing currency for ${epic}`, BROKER);
    const t = Object.freeze({ currencyCode: currency, expiry: market.instrument.expiry || '-' });
    this.terms.set(epic, t);
    return t;
  }

  /** Best bid/offer of the market snapshot; the quote's time is IG's clock when it answered. */
  async getLatestPrice(symbol: string): Promise<Quote> {
    const { market, brokerTimeMs } = await this.market(symbol);
    const { bid, offer, marketStatus } = market.snapshot;
    if (typeof bid !== 'number' || typeof offer !== 'number' || !(bid > 0) || !(offer > 0)) {
      throw new BrokerUnavailableError(`IG has no price for ${symbol} (market ${marketStatus ?? 'status unknown'})`, BROKER);
    }
    return { symbol, bid, ask: offer, time: brokerTimeMs ?? this.now() };
  }

  /**
   * Trading details from the market (GET /markets/{epic} v3): tradable only when `snapshot.marketStatus` is
   * TRADEABLE; minimum size `dealingRules.minDealSize.value`. IG publishes no size increment for OTC deals
   * (its dealing rules name minimum sizes and distances only), so the step is 0 (any size).
   */
  async getInstrument(symbol: string): Promise<Instrument> {
    checkEpic(symbol);
    const res = await this.client.request({
      method: 'GET',
      path: `/markets/${encodeURIComponent(symbol)}`,
      version: 3,
      passErrorCodes: [IG_EPIC_UNAVAILABLE],
    });
    if (res.errorCode === IG_EPIC_UNAVAILABLE) return { symbol, tradable: false, marketStatus: IG_EPIC_UNAVAILABLE, minQuantity: 0, quantityStep: 0 };
    const market = parseIg(IgMarketBodySchema, res.body, `market ${symbol}`);
    const status = market.snapshot.marketStatus ?? 'UNKNOWN';
    const min = market.dealingRules?.minDealSize?.value;
    return {
      symbol,
      tradable: status === IG_TRADEABLE,
      marketStatus: status,
      minQuantity: typeof min === 'number' && min > 0 ? min : 0,
      quantityStep: 0,
      ...(this.accountCurrency ? moneyFacts(market, await this.accountCurrency()) : {}),
    };
  }

  /** Closed frames whose start is in [fromStart, toStart], mid of bid/ask, validated, in start order. */
  async getCandles(request: CandleRequest): Promise<Frame[]> {
    checkEpic(request.symbol);
    const resolution = IG_RESOLUTION[request.timeframe];
    if (!resolution) throw new InvalidOrderError(`IG has no resolution for timeframe ${request.timeframe}`, BROKER);
    if (request.fromStart > request.toStart) return [];
    const now = this.now();
    const byStart = new Map<number, Frame>();
    for (let page = 1; ; page++) {
      const res = await this.client.request({
        method: 'GET',
        path: `/prices/${encodeURIComponent(request.symbol)}`,
        version: 3,
        query: {
          resolution,
          from: formatIgUtc(request.fromStart),
          to: formatIgUtc(request.toStart),
          // 0 = no paging; the loop still follows pageData if IG pages anyway.
          pageSize: 0,
          ...(page > 1 ? { pageNumber: page } : {}),
        },
      });
      const body = parseIg(IgPricesBodySchema, res.body, `prices of ${request.symbol}`);
      for (const f of pricesToFrames(body, request.symbol, request.timeframe)) {
        if (f.start >= request.fromStart && f.start <= request.toStart && isClosed(f, now)) byStart.set(f.start, f);
      }
      const pd = body.metadata?.pageData;
      if (!pd || pd.pageNumber >= pd.totalPages || page >= 100) break;
    }
    return [...byStart.values()].sort((a, b) => a.start - b.start);
  }
}

/** A positive finite number as a plain decimal string (at most 10 decimals, no exponent). */
function decimalText(n: number): string {
  const s = n.toFixed(10);
  return s.replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * The money facts of an IG market (GET /markets/{epic} v3), on an account in `accountCurrency`:
 * - pointValue = `instrument.valueOfOnePoint` × `instrument.lotSize` (lot size 1 when IG leaves it out): money per
 *   point (1.0 of IG's quoted level) of one unit of size, in the instrument's currency;
 * - currency = the instrument's default currency (`currencies[].isDefault`, else the first);
 * - conversionRate = account-currency units per instrument-currency unit: 1 for the same currency, else
 *   1 / `baseExchangeRate` of that currency entry (read as instrument-currency units per account-currency unit;
 *   IG does not define the field further: an assumption, see index.ts), omitted when IG sends no rate;
 * - commission: not reported (IG's market details publish none; its FX and index CFDs charge through the spread).
 * A fact IG does not send is left out rather than guessed.
 */
export function moneyFacts(market: IgMarket, accountCurrency: string): Partial<Instrument> {
  const currencies = market.instrument.currencies ?? [];
  const entry = currencies.find((c) => c.isDefault) ?? currencies[0];
  const vop = Number(market.instrument.valueOfOnePoint);
  const lot = market.instrument.lotSize;
  const lotSize = typeof lot === 'number' && lot > 0 ? lot : 1;
  const out: Partial<Instrument> = { accountCurrency };
  if (market.instrument.valueOfOnePoint != null && Number.isFinite(vop) && vop > 0) out.pointValue = decimalText(vop * lotSize);
  if (entry && /^[A-Z]{3}$/.test(entry.code)) {
    out.currency = entry.code;
    if (entry.code === accountCurrency) out.conversionRate = '1';
    else if (typeof entry.baseExchangeRate === 'number' && entry.baseExchangeRate > 0) out.conversionRate = decimalText(1 / entry.baseExchangeRate);
  }
  return out;
}
