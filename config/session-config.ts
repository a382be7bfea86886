import { z } from 'zod';
import { TimeframeSchema } from '../market/timeframe';
import { ConfiguredRiskLimitsSchema } from '../risk/default-limits';
import { ProtectionsConfigSchema } from '../risk/protections';
import { AccountIdSchema } from '../trading/client-order-id';
import { isNettingVenue, venueCapabilities } from '../brokers/capabilities';

/** The account id grammar is part of the clientOrderId grammar (trading/client-order-id.ts). */
export { AccountIdSchema };

export const BrokerNameSchema = z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'broker must be a short lowercase name');

/** `HH:MM` or `HH:MM:SS`, UTC. */
export const ClockTimeSchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be a UTC time of day as HH:MM or HH:MM:SS');

/** One trading system running on one stream (symbol, timeframe) of the account. */
export const SystemConfigSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'id must be 1-32 chars of a-z, 0-9, _ or -'),
    system: z.string().min(1, 'system must name a registered trading system'),
    symbol: z.string().regex(/^[A-Za-z0-9._:-]{1,40}$/, 'symbol must be 1-40 letters, digits or ._:-'),
    timeframe: TimeframeSchema,
    params: z.record(z.unknown()).default({}),
  })
  .strict();
export type SystemConfig = z.infer<typeof SystemConfigSchema>;

/**
 * The trading day's end (UTC): at `flattenAt` every position is closed (exit reason `session-close`);
 * with `reopenAt`, entries stay locked until then.
 */
export const ScheduleSchema = z
  .object({
    flattenAt: ClockTimeSchema.optional(),
    reopenAt: ClockTimeSchema.optional(),
  })
  .strict()
  .refine((s) => s.reopenAt === undefined || s.flattenAt !== undefined, {
    path: ['reopenAt'],
    message: 'reopenAt needs flattenAt (entries reopen after a flatten)',
  });
export type Schedule = z.infer<typeof ScheduleSchema>;

export const SessionConfigSchema = z
  .object({
    account: AccountIdSchema,
    broker: BrokerNameSchema,
    /** false = dry run (invariant 6): decide and record everything, send nothing. */
    tradingEnabled: z.boolean(),
    dailyCleanTime: ClockTimeSchema.default('23:45'),
    systems: z.array(SystemConfigSchema).min(1, 'a session needs at least one trading system'),
    /**
     * Pre-trade risk limits (risk/limits.ts); every order intent passes them before any broker call. An
     * absent money limit gets a default from the balance (risk/default-limits.ts); null switches it off.
     */
    risk: ConfiguredRiskLimitsSchema.default({}),
    protections: ProtectionsConfigSchema,
    schedule: ScheduleSchema.default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.systems.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['systems', i, 'id'], message: `duplicate system id "${s.id}"` });
      seen.add(s.id);
    });
    // A netting venue keeps one position per symbol per account: two systems on one symbol would share it,
    // and neither's close or stop guard could tell its lot from the other's (brokers/capabilities.ts).
    if (isNettingVenue(c.broker)) {
      const bySymbol = new Map<string, string>();
      c.systems.forEach((s, i) => {
        const first = bySymbol.get(s.symbol);
        if (first === undefined) {
          bySymbol.set(s.symbol, s.id);
          return;
        }
        ctx.addIssue({
          code: 'custom',
          path: ['systems', i, 'symbol'],
          message:
            `systems "${first}" and "${s.id}" both trade ${s.symbol} on ${c.broker}, a netting venue (one position per symbol per ` +
            `account): their closes and stops would act on each other's position; run one system per symbol on ${c.broker}`,
        });
      });
    }
  });
export type SessionConfig = z.infer<typeof SessionConfigSchema>;
export type SessionConfigInput = z.input<typeof SessionConfigSchema>;

/** An enabled system of another account, as maohome keeps it. */
export interface OtherAccountSystem {
  account: string;
  systemId: string;
  symbol: string;
}

/**
 * Credentials are per broker worker (one ALPACA_KEY_ID for every account on alpaca), so on a netting venue
 * all accounts of that broker are one venue account with one position per symbol: a session may not trade
 * a symbol that another account's enabled system trades on the same broker. One issue per conflicting system,
 * on `systems[i].symbol`, naming both accounts, both systems, the symbol and the credential shared.
 * `others` are the other accounts' enabled systems on this broker (HomeStore.systemsTrading).
 */
export function crossAccountNettingIssues(
  config: Pick<SessionConfig, 'account' | 'broker' | 'systems'>,
  others: readonly OtherAccountSystem[],
): { path: (string | number)[]; message: string }[] {
  const venue = venueCapabilities(config.broker);
  if (venue?.positionModel !== 'netting') return [];
  const key = venue.credentialSetting ? `the worker's ${venue.credentialSetting}` : 'the worker credentials';
  const issues: { path: (string | number)[]; message: string }[] = [];
  config.systems.forEach((s, i) => {
    const clash = others.filter((o) => o.account !== config.account && o.symbol === s.symbol);
    if (clash.length === 0) return;
    const who = clash.map((o) => `account "${o.account}" (system "${o.systemId}")`).join(', ');
    issues.push({
      path: ['systems', i, 'symbol'],
      message:
        `system "${s.id}" of account "${config.account}" trades ${s.symbol} on ${config.broker}, and so does ${who}: ` +
        `${config.broker} is a netting venue (one position per symbol per account) and every ${config.broker} account ` +
        `trades through ${key}, so they would share one position; disable one of them or move it to another symbol`,
    });
  });
  return issues;
}
