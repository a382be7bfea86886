import { Decimal } from 'decimal.js';

/**
 * Money in the account currency, exact (issue 11 item 7). Pure and deterministic, and its only import is
 * decimal.js, so workflow code (the session engine) may import it as well as activities and the backtester.
 *
 * Every amount is computed in decimal arithmetic (100 significant digits, far beyond any price × quantity
 * × point value × rate), so 0.1 + 0.2 is 0.3 and a sum of trades is the trade on the summed legs. A
 * JS number going in is read as its shortest decimal text (0.1 is 0.1, not 0.1000000000000000055…).
 * Results are exact decimal strings; round them to the account currency's minor unit with
 * {@link roundMoney} (a string, for storing and comparing) or {@link toMoneyNumber} (a number, for the
 * existing number-typed fields and DECIMAL columns).
 *
 * The money facts come from the broker's Instrument (trading/instrument.ts, re-exported by
 * brokers/adapter.ts): `pointValue`, `currency`, `accountCurrency`, `conversionRate` (decimal strings) and
 * `commission` {perOrder, rateBps}. When a venue has not filled them: point value 1, conversion rate 1,
 * no fees, minor unit 2; so for such an instrument these functions give today's numbers.
 *
 * How today's number code maps (unchanged on purpose: recorded histories replay against it):
 * - trading/trade.ts `closeTrade`: `pnl = round8((exit − entry) × quantity × direction)` in binary floats,
 *   in price units, no fees. It is `tradePnl(trade)` without an instrument, except that closeTrade rounds
 *   to 1e-8 (the DECIMAL(20,8) columns) after float arithmetic, where `toMoneyNumber(tradePnl(...))`
 *   rounds the exact value to the minor unit. Switching closeTrade over changes recorded P&L, so it needs
 *   a workflow patch.
 * - trading/position.ts `unrealisedPnl`: `(price − entry) × quantity × direction`, float, unrounded,
 *   price units. It is `unrealisedPnlAt(position, price)` without an instrument (up to float error).
 * - risk/numbers.ts `exceeds` / `reaches` / `below` compare floats with a relative slack of 1e-9 to absorb
 *   float error (0.1 × 3 against 0.3); on money from this file a plain `Decimal.cmp` needs no slack. The
 *   pre-trade notional (risk/pre-trade.ts, |quantity × price|) is `notionalOf` without an instrument.
 */

/** Decimal arithmetic of this file: its own constructor, so the global Decimal settings stay untouched. */
const D = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -100, toExpPos: 100 });
type Dec = InstanceType<typeof D>;

/** An amount or price as a JS number, a decimal string (`"12.34"`) or a Decimal. */
export type DecimalInput = number | string | Decimal;

/**
 * The money facts of an instrument this file reads; the broker's `Instrument` has all of them (optional).
 * Structural, so that callers may pass an Instrument, a stored copy of one, or nothing.
 */
export interface MoneyFacts {
  /** Money made by one unit of quantity when the price moves by 1.0, in `currency`. Default 1. */
  pointValue?: string;
  /** The currency P&L is made in. */
  currency?: string;
  /** The account's currency: the result's currency, and whose minor unit {@link roundMoney} uses. */
  accountCurrency?: string;
  /** Account-currency units per unit of `currency`. Default 1 (also when the currencies differ: the venue did not say). */
  conversionRate?: string;
  /** Fees of one fill, in account currency: `perOrder` plus `rateBps` basis points of the fill's notional. Default none. */
  commission?: { perOrder: string; rateBps: number };
}

export type TradeSide = 'long' | 'short';

/** One round trip: entered at `entryPrice`, left at `exitPrice`. */
export interface TradeLegs {
  side: TradeSide;
  quantity: number;
  entryPrice: number;
  exitPrice: number;
}

/**
 * Minor units (decimals) of account currencies (ISO 4217). A currency not listed has 2
 * ({@link DEFAULT_MINOR_UNIT}).
 */
export const MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze({
  GBP: 2,
  USD: 2,
  EUR: 2,
  CHF: 2,
  AUD: 2,
  CAD: 2,
  NZD: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  HKD: 2,
  SGD: 2,
  ZAR: 2,
  CNH: 2,
  JPY: 0,
  KRW: 0,
  HUF: 2,
});

export const DEFAULT_MINOR_UNIT = 2;

/** Decimals of `currency` (case-insensitive); 2 when unknown or absent. */
export function minorUnitOf(currency?: string): number {
  if (currency === undefined) return DEFAULT_MINOR_UNIT;
  const key = currency.toUpperCase();
  return Object.prototype.hasOwnProperty.call(MINOR_UNITS, key) ? MINOR_UNITS[key] : DEFAULT_MINOR_UNIT;
}

/** A finite decimal; a NaN, an infinity or text that is not a number throws a RangeError naming `what`. */
function dec(x: DecimalInput, what: string): Dec {
  let d: Dec;
  try {
    d = new D(x);
  } catch {
    throw new RangeError(`${what} is not a decimal number: ${String(x)}`);
  }
  if (!d.isFinite()) throw new RangeError(`${what} must be finite: ${String(x)}`);
  return d;
}

/** Exact decimal text: no exponent, no trailing zeros, never `-0`. */
function text(d: Dec): string {
  return d.isZero() ? '0' : d.toFixed();
}

function pointValueOf(instrument?: MoneyFacts): Dec {
  return instrument?.pointValue === undefined ? new D(1) : dec(instrument.pointValue, 'pointValue');
}

function conversionRateOf(instrument?: MoneyFacts): Dec {
  return instrument?.conversionRate === undefined ? new D(1) : dec(instrument.conversionRate, 'conversionRate');
}

/** Account-currency value of one unit of quantity moving 1.0 in price: pointValue × conversionRate. */
function accountValuePerPoint(instrument?: MoneyFacts): Dec {
  return pointValueOf(instrument).times(conversionRateOf(instrument));
}

const sign = (side: TradeSide): 1 | -1 => (side === 'long' ? 1 : -1);

function notional(quantity: DecimalInput, price: DecimalInput, instrument?: MoneyFacts): Dec {
  return dec(quantity, 'quantity').times(dec(price, 'price')).times(accountValuePerPoint(instrument)).abs();
}

function fees(quantity: DecimalInput, price: DecimalInput, instrument?: MoneyFacts): Dec {
  const c = instrument?.commission;
  if (c === undefined) return new D(0);
  const perOrder = dec(c.perOrder, 'commission.perOrder');
  const rate = dec(c.rateBps, 'commission.rateBps').div(10_000);
  return perOrder.plus(notional(quantity, price, instrument).times(rate));
}

/**
 * |quantity × price| × pointValue × conversionRate: the value of a fill or a position in account currency,
 * exact, never negative. Without an instrument: |quantity × price| (today's pre-trade notional).
 */
export function notionalOf(quantity: DecimalInput, price: DecimalInput, instrument?: MoneyFacts): string {
  return text(notional(quantity, price, instrument));
}

/** Fees of one fill of `quantity` at `price`, in account currency: perOrder + rateBps/10,000 × notional. "0" without a commission. */
export function feesOf(quantity: DecimalInput, price: DecimalInput, instrument?: MoneyFacts): string {
  return text(fees(quantity, price, instrument));
}

/**
 * Net P&L of a round trip in account currency, exact:
 * (exit − entry) × (+1 long, −1 short) × quantity × pointValue × conversionRate − fees of the entry fill −
 * fees of the exit fill. Without an instrument: (exit − entry) × direction × quantity, like closeTrade.
 */
export function tradePnl(trade: TradeLegs, instrument?: MoneyFacts): string {
  const move = dec(trade.exitPrice, 'exitPrice').minus(dec(trade.entryPrice, 'entryPrice'));
  const gross = move.times(sign(trade.side)).times(dec(trade.quantity, 'quantity')).times(accountValuePerPoint(instrument));
  const paid = fees(trade.quantity, trade.entryPrice, instrument).plus(fees(trade.quantity, trade.exitPrice, instrument));
  return text(gross.minus(paid));
}

/**
 * P&L of an open position marked at `price`, in account currency, exact, before fees: the entry fee is
 * already paid (it is in the cash balance) and the exit fee is not known until the exit fills; so
 * `tradePnl` at the same exit price is this minus `feesOf` the entry and of the exit.
 */
export function unrealisedPnlAt(
  position: { side: TradeSide; quantity: number; entryPrice: number },
  price: DecimalInput,
  instrument?: MoneyFacts,
): string {
  const move = dec(price, 'price').minus(dec(position.entryPrice, 'entryPrice'));
  return text(move.times(sign(position.side)).times(dec(position.quantity, 'quantity')).times(accountValuePerPoint(instrument)));
}

/** Exact sum of amounts ("0" for none). */
export function sumMoney(amounts: readonly DecimalInput[]): string {
  return text(amounts.reduce<Dec>((sum, a, i) => sum.plus(dec(a, `amounts[${i}]`)), new D(0)));
}

/**
 * How {@link roundMoney} rounds: `half-up` (ties away from zero, symmetric for gains and losses; the
 * default) or `down` (towards zero: never more than the exact amount in absolute value, for limits).
 */
export type MoneyRounding = 'half-up' | 'down';

/**
 * `amount` rounded to the minor unit of `currency` (2 decimals unless MINOR_UNITS says otherwise), as
 * fixed-point text: `roundMoney('170.005', 'GBP')` → `"170.01"`, `roundMoney('1234.5', 'JPY')` → `"1235"`.
 * Never `-0.00`. The form for storing and for comparing with the broker ({@link sameMoney}).
 */
export function roundMoney(amount: DecimalInput, currency?: string, rounding: MoneyRounding = 'half-up'): string {
  const places = minorUnitOf(currency);
  const rounded = dec(amount, 'amount').toDecimalPlaces(places, rounding === 'down' ? Decimal.ROUND_DOWN : Decimal.ROUND_HALF_UP);
  return rounded.isZero() ? new D(0).toFixed(places) : rounded.toFixed(places);
}

/**
 * `amount` rounded to the minor unit (as {@link roundMoney}) and returned as the nearest JS number, for the
 * number-typed fields and DECIMAL columns that exist today. The number prints back as the rounded text
 * (`String(toMoneyNumber('0.30'))` is `"0.3"`), so storing it loses nothing; do arithmetic on the
 * strings, not on these numbers.
 */
export function toMoneyNumber(amount: DecimalInput, currency?: string, rounding: MoneyRounding = 'half-up'): number {
  return Number(roundMoney(amount, currency, rounding));
}

/** Whether two amounts are the same money once both are rounded to the minor unit of `currency` (e.g. ours against the broker's). */
export function sameMoney(a: DecimalInput, b: DecimalInput, currency?: string): boolean {
  return roundMoney(a, currency) === roundMoney(b, currency);
}

/** Exact comparison of two amounts: −1, 0 or 1. */
export function compareMoney(a: DecimalInput, b: DecimalInput): -1 | 0 | 1 {
  return dec(a, 'a').cmp(dec(b, 'b')) as -1 | 0 | 1;
}

/**
 * The money facts a position books with, or undefined when they are the identity (point value 1, rate 1,
 * no fees): then price-unit P&L already is account money and the float path of older runs stays exact
 * to 1e-8 at no cost per bar. `perPoint` (pointValue × conversionRate as a number) is for marks only.
 */
export interface PositionMoney {
  facts: MoneyFacts;
  perPoint: number;
  /** The entry's fixed fee was booked already (by an earlier partial close of this position). */
  entryFeeBooked?: true;
}

export function positionMoney(instrument?: MoneyFacts): PositionMoney | undefined {
  if (!instrument) return undefined;
  // The identity facts as venues spell them (paper: '1', '1', no fees): no Decimal for them.
  const c0 = instrument.commission;
  if (
    (instrument.pointValue === undefined || instrument.pointValue === '1') &&
    (instrument.conversionRate === undefined || instrument.conversionRate === '1') &&
    (c0 === undefined || (c0.rateBps === 0 && c0.perOrder === '0'))
  ) {
    return undefined;
  }
  const facts: MoneyFacts = {};
  if (instrument.pointValue !== undefined) facts.pointValue = instrument.pointValue;
  if (instrument.currency !== undefined) facts.currency = instrument.currency;
  if (instrument.accountCurrency !== undefined) facts.accountCurrency = instrument.accountCurrency;
  if (instrument.conversionRate !== undefined) facts.conversionRate = instrument.conversionRate;
  const c = instrument.commission;
  if (c !== undefined && (!dec(c.perOrder, 'commission.perOrder').isZero() || c.rateBps !== 0)) facts.commission = { perOrder: c.perOrder, rateBps: c.rateBps };
  const perPoint = accountValuePerPoint(facts);
  if (perPoint.eq(1) && facts.commission === undefined) return undefined;
  return { facts, perPoint: perPoint.toNumber() };
}

/** Decimals of the stored P&L columns (DECIMAL(20,8)). */
const STORED_PLACES = 8;

/**
 * The P&L a close books for `position` at `exitPrice`: {@link tradePnl} in account currency, exact, to the
 * 8 decimals the store keeps; a position whose entry fee an earlier partial close paid pays it only once.
 */
export function bookedPnl(
  position: { side: TradeSide; quantity: number; entryPrice: number },
  exitPrice: number,
  money: PositionMoney,
): number {
  let pnl = new D(tradePnl({ ...position, exitPrice }, money.facts));
  if (money.entryFeeBooked && money.facts.commission) pnl = pnl.plus(dec(money.facts.commission.perOrder, 'commission.perOrder'));
  return pnl.toDecimalPlaces(STORED_PLACES, Decimal.ROUND_HALF_UP).toNumber();
}
