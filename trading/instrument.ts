/** Trading details of a symbol at the broker, for the pre-trade instrument checks. */
export interface Instrument {
  symbol: string;
  /** Orders can be sent now (the market is open and the instrument is enabled for trading). */
  tradable: boolean;
  /** The broker's own word for the market's state (IG `TRADEABLE`/`CLOSED`/`EDITS_ONLY`, Alpaca `open`/`closed`). */
  marketStatus: string;
  /** Smallest order quantity the broker takes; 0 = no minimum. */
  minQuantity: number;
  /** Quantities must be whole multiples of this; 0 = any quantity. */
  quantityStep: number;
  // Money facts (issue 11). Optional so that a venue that has not filled them yet means "1 unit of price
  // per unit of quantity, in the account's currency, no fees". Decimal strings: exact, and JSON-safe
  // through Temporal payloads.
  /** Money made by one unit of quantity when the price moves by 1.0, in `currency` (IG valueOfOnePoint × lot size; equities 1). */
  pointValue?: string;
  /** The currency P&L on this instrument is made in (IG the instrument's currency; Alpaca USD). */
  currency?: string;
  /** The account's currency (what balance, equity and the loss limits are in). */
  accountCurrency?: string;
  /** Account-currency units per unit of `currency` (1 when they are the same), from the venue's own data. */
  conversionRate?: string;
  /** Fees of one fill in account currency: a fixed amount per order plus a rate of the notional. */
  commission?: { perOrder: string; rateBps: number };
}
