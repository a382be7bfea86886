/**
 * The risk limits a session checks orders against (issue 11, item 8): the configured ones, with
 * conservative defaults for the money limits a config leaves out (risk/default-limits.ts), fixed once at
 * a fresh start from the broker's balance and carried in state. A run older than the defaults, or a
 * session whose balance is unknown, checks the configured limits as they are (nulls meaning off).
 */
import type { RiskLimits } from '../risk/limits';
import { appliedDefaults, effectiveRiskLimits, type ConfiguredRiskLimits } from '../risk/default-limits';
import type { EngineContext } from './context';

export const DEFAULT_RISK_LIMITS_PATCH = 'default-risk-limits';

/** The configured limits with every `null` (explicitly off) left out. */
export function withoutNulls(configured: ConfiguredRiskLimits): RiskLimits {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(configured)) if (v !== null && v !== undefined) out[k] = v;
  return out as RiskLimits;
}

export function limitsOf(ctx: EngineContext): RiskLimits {
  return ctx.state.riskLimits ?? (ctx.configuredLimits ??= withoutNulls(ctx.config.risk));
}

/** Fixes the limits in force from the account's balance (account currency); logs which defaults applied. */
export function fixLimits(ctx: EngineContext, balance: number, currency?: string): void {
  const applied = appliedDefaults(ctx.config.risk);
  ctx.state.riskLimits = effectiveRiskLimits(ctx.config.risk, balance, currency);
  ctx.ports.log('info', 'risk limits in force', {
    account: ctx.account,
    balance,
    defaults: applied.join(',') || 'none',
    maxOrderNotional: ctx.state.riskLimits.maxOrderNotional ?? 'off',
    maxTotalExposure: ctx.state.riskLimits.maxTotalExposure ?? 'off',
  });
}
