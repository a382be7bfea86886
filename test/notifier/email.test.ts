/** notifier/email.ts (nodemailer) against a local SMTP server (the smtp-server package). */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { EmailChannel } from '../../notifier/email';
import { ChannelError } from '../../notifier/channel';
import { withRetry } from '../../notifier/retry';
import { sampleAlert } from './sample-alert';

const PASSWORD = 'smtp-Pa55word-secret';
interface Received {
  from: string;
  to: string[];
  user: string;
  raw: string;
}

/** Quoted-printable and soft line breaks → text (nodemailer encodes the body so when it is not ASCII). */
function decodeQp(s: string): string {
  const bytes: number[] = [];
  const flat = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] === '=' && /^[0-9A-F]{2}$/.test(flat.slice(i + 1, i + 3))) {
      bytes.push(parseInt(flat.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(flat[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
}

let server: SMTPServer;
let port: number;
const received: Received[] = [];
/** Replies for the next DATA commands: a code makes the server refuse the message with it. */
const refuse: number[] = [];

beforeAll(async () => {
  server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'ops' && auth.password === PASSWORD) cb(null, { user: 'ops' });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = refuse.shift();
        if (code) return cb(Object.assign(new Error('try again later'), { responseCode: code }));
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: String(session.user),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
});

const channel = (password = PASSWORD) =>
  new EmailChannel({ host: '127.0.0.1', port, user: 'ops', password, from: 'maotrade@example.org', to: ['desk@example.org', 'oncall@example.org'], timeoutMs: 5_000 });

test('one message to every recipient, authenticated, with the subject and the text a person reads', async () => {
  const ch = channel();
  await ch.send(sampleAlert());
  ch.close();
  expect(received).toHaveLength(1);
  const [m] = received;
  expect(m.user).toBe('ops');
  expect(m.from).toBe('maotrade@example.org');
  expect(m.to).toEqual(['desk@example.org', 'oncall@example.org']);
  expect(m.raw).toMatch(/^Subject: \[MAOTrade CRITICAL\] account acc1: trading halted\r?$/m);
  // nodemailer normalises header case.
  expect(m.raw).toMatch(/^X-Maotrade-Alert-Key: trading-state:acc1:halted:1767323045000\r?$/im);
  const body = decodeQp(m.raw.split(/\r?\n\r?\n/).slice(1).join('\n\n'));
  expect(body).toContain('Trading state set to halted from active by alice: broker outage.');
  expect(body).toContain('kind: trading-state-changed · tier: trading-critical · account: acc1');
  expect(m.raw).not.toContain(PASSWORD);
});

test('a 451 (try later) is retried and delivered once; a wrong password fails at once without showing it', async () => {
  refuse.push(451);
  const ch = channel();
  await withRetry(() => ch.send(sampleAlert()), { initialDelayMs: 10 });
  ch.close();
  expect(received).toHaveLength(1);

  const bad = channel('wrong-secret-password');
  const err = (await withRetry(() => bad.send(sampleAlert()), { initialDelayMs: 10 }).catch((e: unknown) => e)) as ChannelError;
  bad.close();
  expect(err).toBeInstanceOf(ChannelError);
  expect(err.retryable).toBe(false);
  expect(err.message).toMatch(/^email: .*535/);
  expect(err.message).not.toContain('wrong-secret-password');
  expect(received).toHaveLength(1);
});
