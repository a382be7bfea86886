/**
 * The gateway's entry point (`api/main.ts`) as a process: a bad API_PORT (or any bad variable) stops it
 * with exit 78 naming every bad variable; with a good environment it serves and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { ROOT, TEST_ENV } from '../support/env';
import { loadGatewayConfigOrExit } from '../../api/main';

const MAIN = path.join(ROOT, 'api', 'main.ts');

function run(env: Record<string, string>, untilMs = 30_000, onStart?: (stop: () => void) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...TEST_ENV, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not exit within ${untilMs} ms; stderr: ${stderr}`));
    }, untilMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    onStart?.(() => child.kill('SIGTERM'));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('API_PORT defaults to 8080; blank counts as unset; a valid one is used', () => {
  expect(loadGatewayConfigOrExit({}).port).toBe(8080);
  expect(loadGatewayConfigOrExit({ API_PORT: ' ' }).port).toBe(8080);
  // Loopback unless opened on purpose (issue 12).
  expect(loadGatewayConfigOrExit({ API_PORT: '9031' })).toMatchObject({ port: 9031, host: '127.0.0.1', trustProxy: false });
  expect(loadGatewayConfigOrExit({ API_HOST: '0.0.0.0', API_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' })).toMatchObject({ host: '0.0.0.0', trustProxy: ['10.0.0.0/8', '127.0.0.1'] });
  expect(loadGatewayConfigOrExit({ API_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  expect(loadGatewayConfigOrExit({ API_PORT: '9031', LOG_LEVEL: 'debug' }).config.logLevel).toBe('debug');
});

test('a bad API_PORT stops start-up with exit 78 naming it, together with any other bad variable', async () => {
  for (const port of ['abc', '0', '70000', '80.5']) {
    const r = await run({ API_PORT: port });
    expect([port, r.code]).toEqual([port, 78]);
    expect(r.stderr).toContain(`API_PORT: expected a port number 1-65535, got "${port}"`);
  }
  const both = await run({ API_PORT: 'x', TEMPORAL_ADDRESS: 'nowhere' });
  expect(both.code).toBe(78);
  expect(both.stderr).toMatch(/TEMPORAL_ADDRESS: .*\n.*API_PORT: /);
});

test('with a good environment it serves the OpenAPI document on API_PORT and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  let served: number | undefined;
  const r = await run({ API_PORT: String(port) }, 60_000, (stop) => {
    void (async () => {
      for (let i = 0; i < 200 && served === undefined; i++) {
        await new Promise((res) => setTimeout(res, 150));
        served = await fetch(`http://127.0.0.1:${port}/openapi.json`).then((res) => res.status, () => undefined);
      }
      stop();
    })();
  });
  expect(served).toBe(200);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('"msg":"gateway listening"');
  expect(r.stdout).toContain('"service":"gateway"');
});
