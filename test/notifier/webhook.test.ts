/** notifier/webhook.ts against a local HTTP endpoint: the JSON, the HMAC, retry on 500, no secret sent. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookChannel, SIGNATURE_HEADER, signBody } from '../../notifier/webhook';
import { ChannelError } from '../../notifier/channel';
import { withRetry } from '../../notifier/retry';
import { fakeEndpoint, type FakeEndpoint } from './fake-http';
import { sampleAlert } from './sample-alert';

const SECRET = 'whsec-0123456789abcdef-SECRET';
let ep: FakeEndpoint;
beforeEach(async () => {
  ep = await fakeEndpoint();
});
afterEach(() => ep.close());

test('one POST with the alert as JSON, signed with HMAC-SHA256 over the raw body', async () => {
  const alert = sampleAlert();
  await new WebhookChannel({ url: `${ep.url}/hook`, secret: SECRET }).send(alert);
  expect(ep.requests).toHaveLength(1);
  const [r] = ep.requests;
  expect(r.method).toBe('POST');
  expect(r.url).toBe('/hook');
  expect(r.headers['content-type']).toBe('application/json');
  expect(JSON.parse(r.body)).toEqual({
    source: 'maotrade',
    kind: 'trading-state-changed',
    key: alert.key,
    tier: 'trading-critical',
    severity: 'critical',
    title: 'account acc1: trading halted',
    text: alert.text,
    account: 'acc1',
    at: '2026-01-02T03:04:05.000Z',
    fields: alert.fields,
  });
  // The receiver's side: recompute and compare in constant time.
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
  const got = Buffer.from(String(r.headers[SIGNATURE_HEADER]));
  expect(got.length).toBe(expected.length);
  expect(timingSafeEqual(got, expected)).toBe(true);
  expect(signBody(r.body, 'another secret')).not.toBe(String(r.headers[SIGNATURE_HEADER]));
  expect(r.headers['x-maotrade-alert-key']).toBe(alert.key);
  expect(JSON.stringify(r.headers) + r.body).not.toContain(SECRET);
});

test('a 500 is retried with backoff and delivered once; a 400 is not retried', async () => {
  const ch = new WebhookChannel({ url: ep.url, secret: SECRET });
  ep.answers.push({ status: 500, body: 'boom' }, { status: 503 });
  await withRetry(() => ch.send(sampleAlert()), { initialDelayMs: 10, maxDelayMs: 50 });
  expect(ep.requests).toHaveLength(3);
  expect(new Set(ep.requests.map((r) => r.body)).size).toBe(1);

  ep.requests.length = 0;
  ep.answers.push({ status: 400, body: 'bad' });
  const err = await withRetry(() => ch.send(sampleAlert()), { initialDelayMs: 10 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ChannelError);
  expect((err as ChannelError).message).toBe('webhook: HTTP 400: bad');
  expect(ep.requests).toHaveLength(1);
});

test('retries run out: the error names the status, never the secret, even when the far end echoes it', async () => {
  const ch = new WebhookChannel({ url: ep.url, secret: SECRET });
  for (let i = 0; i < 3; i++) ep.answers.push({ status: 502, body: `bad gateway ${SECRET}` });
  const err = (await withRetry(() => ch.send(sampleAlert()), { retries: 2, initialDelayMs: 5 }).catch((e: unknown) => e)) as ChannelError;
  expect(ep.requests).toHaveLength(3);
  expect(err.retryable).toBe(true);
  expect(err.message).toBe('webhook: HTTP 502: bad gateway [redacted]');
  const gone = await fakeEndpoint();
  await gone.close();
  const closed = new WebhookChannel({ url: `${gone.url}/none`, secret: SECRET });
  const net = (await closed.send(sampleAlert()).catch((e: unknown) => e)) as ChannelError;
  expect(net.retryable).toBe(true);
  expect(net.message).toMatch(/^webhook: cannot reach the endpoint: ECONNREFUSED/);
});
