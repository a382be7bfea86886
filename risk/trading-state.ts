import { z } from 'zod';

/**
 * The account's trading state. active: every order passes the state rule; reducing: only orders that
 * close a position (shrink exposure); halted: nothing passes, not even closes.
 */
export const TradingStateSchema = z.enum(['active', 'reducing', 'halted'], {
  errorMap: () => ({ message: 'state must be one of active, reducing, halted' }),
});
export type TradingState = z.infer<typeof TradingStateSchema>;

/** The payload of the setTradingState update / fleet command. */
export const TradingStateCommandSchema = z
  .object({
    state: TradingStateSchema,
    by: z
      .string({ required_error: 'by is required', invalid_type_error: 'by must be a string' })
      .trim()
      .min(1, 'by must name who gives the command')
      .max(100, 'by must be at most 100 characters'),
    reason: z
      .string({ required_error: 'reason is required', invalid_type_error: 'reason must be a string' })
      .trim()
      .min(1, 'reason must say why')
      .max(500, 'reason must be at most 500 characters'),
  })
  .strict();
export type TradingStateCommand = z.infer<typeof TradingStateCommandSchema>;

/** One change of the trading state, as recorded in the session's history and `control_events`. */
export interface TradingStateChange {
  /** Per-session sequence of control events (deterministic). */
  seq: number;
  /** Workflow time, epoch ms. */
  at: number;
  from: TradingState;
  to: TradingState;
  /** A person/token name, or `protection:<name>`. */
  by: string;
  reason: string;
  source: 'command' | 'protection';
}

/** Whether an order of this intent may pass in this trading state. active: all; reducing: only 'close'; halted: none. */
export function intentAllowed(state: TradingState, intent: 'open' | 'close'): boolean {
  if (state === 'active') return true;
  if (state === 'reducing') return intent === 'close';
  return false;
}
