import type { Pool } from '../../db/pool';
import type { Instrument } from '../adapter';
import type { PaperConfig } from './config';

/** The money facts of every paper instrument: from the venue's config (paper has one set for all symbols). */
export type PaperMoneyFacts = Required<Pick<Instrument, 'pointValue' | 'currency' | 'accountCurrency' | 'conversionRate' | 'commission'>>;

export function paperMoneyFacts(cfg: Pick<PaperConfig, 'pointValue' | 'currency' | 'instrumentCurrency' | 'conversionRate' | 'commission'>): PaperMoneyFacts {
  const currency = cfg.instrumentCurrency ?? cfg.currency;
  return {
    pointValue: cfg.pointValue,
    currency,
    accountCurrency: cfg.currency,
    // One currency: the rate is 1 whatever the config says.
    conversionRate: currency === cfg.currency ? '1' : cfg.conversionRate,
    commission: { perOrder: cfg.commission.perOrder, rateBps: cfg.commission.rateBps },
  };
}

interface InstrumentRow {
  min_quantity: string | number;
  quantity_step: string | number;
  tradable: number;
  market_status: string;
}

/** The paper venue's status of a symbol it has no price for: nothing can fill there. */
export const PAPER_NO_PRICE_STATUS = 'CLOSED';

/**
 * A paper symbol's trading details from `maopaper.instruments`. A symbol without a row is tradable with
 * no minimum and no step (status TRADEABLE); without any price at the venue it is CLOSED, whatever the row says.
 * `money`: the money facts the venue books with (paperMoneyFacts), added to the answer.
 */
export async function paperInstrument(pool: Pool, symbol: string, hasPrice: boolean, money?: PaperMoneyFacts): Promise<Instrument> {
  const [rows] = await pool.query(
    'SELECT min_quantity, quantity_step, tradable, market_status FROM maopaper.instruments WHERE symbol = ?',
    [symbol],
  );
  const row = (rows as InstrumentRow[])[0];
  const minQuantity = row ? Number(row.min_quantity) : 0;
  const quantityStep = row ? Number(row.quantity_step) : 0;
  if (!hasPrice) return { symbol, tradable: false, marketStatus: PAPER_NO_PRICE_STATUS, minQuantity, quantityStep, ...money };
  return {
    symbol,
    tradable: row ? row.tradable === 1 : true,
    marketStatus: row ? row.market_status : 'TRADEABLE',
    minQuantity,
    quantityStep,
    ...money,
  };
}
