/**
 * What the notifier sends: one alert, its kind, its tier (the Nagios tiers of nagios/maotrade.cfg,
 * which also give the renotify period) and a severity. `key` identifies "the same alert" for
 * de-duplication: the same key is not sent again within its tier's renotify period.
 */
import { z } from 'zod';

export const ALERT_KINDS = [
  'circuit-opened',
  'reconciliation-drift',
  'order-unknown',
  'stop-not-placed',
  'position-not-closed',
  'trading-state-changed',
  'protection-fired',
  'session-check',
  'session-degraded',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const TIERS = ['trading-critical', 'infrastructure', 'support'] as const;
export type AlertTier = (typeof TIERS)[number];

export const SEVERITIES = ['critical', 'warning', 'ok'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];

/** Renotify periods of the tiers in nagios/maotrade.cfg (notification_interval, minutes). */
export const DEFAULT_RENOTIFY_MS: Readonly<Record<AlertTier, number>> = Object.freeze({
  'trading-critical': 15 * 60_000,
  infrastructure: 60 * 60_000,
  support: 240 * 60_000,
});

export const AlertSchema = z.object({
  kind: z.enum(ALERT_KINDS),
  /** Same key = same alert (dedup). */
  key: z.string().min(1),
  tier: z.enum(TIERS),
  severity: z.enum(SEVERITIES),
  /** One line, e.g. "circuit opened: broker ig". */
  title: z.string().min(1),
  /** The sentence a person reads: what happened and, where known, who did it and why. */
  text: z.string(),
  account: z.string().optional(),
  /** When it happened (epoch ms). */
  at: z.number().int(),
  /** The facts the message was made from (the log line's fields). */
  fields: z.record(z.unknown()).default({}),
});
export type Alert = z.infer<typeof AlertSchema>;

/** The JSON body a webhook receives (stable field names; `at` as ISO time). */
export function alertPayload(alert: Alert): Record<string, unknown> {
  return {
    source: 'maotrade',
    kind: alert.kind,
    key: alert.key,
    tier: alert.tier,
    severity: alert.severity,
    title: alert.title,
    text: alert.text,
    ...(alert.account !== undefined ? { account: alert.account } : {}),
    at: new Date(alert.at).toISOString(),
    fields: alert.fields,
  };
}

/** Subject and plain-text body, for Telegram and e-mail. */
export function alertText(alert: Alert): { subject: string; body: string } {
  const label = alert.severity === 'ok' ? 'RECOVERED' : alert.severity.toUpperCase();
  const subject = `[MAOTrade ${label}] ${alert.title}`;
  const body = [
    alert.text,
    '',
    `kind: ${alert.kind} · tier: ${alert.tier}${alert.account !== undefined ? ` · account: ${alert.account}` : ''}`,
    `at: ${new Date(alert.at).toISOString()}`,
  ].join('\n');
  return { subject, body };
}
