import { z } from 'zod';

/** Which way an order trades. */
export type OrderSide = 'buy' | 'sell';

/**
 * A command to the broker. `intent: 'open'` opens a new position (with an optional protective
 * stop); `intent: 'close'` closes the position that the order `positionRef` (its entry
 * clientOrderId) opened.
 */
export const OrderRequestSchema = z
  .object({
    account: z.string().min(1),
    clientOrderId: z.string().min(1).max(64),
    symbol: z.string().min(1),
    side: z.enum(['buy', 'sell']),
    quantity: z.number().finite().positive('quantity must be positive'),
    type: z.literal('market'),
    intent: z.enum(['open', 'close']),
    stopLevel: z.number().finite().positive().optional(),
    positionRef: z.string().optional(),
  })
  .strict()
  .refine((o) => o.intent === 'open' || !!o.positionRef, {
    message: 'a close order needs positionRef (the clientOrderId that opened the position)',
    path: ['positionRef'],
  });
export type OrderRequest = z.infer<typeof OrderRequestSchema>;

/** The protective stop to place on an open position (after its market entry filled). */
export const StopRequestSchema = z
  .object({
    account: z.string().min(1),
    /** clientOrderId of the entry that opened the position; the stop's id is stopOrderId(positionRef). */
    positionRef: z.string().min(1).max(62),
    symbol: z.string().min(1),
    positionSide: z.enum(['long', 'short']),
    quantity: z.number().finite().positive('quantity must be positive'),
    stopLevel: z.number().finite().positive('stopLevel must be positive'),
  })
  .strict();
export type StopRequest = z.infer<typeof StopRequestSchema>;
