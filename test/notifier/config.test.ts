/** notifier/config.ts: channels from the environment; every error names its variable and never a secret. */
import { ConfigError } from '../../config/env';
import { anyChannelConfigured, parseNotifierConfig } from '../../notifier/config';

const SECRET = 'whsec-0123456789abcdef-SECRET';
const TOKEN = '123456789:AAH-secret_token_value';

test('nothing set: no channel, the defaults (renotify 15/60/240 min, poll 2 s, session check 1 min)', () => {
  expect(anyChannelConfigured({})).toBe(false);
  expect(parseNotifierConfig({})).toEqual({
    renotifyMs: { 'trading-critical': 900_000, infrastructure: 3_600_000, support: 14_400_000 },
    pollMs: 2000,
    sessionCheckMs: 60_000,
    accounts: [],
    frameWarningS: 600,
    frameCriticalS: 1800,
  });
});

test('all three channels', () => {
  const env = {
    NOTIFIER_WEBHOOK_URL: 'https://hooks.example.org/mao',
    NOTIFIER_WEBHOOK_SECRET: SECRET,
    NOTIFIER_TELEGRAM_BOT_TOKEN: TOKEN,
    NOTIFIER_TELEGRAM_CHAT_ID: '-100123',
    NOTIFIER_SMTP_HOST: 'smtp.example.org',
    NOTIFIER_SMTP_USER: 'ops',
    NOTIFIER_SMTP_PASSWORD: 'pw',
    NOTIFIER_EMAIL_FROM: 'mao@example.org',
    NOTIFIER_EMAIL_TO: 'a@example.org, b@example.org',
    NOTIFIER_ACCOUNTS: 'demo,acc2',
    NOTIFIER_RENOTIFY_CRITICAL_MIN: '5',
  };
  expect(anyChannelConfigured(env)).toBe(true);
  const c = parseNotifierConfig(env);
  expect(c.webhook).toEqual({ url: 'https://hooks.example.org/mao', secret: SECRET });
  expect(c.telegram).toEqual({ botToken: TOKEN, chatId: '-100123' });
  expect(c.email).toEqual({ host: 'smtp.example.org', port: 587, secure: false, user: 'ops', password: 'pw', from: 'mao@example.org', to: ['a@example.org', 'b@example.org'] });
  expect(c.accounts).toEqual(['demo', 'acc2']);
  expect(c.renotifyMs['trading-critical']).toBe(300_000);
});

test('bad and half-set values: every variable named at once, no secret value in the message', () => {
  const bad = () =>
    parseNotifierConfig({
      NOTIFIER_WEBHOOK_URL: 'ftp://x',
      NOTIFIER_WEBHOOK_SECRET: 'short',
      NOTIFIER_TELEGRAM_BOT_TOKEN: 'not-a-token-but-a-secret',
      NOTIFIER_SMTP_PORT: 'abc',
      NOTIFIER_EMAIL_TO: 'nobody',
    });
  expect(bad).toThrow(ConfigError);
  let err: ConfigError | undefined;
  try {
    bad();
  } catch (e) {
    err = e as ConfigError;
  }
  expect(err!.issues.map((i) => i.variable).sort()).toEqual(['NOTIFIER_EMAIL_TO', 'NOTIFIER_SMTP_PORT', 'NOTIFIER_TELEGRAM_BOT_TOKEN', 'NOTIFIER_WEBHOOK_SECRET', 'NOTIFIER_WEBHOOK_URL']);
  expect(err!.message).not.toContain('not-a-token-but-a-secret');
  expect(err!.message).not.toMatch(/"short"/);
  expect(err!.message).toContain('NOTIFIER_WEBHOOK_SECRET: must be at least 16 characters');

  const half = () => parseNotifierConfig({ NOTIFIER_WEBHOOK_URL: 'https://h.example.org', NOTIFIER_TELEGRAM_CHAT_ID: '42', NOTIFIER_SMTP_HOST: 'smtp.example.org' });
  expect(half).toThrow(/NOTIFIER_WEBHOOK_SECRET: required when NOTIFIER_WEBHOOK_URL is set/);
  expect(half).toThrow(/NOTIFIER_TELEGRAM_BOT_TOKEN: required when NOTIFIER_TELEGRAM_CHAT_ID is set/);
  expect(half).toThrow(/NOTIFIER_EMAIL_TO: required when NOTIFIER_SMTP_HOST is set/);
  expect(() => parseNotifierConfig({ NOTIFIER_FRAME_WARNING_S: '900', NOTIFIER_FRAME_CRITICAL_S: '60' })).toThrow(/NOTIFIER_FRAME_CRITICAL_S: must not be below NOTIFIER_FRAME_WARNING_S \(900\)/);
});
