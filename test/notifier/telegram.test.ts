/** notifier/telegram.ts against a local fake of the Bot API (sendMessage). */
import { TelegramChannel } from '../../notifier/telegram';
import { ChannelError } from '../../notifier/channel';
import { withRetry } from '../../notifier/retry';
import { fakeEndpoint, type FakeEndpoint } from './fake-http';
import { sampleAlert } from './sample-alert';

const TOKEN = '123456789:AAH-secret_token_value';
let ep: FakeEndpoint;
beforeEach(async () => {
  ep = await fakeEndpoint();
});
afterEach(() => ep.close());

test('sendMessage to the chat with the subject and the text a person reads', async () => {
  await new TelegramChannel({ botToken: TOKEN, chatId: '-1001234', baseUrl: `${ep.url}/` }).send(sampleAlert());
  expect(ep.requests).toHaveLength(1);
  const [r] = ep.requests;
  expect(r.method).toBe('POST');
  expect(r.url).toBe(`/bot${TOKEN}/sendMessage`);
  const body = JSON.parse(r.body) as { chat_id: string; text: string };
  expect(body.chat_id).toBe('-1001234');
  expect(body.text).toBe(
    [
      '[MAOTrade CRITICAL] account acc1: trading halted',
      '',
      'Trading state set to halted from active by alice: broker outage. Nothing passes; broker-side stops stay in place.',
      '',
      'kind: trading-state-changed · tier: trading-critical · account: acc1',
      'at: 2026-01-02T03:04:05.000Z',
    ].join('\n'),
  );
  expect(body.text).not.toContain(TOKEN);
});

test('a 500 is retried; a 401 is final and its error never shows the token (which is in the URL)', async () => {
  const ch = new TelegramChannel({ botToken: TOKEN, chatId: '42', baseUrl: ep.url });
  ep.answers.push({ status: 500, body: '{"ok":false,"description":"Internal"}' });
  await withRetry(() => ch.send(sampleAlert()), { initialDelayMs: 5 });
  expect(ep.requests).toHaveLength(2);

  ep.requests.length = 0;
  ep.answers.push({ status: 401, body: `{"ok":false,"description":"Unauthorized for /bot${TOKEN}"}` });
  const err = (await withRetry(() => ch.send(sampleAlert()), { initialDelayMs: 5 }).catch((e: unknown) => e)) as ChannelError;
  expect(err).toBeInstanceOf(ChannelError);
  expect(err.retryable).toBe(false);
  expect(ep.requests).toHaveLength(1);
  expect(err.message).toContain('HTTP 401');
  expect(err.message).not.toContain(TOKEN);
  expect(err.message).toContain('/bot[redacted]');
});

test('an answer ok=false is a failure naming the description', async () => {
  ep.answers.push({ status: 200, body: '{"ok":false,"description":"Bad Request: chat not found"}' });
  const err = (await new TelegramChannel({ botToken: TOKEN, chatId: '42', baseUrl: ep.url }).send(sampleAlert()).catch((e: unknown) => e)) as Error;
  expect(err.message).toBe('telegram: Bot API answered ok=false: Bad Request: chat not found');
});
