import type { Pool } from './pool';
import { z } from 'zod';
import { SessionConfigSchema, ScheduleSchema, type OtherAccountSystem, type SessionConfig, type SystemConfig } from '../config/session-config';
import { RiskLimitsSchema } from '../risk/limits';
import { ProtectionsConfigSchema } from '../risk/protections';

/** An account's risk settings as `maohome.accounts.risk_config` keeps them; absent parts take their defaults. */
export const AccountRiskConfigSchema = z
  .object({
    risk: RiskLimitsSchema.optional(),
    protections: ProtectionsConfigSchema.optional(),
    schedule: ScheduleSchema.optional(),
  })
  .strict();
export type AccountRiskConfig = z.input<typeof AccountRiskConfigSchema>;

export interface AccountRow {
  account: string;
  broker: string;
  currency: string;
  description?: string;
}

/** `maohome`: accounts and the trading systems each account runs, from which sessions are started. */
export class HomeStore {
  constructor(private readonly pool: Pool) {}

  async upsertAccount(a: AccountRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO maohome.accounts (account, broker, currency, description) VALUES (?,?,?,?)
       ON DUPLICATE KEY UPDATE broker = VALUES(broker), currency = VALUES(currency), description = VALUES(description)`,
      [a.account, a.broker, a.currency, a.description ?? null],
    );
  }

  /**
   * Stores an account's risk limits, protections and schedule after validating them (a ZodError names
   * the field); sessions started afterwards run with them. Returns false for an unknown account.
   */
  async setRiskConfig(account: string, config: AccountRiskConfig): Promise<boolean> {
    const parsed = AccountRiskConfigSchema.parse(config);
    const [r] = await this.pool.query('UPDATE maohome.accounts SET risk_config = ? WHERE account = ?', [JSON.stringify(parsed), account]);
    return (r as { affectedRows: number }).affectedRows > 0;
  }

  async upsertSystemConfig(account: string, s: SystemConfig, enabled = true): Promise<void> {
    await this.pool.query(
      `INSERT INTO maohome.system_configs (account, system_id, system_name, symbol, timeframe, params, enabled) VALUES (?,?,?,?,?,?,?)
       ON DUPLICATE KEY UPDATE system_name = VALUES(system_name), symbol = VALUES(symbol), timeframe = VALUES(timeframe),
         params = VALUES(params), enabled = VALUES(enabled)`,
      [account, s.id, s.system, s.symbol, s.timeframe, JSON.stringify(s.params ?? {}), enabled ? 1 : 0],
    );
  }

  /**
   * Marks an account stopped (durably): the feeder never starts its session again until
   * `clearStopped`. Idempotent; returns false for an unknown account.
   */
  async markStopped(account: string, by: string, reason: string): Promise<boolean> {
    const [r] = await this.pool.query(
      'UPDATE maohome.accounts SET stopped_at = COALESCE(stopped_at, CURRENT_TIMESTAMP(3)), stopped_by = ?, stopped_reason = ? WHERE account = ?',
      [by, reason.slice(0, 600), account],
    );
    return (r as { affectedRows: number }).affectedRows > 0;
  }

  /** Clears the stopped mark of an account (its session is being started again). Idempotent. */
  async clearStopped(account: string): Promise<void> {
    await this.pool.query('UPDATE maohome.accounts SET stopped_at = NULL, stopped_by = NULL, stopped_reason = NULL WHERE account = ?', [account]);
  }

  /** Whether an account was stopped through the gateway (false for an unknown account). */
  async isStopped(account: string): Promise<boolean> {
    const [rows] = await this.pool.query('SELECT stopped_at FROM maohome.accounts WHERE account = ?', [account]);
    return (rows as { stopped_at: unknown }[])[0]?.stopped_at != null;
  }

  /** The (broker, symbol, timeframe) of each enabled system of an account: the feeders it is subscribed to. */
  async feedsOf(account: string): Promise<{ broker: string; symbol: string; timeframe: string }[]> {
    const [rows] = await this.pool.query(
      `SELECT DISTINCT a.broker, s.symbol, s.timeframe FROM maohome.accounts a
       JOIN maohome.system_configs s ON s.account = a.account WHERE a.account = ? AND s.enabled = 1 ORDER BY s.symbol, s.timeframe`,
      [account],
    );
    return rows as { broker: string; symbol: string; timeframe: string }[];
  }

  /**
   * The enabled systems of accounts other than `exceptAccount` on `broker` that trade one of `symbols`
   * (exact symbol match), ordered by account and system id: what a session on a netting venue would share
   * its positions with (config/session-config.ts crossAccountNettingIssues).
   */
  async systemsTrading(broker: string, symbols: readonly string[], exceptAccount: string): Promise<OtherAccountSystem[]> {
    if (symbols.length === 0) return [];
    const [rows] = await this.pool.query(
      `SELECT s.account, s.system_id, s.symbol FROM maohome.system_configs s JOIN maohome.accounts a ON a.account = s.account
       WHERE a.broker = ? AND a.account <> ? AND s.enabled = 1 AND s.symbol IN (?) ORDER BY s.account, s.system_id`,
      [broker, exceptAccount, [...symbols]],
    );
    const wanted = new Set(symbols);
    return (rows as { account: string; system_id: string; symbol: string }[])
      .filter((r) => wanted.has(r.symbol))
      .map((r) => ({ account: r.account, systemId: r.system_id, symbol: r.symbol }));
  }

  /**
   * The session config of an account as stored, validated by the session's schema; null when the
   * account is unknown. `tradingEnabled` and `dailyCleanTime` come from the process environment.
   */
  async loadSessionConfig(account: string, env: { tradingEnabled: boolean; dailyCleanTime: string }): Promise<SessionConfig | null> {
    const [accounts] = await this.pool.query('SELECT account, broker, risk_config FROM maohome.accounts WHERE account = ?', [account]);
    const row = (accounts as { account: string; broker: string; risk_config: unknown }[])[0];
    if (!row) return null;
    const [systems] = await this.pool.query(
      `SELECT system_id, system_name, symbol, timeframe, params FROM maohome.system_configs
       WHERE account = ? AND enabled = 1 ORDER BY system_id`,
      [account],
    );
    const stored = typeof row.risk_config === 'string' ? JSON.parse(row.risk_config) : (row.risk_config ?? {});
    return SessionConfigSchema.parse({
      ...AccountRiskConfigSchema.parse(stored),
      account: row.account,
      broker: row.broker,
      tradingEnabled: env.tradingEnabled,
      dailyCleanTime: env.dailyCleanTime,
      systems: (systems as any[]).map((s) => ({
        id: s.system_id,
        system: s.system_name,
        symbol: s.symbol,
        timeframe: s.timeframe,
        params: typeof s.params === 'string' ? JSON.parse(s.params) : s.params,
      })),
    });
  }
}
