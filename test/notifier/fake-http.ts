/** A local HTTP endpoint that records every request and answers from a script (default 200 {"ok":true}). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeEndpoint {
  url: string;
  requests: Recorded[];
  /** Answers for the next requests, in order; then 200. */
  answers: { status: number; body?: string }[];
  close(): Promise<void>;
}

export async function fakeEndpoint(): Promise<FakeEndpoint> {
  const requests: Recorded[] = [];
  const answers: { status: number; body?: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const a = answers.shift() ?? { status: 200, body: '{"ok":true}' };
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
