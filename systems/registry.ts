import type { TradingSystem } from './types';
import { channelBreakout } from './channel-breakout';
import { maCrossover } from './ma-crossover';
import { scripted } from './scripted';

/** Every trading system, by name. A constant: adding a system means adding a line here. */
const SYSTEMS: Readonly<Record<string, TradingSystem>> = Object.freeze({
  [maCrossover.name]: maCrossover,
  [channelBreakout.name]: channelBreakout,
  [scripted.name]: scripted,
});

/** A system name that is not in the registry: a configuration or input error, never retried. */
export class UnknownSystemError extends Error {
  readonly retryable = false;
  constructor(
    readonly systemName: string,
    readonly knownNames: readonly string[],
  ) {
    super(`unknown trading system "${systemName}"; known systems: ${knownNames.join(', ')}`);
    this.name = 'UnknownSystemError';
  }
}

/** One bad parameter: `field` is the zod path joined with dots (`slowPeriod`, `legs.0.size`). */
export interface ParamIssue {
  readonly field: string;
  readonly message: string;
}

/** Parameters rejected by the system's schema; names every bad field. Never retried. */
export class InvalidSystemParamsError extends Error {
  readonly retryable = false;
  constructor(
    readonly systemName: string,
    readonly issues: readonly ParamIssue[],
  ) {
    super(`invalid parameters for ${systemName}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidSystemParamsError';
  }
}

export interface SystemInfo {
  readonly name: string;
  readonly description: string;
  /** The parameters the system runs with when given `{}`. */
  readonly defaultParams: unknown;
}

/** Looks a system up by name; throws UnknownSystemError listing the known names. */
export function getSystem(name: string): TradingSystem {
  if (!Object.prototype.hasOwnProperty.call(SYSTEMS, name)) {
    throw new UnknownSystemError(name, Object.keys(SYSTEMS).sort());
  }
  return SYSTEMS[name];
}

/** All systems, sorted by name. */
export function listSystems(): SystemInfo[] {
  return Object.keys(SYSTEMS)
    .sort()
    .map((name) => {
      const s = SYSTEMS[name];
      return { name, description: s.description, defaultParams: s.paramsSchema.parse({}) };
    });
}

/**
 * Validates parameters against the system's schema and returns them parsed (defaults applied).
 * `undefined` means "all defaults". Throws UnknownSystemError or InvalidSystemParamsError.
 */
export function validateParams<P = unknown>(name: string, params: unknown): P {
  const system = getSystem(name);
  const r = system.paramsSchema.safeParse(params === undefined ? {} : params);
  if (!r.success) {
    throw new InvalidSystemParamsError(
      name,
      r.error.issues.map((i) => ({
        field: i.path.length > 0 ? i.path.join('.') : i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(params)',
        message: i.message,
      })),
    );
  }
  return r.data as P;
}
