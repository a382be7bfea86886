import { z } from 'zod';

/** A non-negative decimal as a string ("1", "0.5"): exact, and JSON-safe through Temporal payloads. */
const decimalString = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string such as "1" or "0.25"');
const currencyCode = z.string().regex(/^[A-Z]{3}$/);

/** The paper venue's fill model, account defaults and the money facts of its instruments. Units are in the names. */
export const PaperConfigSchema = z
  .object({
    /** Full bid/ask spread in basis points of price; a market order pays half of it. */
    spreadBps: z.number().finite().min(0).max(1000).default(1),
    /** Extra adverse slippage on every fill, basis points. */
    slippageBps: z.number().finite().min(0).max(1000).default(0.5),
    /** Cash of a paper account the first time the venue sees it. */
    initialBalance: z.number().finite().positive().default(100_000),
    /** The currency of a new paper account (its balance), and of its instruments unless `instrumentCurrency` says otherwise. */
    currency: currencyCode.default('USD'),
    /** Money made by one unit of quantity when the price moves by 1.0, in the instrument's currency. */
    pointValue: decimalString.refine((v) => Number(v) > 0, 'pointValue must be positive').default('1'),
    /** The currency P&L is made in; default: the account's `currency`. */
    instrumentCurrency: currencyCode.optional(),
    /** Account-currency units per unit of the instrument's currency (1 when they are the same). */
    conversionRate: decimalString.refine((v) => Number(v) > 0, 'conversionRate must be positive').default('1'),
    /** Fees of one fill in account currency: a fixed amount per order plus basis points of the notional. Default none. */
    commission: z
      .object({ perOrder: decimalString.default('0'), rateBps: z.number().finite().min(0).max(1000).default(0) })
      .strict()
      .default({}),
  })
  .strict();
export type PaperConfig = z.infer<typeof PaperConfigSchema>;
