import { z } from 'zod';
import { finiteNumber, grouped, quantityParam } from './param-bounds';
import { NO_DECISION, decisionOf, type Decision, type DecisionInput, type DecisionOutput, type TradingSystem } from './types';

/**
 * A system that follows a script: on its n-th frame (1 = the first frame it sees) it returns the
 * scripted decision. For drills, demos and tests of the framework (risk checks, brackets, trailing stops,
 * working orders) where the decision must be known in advance; it never looks at prices.
 */

/** Frame numbers count from 1; a script beyond 100,000,000 frames (190 years of 1m frames) is a typo. */
export const MAX_SCRIPT_FRAME = 100_000_000;
/** Working orders live at most 366 days. */
export const MAX_EXPIRES_AFTER_MS = 366 * 86_400_000;

const price = (field: string) => finiteNumber(field).positive(`${field} must be positive`);

const ScriptStepSchema = z
  .object({
    frame: z
      .number({ invalid_type_error: 'frame must be a number', required_error: 'frame is required' })
      .int('frame must be an integer')
      .min(1, 'frame counts from 1 (the first frame the system sees)')
      .max(MAX_SCRIPT_FRAME, `frame must be at most ${grouped(MAX_SCRIPT_FRAME)}`),
    action: z.enum(['buy', 'sell', 'close']),
    quantity: quantityParam().default(1),
    stop: price('stop').optional(),
    takeProfit: price('takeProfit').optional(),
    trailingStop: price('trailingStop').optional(),
    entry: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('market') }).strict(),
        z
          .object({
            type: z.enum(['limit', 'stop']),
            price: price('price'),
            expiresAfterMs: z
              .number({ invalid_type_error: 'expiresAfterMs must be a number' })
              .int('expiresAfterMs must be an integer')
              .positive('expiresAfterMs must be positive')
              .max(MAX_EXPIRES_AFTER_MS, `expiresAfterMs must be at most ${grouped(MAX_EXPIRES_AFTER_MS)} (366 days)`)
              .optional(),
          })
          .strict(),
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

/**
 * The script's first step for frame `frame` (what `script.find` answers), by a plain loop: `find` with
 * an arrow over `frame` made a closure per frame, half of an idle backtest's allocation.
 */
function stepAt(script: ScriptedParams['script'], frame: number): ScriptedParams['script'][number] | undefined {
  for (let i = 0; i < script.length; i++) if (script[i].frame === frame) return script[i];
  return undefined;
}

// Bound once: under tsx (per-module CommonJS) each use of an imported binding calls two export getters.
const NONE = NO_DECISION;
const lentOutput = decisionOf;

export const scripted: TradingSystem<ScriptedParams, ScriptedState> = {
  name: 'scripted',
  description: 'Follows a script of decisions by frame number (drills, demos, framework tests).',
  paramsSchema: ScriptedParamsSchema,
  initialState: () => ({ framesSeen: 0 }),
  /** Counts the frame in the state it is given (in place, as `TradingSystem.decide` allows); the output is the lent one when there is one. */
  decide(input: DecisionInput<ScriptedParams, ScriptedState>): DecisionOutput<ScriptedState> {
    const { state } = input;
    const framesSeen = ++state.framesSeen;
    const step = stepAt(input.params.script, framesSeen);
    if (step === undefined) return lentOutput(input, NONE, state);
    const { frame: _frame, ...decision } = step;
    return lentOutput(input, decision as Decision, state);
  },
};
