/** notifier/notifier.ts + dedup.ts: one message per alert per channel, de-duplicated per tier, retried, failures isolated. */
import { Notifier } from '../../notifier/notifier';
import { Deduplicator } from '../../notifier/dedup';
import { WebhookChannel } from '../../notifier/webhook';
import { TelegramChannel } from '../../notifier/telegram';
import { fakeEndpoint, type FakeEndpoint } from './fake-http';
import { sampleAlert } from './sample-alert';

const SECRET = 'whsec-0123456789abcdef-SECRET';
const TOKEN = '123456789:AAH-secret_token_value';
let hook: FakeEndpoint;
let tg: FakeEndpoint;
let now: number;
beforeEach(async () => {
  [hook, tg] = await Promise.all([fakeEndpoint(), fakeEndpoint()]);
  now = Date.UTC(2026, 0, 2);
});
afterEach(() => Promise.all([hook.close(), tg.close()]));

const make = (logs: { level: string; obj: unknown; msg: string }[] = []) =>
  new Notifier(
    [new WebhookChannel({ url: hook.url, secret: SECRET }), new TelegramChannel({ botToken: TOKEN, chatId: '42', baseUrl: tg.url })],
    new Deduplicator(),
    {
      now: () => now,
      retry: { initialDelayMs: 5, maxDelayMs: 20, retries: 2 },
      logger: {
        info: ((obj: unknown, msg: string) => void logs.push({ level: 'info', obj, msg })) as never,
        warn: ((obj: unknown, msg: string) => void logs.push({ level: 'warn', obj, msg })) as never,
        error: ((obj: unknown, msg: string) => void logs.push({ level: 'error', obj, msg })) as never,
      },
    },
  );

test('exactly one message per alert on each channel; the same key within 15 min (trading-critical) is not sent again, after it is', async () => {
  const n = make();
  const alert = sampleAlert({ key: 'circuit:ig', kind: 'circuit-opened' });
  expect(await n.notify(alert)).toEqual({ suppressed: false, sent: ['webhook', 'telegram'], failed: [] });
  now += 14 * 60_000;
  expect((await n.notify(alert)).suppressed).toBe(true);
  expect([hook.requests.length, tg.requests.length]).toEqual([1, 1]);
  now += 60_000; // 15 min after the first send
  expect((await n.notify(alert)).sent).toEqual(['webhook', 'telegram']);
  expect([hook.requests.length, tg.requests.length]).toEqual([2, 2]);
});

test('renotify periods per tier (15 min, 60 min, 4 h) and a changed severity is news at once', () => {
  const d = new Deduplicator();
  const t0 = 1_000_000;
  const a = (tier: 'trading-critical' | 'infrastructure' | 'support', severity: 'critical' | 'warning' | 'ok' = 'critical') => sampleAlert({ key: `k-${tier}`, tier, severity });
  for (const tier of ['trading-critical', 'infrastructure', 'support'] as const) expect(d.admit(a(tier), t0)).toBe(true);
  expect([d.admit(a('trading-critical'), t0 + 15 * 60_000 - 1), d.admit(a('infrastructure'), t0 + 59 * 60_000), d.admit(a('support'), t0 + 239 * 60_000)]).toEqual([false, false, false]);
  expect(d.admit(a('infrastructure'), t0 + 60 * 60_000)).toBe(true);
  expect(d.admit(a('support'), t0 + 240 * 60_000)).toBe(true);
  expect(d.admit(a('trading-critical', 'ok'), t0 + 1)).toBe(true); // a recovery goes out at once
  expect(new Deduplicator({ 'trading-critical': 1000 }).admit(a('trading-critical'), 0)).toBe(true);
});

test('a channel answering 500 is retried; one that keeps failing does not stop the other; the log names no secret', async () => {
  const logs: { level: string; obj: unknown; msg: string }[] = [];
  const n = make(logs);
  hook.answers.push({ status: 500 });
  for (let i = 0; i < 3; i++) tg.answers.push({ status: 500, body: `{"ok":false,"description":"down /bot${TOKEN}"}` });
  const r = await n.notify(sampleAlert());
  expect(r.sent).toEqual(['webhook']);
  expect(r.failed).toEqual([{ channel: 'telegram', error: expect.stringContaining('telegram: HTTP 500') }]);
  expect(hook.requests).toHaveLength(2); // 500, then delivered
  expect(tg.requests).toHaveLength(3); // first try + 2 retries
  const logged = JSON.stringify(logs);
  expect(logged).toContain('notifier: alert not delivered');
  expect(logged).not.toContain(TOKEN);
  expect(logged).not.toContain(SECRET);
});

test('when every channel failed the alert is not marked sent: its next occurrence is tried again', async () => {
  const n = make();
  for (let i = 0; i < 3; i++) {
    hook.answers.push({ status: 503 });
    tg.answers.push({ status: 503 });
  }
  const first = await n.notify(sampleAlert());
  expect(first.sent).toEqual([]);
  expect(first.failed.map((f) => f.channel)).toEqual(['webhook', 'telegram']);
  const second = await n.notify(sampleAlert());
  expect(second).toEqual({ suppressed: false, sent: ['webhook', 'telegram'], failed: [] });
});
