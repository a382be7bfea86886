import type { Pool } from '../../db/pool';
import type { Instrument } from '../adapter';

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
 */
export async function paperInstrument(pool: Pool, symbol: string, hasPrice: boolean): Promise<Instrument> {
  const [rows] = await pool.query(
    'SELECT min_quantity, quantity_step, tradable, market_status FROM maopaper.instruments WHERE symbol = ?',
    [symbol],
  );
  const row = (rows as InstrumentRow[])[0];
  const minQuantity = row ? Number(row.min_quantity) : 0;
  const quantityStep = row ? Number(row.quantity_step) : 0;
  if (!hasPrice) return { symbol, tradable: false, marketStatus: PAPER_NO_PRICE_STATUS, minQuantity, quantityStep };
  return {
    symbol,
    tradable: row ? row.tradable === 1 : true,
    marketStatus: row ? row.market_status : 'TRADEABLE',
    minQuantity,
    quantityStep,
  };
}
