import { z } from 'zod';

/** The paper venue's fill model and account defaults. Units are in the names. */
export const PaperConfigSchema = z
  .object({
    /** Full bid/ask spread in basis points of price; a market order pays half of it. */
    spreadBps: z.number().finite().min(0).max(1000).default(1),
    /** Extra adverse slippage on every fill, basis points. */
    slippageBps: z.number().finite().min(0).max(1000).default(0.5),
    /** Cash of a paper account the first time the venue sees it. */
    initialBalance: z.number().finite().positive().default(100_000),
    currency: z.string().regex(/^[A-Z]{3}$/).default('USD'),
  })
  .strict();
export type PaperConfig = z.infer<typeof PaperConfigSchema>;
