/**
 * The notifier's environment, parsed once by zod; a bad value is a ConfigError naming the variable
 * (never echoing a secret's value). A channel is on when its variables are set; setting only part of
 * one (a webhook URL without its secret) is an error naming what is missing.
 *
 *   NOTIFIER_WEBHOOK_URL, NOTIFIER_WEBHOOK_SECRET                  generic webhook (HMAC-SHA256)
 *   NOTIFIER_TELEGRAM_BOT_TOKEN, NOTIFIER_TELEGRAM_CHAT_ID,
 *   NOTIFIER_TELEGRAM_API_URL (https://api.telegram.org)          Telegram Bot API
 *   NOTIFIER_SMTP_HOST, NOTIFIER_SMTP_PORT (587), NOTIFIER_SMTP_SECURE (false),
 *   NOTIFIER_SMTP_USER, NOTIFIER_SMTP_PASSWORD, NOTIFIER_EMAIL_FROM, NOTIFIER_EMAIL_TO (comma list)
 *   NOTIFIER_RENOTIFY_CRITICAL_MIN (15), _INFRASTRUCTURE_MIN (60), _SUPPORT_MIN (240)   dedup periods
 *   NOTIFIER_POLL_MS (2000)          how often maologs is read
 *   NOTIFIER_SESSION_CHECK_MS (60000)  how often the sessions are checked (0 = never)
 *   NOTIFIER_ACCOUNTS                accounts checked even when not running (comma list)
 *   NOTIFIER_FRAME_WARNING_S (600), NOTIFIER_FRAME_CRITICAL_S (1800)  last-frame age thresholds
 */
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../config/env';
import type { AlertTier } from './alert';

const SECRETS = new Set(['NOTIFIER_WEBHOOK_SECRET', 'NOTIFIER_TELEGRAM_BOT_TOKEN', 'NOTIFIER_SMTP_PASSWORD']);

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <T extends z.ZodTypeAny>(s: T) => z.preprocess(blank, s.optional());
const httpUrl = z.string().url('expected an http(s) URL').refine((u) => /^https?:\/\//.test(u), 'expected an http(s) URL');
const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? (/^\d+$/.test(v.trim()) ? Number(v) : v) : v),
    z.number({ invalid_type_error: 'expected a whole number' }).int().min(min).max(max),
  );
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const email = z.string().email('expected an e-mail address');

const EnvSchema = z.object({
  NOTIFIER_WEBHOOK_URL: opt(httpUrl),
  NOTIFIER_WEBHOOK_SECRET: opt(z.string().min(16, 'must be at least 16 characters')),
  NOTIFIER_TELEGRAM_BOT_TOKEN: opt(z.string().regex(/^\d+:[\w-]+$/, 'expected a bot token <digits>:<letters>')),
  NOTIFIER_TELEGRAM_CHAT_ID: opt(z.string().regex(/^(-?\d+|@\w+)$/, 'expected a chat id (a number) or @channel')),
  NOTIFIER_TELEGRAM_API_URL: opt(httpUrl),
  NOTIFIER_SMTP_HOST: opt(z.string()),
  NOTIFIER_SMTP_PORT: opt(int(1, 65535)),
  NOTIFIER_SMTP_SECURE: opt(z.enum(['true', 'false'], { message: 'expected true or false' })),
  NOTIFIER_SMTP_USER: opt(z.string()),
  NOTIFIER_SMTP_PASSWORD: opt(z.string()),
  NOTIFIER_EMAIL_FROM: opt(email),
  NOTIFIER_EMAIL_TO: opt(list.pipe(z.array(email).min(1, 'expected at least one address'))),
  NOTIFIER_RENOTIFY_CRITICAL_MIN: opt(int(1, 10_080)),
  NOTIFIER_RENOTIFY_INFRASTRUCTURE_MIN: opt(int(1, 10_080)),
  NOTIFIER_RENOTIFY_SUPPORT_MIN: opt(int(1, 10_080)),
  NOTIFIER_POLL_MS: opt(int(100, 600_000)),
  NOTIFIER_SESSION_CHECK_MS: opt(int(0, 86_400_000)),
  NOTIFIER_ACCOUNTS: opt(list),
  NOTIFIER_FRAME_WARNING_S: opt(int(1, 86_400)),
  NOTIFIER_FRAME_CRITICAL_S: opt(int(1, 86_400)),
});

export interface NotifierConfig {
  webhook?: { url: string; secret: string };
  telegram?: { botToken: string; chatId: string; baseUrl?: string };
  email?: { host: string; port: number; secure: boolean; user?: string; password?: string; from: string; to: string[] };
  renotifyMs: Record<AlertTier, number>;
  pollMs: number;
  sessionCheckMs: number;
  accounts: string[];
  frameWarningS: number;
  frameCriticalS: number;
}

/** Whether any channel variable is set (the main job starts the notifier only then). */
export function anyChannelConfigured(env: Record<string, string | undefined>): boolean {
  return ['NOTIFIER_WEBHOOK_URL', 'NOTIFIER_TELEGRAM_BOT_TOKEN', 'NOTIFIER_SMTP_HOST'].some((k) => blank(env[k]) !== undefined);
}

export function parseNotifierConfig(env: Record<string, string | undefined>): NotifierConfig {
  const picked = Object.fromEntries(Object.keys(EnvSchema.shape).map((k) => [k, env[k]]));
  const r = EnvSchema.safeParse(picked);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => {
        const variable = String(i.path[0]);
        // zod messages never hold the value for these checks, but a secret's is never quoted anyway.
        const message = SECRETS.has(variable) ? i.message.replace(/"[^"]*"/g, '[redacted]') : i.message;
        return { variable, message };
      }),
    );
  }
  const e = r.data;
  const issues: ConfigIssue[] = [];
  const need = (variable: string, value: unknown, because: string) => {
    if (value === undefined) issues.push({ variable, message: `required when ${because} is set` });
  };
  let webhook: NotifierConfig['webhook'];
  if (e.NOTIFIER_WEBHOOK_URL !== undefined || e.NOTIFIER_WEBHOOK_SECRET !== undefined) {
    need('NOTIFIER_WEBHOOK_URL', e.NOTIFIER_WEBHOOK_URL, 'NOTIFIER_WEBHOOK_SECRET');
    need('NOTIFIER_WEBHOOK_SECRET', e.NOTIFIER_WEBHOOK_SECRET, 'NOTIFIER_WEBHOOK_URL');
    if (e.NOTIFIER_WEBHOOK_URL && e.NOTIFIER_WEBHOOK_SECRET) webhook = { url: e.NOTIFIER_WEBHOOK_URL, secret: e.NOTIFIER_WEBHOOK_SECRET };
  }
  let telegram: NotifierConfig['telegram'];
  if (e.NOTIFIER_TELEGRAM_BOT_TOKEN !== undefined || e.NOTIFIER_TELEGRAM_CHAT_ID !== undefined) {
    need('NOTIFIER_TELEGRAM_BOT_TOKEN', e.NOTIFIER_TELEGRAM_BOT_TOKEN, 'NOTIFIER_TELEGRAM_CHAT_ID');
    need('NOTIFIER_TELEGRAM_CHAT_ID', e.NOTIFIER_TELEGRAM_CHAT_ID, 'NOTIFIER_TELEGRAM_BOT_TOKEN');
    if (e.NOTIFIER_TELEGRAM_BOT_TOKEN && e.NOTIFIER_TELEGRAM_CHAT_ID) {
      telegram = { botToken: e.NOTIFIER_TELEGRAM_BOT_TOKEN, chatId: e.NOTIFIER_TELEGRAM_CHAT_ID, ...(e.NOTIFIER_TELEGRAM_API_URL ? { baseUrl: e.NOTIFIER_TELEGRAM_API_URL } : {}) };
    }
  }
  let email: NotifierConfig['email'];
  if (e.NOTIFIER_SMTP_HOST !== undefined || e.NOTIFIER_EMAIL_TO !== undefined) {
    need('NOTIFIER_SMTP_HOST', e.NOTIFIER_SMTP_HOST, 'NOTIFIER_EMAIL_TO');
    need('NOTIFIER_EMAIL_TO', e.NOTIFIER_EMAIL_TO, 'NOTIFIER_SMTP_HOST');
    need('NOTIFIER_EMAIL_FROM', e.NOTIFIER_EMAIL_FROM, 'NOTIFIER_SMTP_HOST');
    if (e.NOTIFIER_SMTP_PASSWORD !== undefined) need('NOTIFIER_SMTP_USER', e.NOTIFIER_SMTP_USER, 'NOTIFIER_SMTP_PASSWORD');
    if (e.NOTIFIER_SMTP_HOST && e.NOTIFIER_EMAIL_TO && e.NOTIFIER_EMAIL_FROM) {
      email = {
        host: e.NOTIFIER_SMTP_HOST,
        port: e.NOTIFIER_SMTP_PORT ?? 587,
        secure: e.NOTIFIER_SMTP_SECURE === 'true',
        ...(e.NOTIFIER_SMTP_USER !== undefined ? { user: e.NOTIFIER_SMTP_USER, password: e.NOTIFIER_SMTP_PASSWORD } : {}),
        from: e.NOTIFIER_EMAIL_FROM,
        to: e.NOTIFIER_EMAIL_TO,
      };
    }
  }
  const frameWarningS = e.NOTIFIER_FRAME_WARNING_S ?? 600;
  const frameCriticalS = e.NOTIFIER_FRAME_CRITICAL_S ?? 1800;
  if (frameCriticalS < frameWarningS) issues.push({ variable: 'NOTIFIER_FRAME_CRITICAL_S', message: `must not be below NOTIFIER_FRAME_WARNING_S (${frameWarningS})` });
  if (issues.length) throw new ConfigError(issues);
  return {
    ...(webhook ? { webhook } : {}),
    ...(telegram ? { telegram } : {}),
    ...(email ? { email } : {}),
    renotifyMs: {
      'trading-critical': (e.NOTIFIER_RENOTIFY_CRITICAL_MIN ?? 15) * 60_000,
      infrastructure: (e.NOTIFIER_RENOTIFY_INFRASTRUCTURE_MIN ?? 60) * 60_000,
      support: (e.NOTIFIER_RENOTIFY_SUPPORT_MIN ?? 240) * 60_000,
    },
    pollMs: e.NOTIFIER_POLL_MS ?? 2_000,
    sessionCheckMs: e.NOTIFIER_SESSION_CHECK_MS ?? 60_000,
    accounts: e.NOTIFIER_ACCOUNTS ?? [],
    frameWarningS,
    frameCriticalS,
  };
}
