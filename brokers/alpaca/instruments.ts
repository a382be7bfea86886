import type { Instrument } from '../../trading/instrument';
import type { AlpacaHttpClient } from './client';
import { AlpacaAssetSchema, AlpacaClockSchema, type AlpacaAsset } from './parsing';

/** marketStatus of a symbol Alpaca does not list (404 on /v2/assets/{symbol}). */
export const ALPACA_UNKNOWN_SYMBOL = 'unknown-symbol';

/**
 * An equity's trading details: `GET /v2/assets/{symbol}` (status, tradable, fractionable, min_order_size,
 * min_trade_increment) and `GET /v2/clock` (is_open). Tradable only when the asset is active and tradable
 * and the market is open. Sizes: Alpaca's min_order_size / min_trade_increment when it sends them (crypto
 * does); otherwise a fractionable equity takes any quantity (0 / 0) and a non-fractionable one whole shares (1 / 1).
 * With `accountCurrency` (the account's currency, `GET /v2/account`), the money facts are added (equityMoneyFacts).
 */
export async function alpacaInstrument(http: AlpacaHttpClient, symbol: string, accountCurrency?: () => Promise<string>): Promise<Instrument> {
  const asset = await http.getOrNull('trading', `/v2/assets/${encodeURIComponent(symbol)}`, AlpacaAssetSchema);
  if (!asset) return { symbol, tradable: false, marketStatus: ALPACA_UNKNOWN_SYMBOL, minQuantity: 0, quantityStep: 0 };
  const clock = await http.get('trading', '/v2/clock', AlpacaClockSchema);
  const { minQuantity, quantityStep } = sizesOf(asset);
  let marketStatus = clock.is_open ? 'open' : 'closed';
  if (asset.status !== 'active') marketStatus = asset.status;
  else if (!asset.tradable) marketStatus = 'not-tradable';
  const money = accountCurrency ? equityMoneyFacts(await accountCurrency()) : {};
  return { symbol, tradable: asset.status === 'active' && asset.tradable && clock.is_open, marketStatus, minQuantity, quantityStep, ...money };
}

function sizesOf(a: AlpacaAsset): { minQuantity: number; quantityStep: number } {
  const whole = a.fractionable === false;
  return {
    minQuantity: a.min_order_size ?? (whole ? 1 : 0),
    quantityStep: a.min_trade_increment ?? (whole ? 1 : 0),
  };
}

/**
 * Money facts of a US equity at Alpaca: one share gains 1 USD when the price moves by 1.0; commission-free
 * (Alpaca charges no commission on US equities through the trading API). The account's currency comes
 * from `GET /v2/account`; a non-USD account (Alpaca's local-currency trading) has no rate from the trading
 * API, so no conversion rate is claimed then.
 */
export function equityMoneyFacts(accountCurrency: string): Pick<Instrument, 'pointValue' | 'currency' | 'accountCurrency' | 'conversionRate' | 'commission'> {
  return {
    pointValue: '1',
    currency: 'USD',
    accountCurrency,
    ...(accountCurrency === 'USD' ? { conversionRate: '1' } : {}),
    commission: { perOrder: '0', rateBps: 0 },
  };
}
