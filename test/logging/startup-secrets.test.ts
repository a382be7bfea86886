/**
 * Start-up refuses a broker endpoint that would carry credentials in clear text (issue 12, items 4 and
 * 6): the real IG broker worker process (compiled by the global setup, as deployed) with
 * `IG_BASE_URL=http://…` stops before it polls, exit 78, naming the variable, and what it writes holds
 * neither the API key nor the password it was given.
 */
import { spawn } from 'node:child_process';
import { ROOT, TEST_ENV } from '../support/env';

const KEY = 'k3y-never-shown';
const PASSWORD = 'pw-never-shown';

function brokerWorker(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['.run/dist/broker-worker.js', 'ig'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...TEST_ENV, LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('IG_BASE_URL=http://… stops the IG broker worker at start-up, naming the variable and no secret', async () => {
  const run = await brokerWorker({
    IG_API_KEY: KEY,
    IG_IDENTIFIER: 'someone',
    IG_PASSWORD: PASSWORD,
    IG_ACCOUNT_ID: 'ABC123',
    IG_BASE_URL: 'http://demo-api.ig.com/gateway/deal',
  });
  expect(run.code).toBe(78);
  expect(run.output).toMatch(/IG_BASE_URL: must be an https URL/);
  expect(run.output).not.toContain('"state":"RUNNING"');
  expect(run.output).not.toContain(KEY);
  expect(run.output).not.toContain(PASSWORD);
});
