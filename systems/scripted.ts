import { z } from 'zod';
import type { Decision, DecisionInput, DecisionOutput, TradingSystem } from './types';

/**
 * A system that follows a script: on its n-th frame (1 = the first frame it sees) it returns the
 * scripted decision. For drills, demos and tests of the framework (risk checks, brackets, trailing stops,
 * working orders) where the decision must be known in advance; it never looks at prices.
 */

const price = z.number().finite().positive();

const ScriptStepSchema = z
  .object({
    frame: z.number().int().min(1, 'frame counts from 1 (the first frame the system sees)'),
    action: z.enum(['buy', 'sell', 'close']),
    quantity: z.number().finite().positive('quantity must be positive').default(1),
    stop: price.optional(),
    takeProfit: price.optional(),
    trailingStop: price.optional(),
    entry: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('market') }).strict(),
        z.object({ type: z.enum(['limit', 'stop']), price, expiresAfterMs: z.number().int().positive().optional() }).strict(),
      ])
      .optional(),
  })
  .strict();

export const ScriptedParamsSchema = z
  .object({
    script: z.array(ScriptStepSchema).max(500, 'script has at most 500 steps').default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<number>();
    p.script.forEach((s, i) => {
      if (seen.has(s.frame)) ctx.addIssue({ code: 'custom', path: ['script', i, 'frame'], message: `frame ${s.frame} has two steps` });
      seen.add(s.frame);
    });
  });

export type ScriptedParams = z.infer<typeof ScriptedParamsSchema>;
export type ScriptedState = { framesSeen: number };

export const scripted: TradingSystem<ScriptedParams, ScriptedState> = {
  name: 'scripted',
  description: 'Follows a script of decisions by frame number (drills, demos, framework tests).',
  paramsSchema: ScriptedParamsSchema,
  initialState: () => ({ framesSeen: 0 }),
  decide({ params, state }: DecisionInput<ScriptedParams, ScriptedState>): DecisionOutput<ScriptedState> {
    const framesSeen = state.framesSeen + 1;
    const step = params.script.find((s) => s.frame === framesSeen);
    if (!step) return { decision: { action: 'none', quantity: 0 }, state: { framesSeen } };
    const { frame: _frame, ...decision } = step;
    return { decision: decision as Decision, state: { framesSeen } };
  },
};
