/**
 * scripts/stack.sh registers every search attribute the sessions use, also on a Temporal dev server that
 * an earlier stack.sh started with fewer of them (before MaoTradingState). The upgrade path runs on a
 * throwaway dev server of its own (in memory, free ports) through a copy of the script whose `.stack/`
 * is a temporary directory, so the shared stack is never touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ROOT, TEST_ENV } from '../support/env';
import { SEARCH_ATTRIBUTE_NAMES } from './search-attributes';

const SCRIPT = path.join(ROOT, 'scripts', 'stack.sh');
const TEMPORAL_BIN = path.join(ROOT, '.stack', 'bin', 'temporal');
const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

async function customAttributes(address: string, namespace = 'default'): Promise<Record<string, number>> {
  const connection = await Connection.connect({ address });
  try {
    const r = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.fromEntries(Object.entries(r.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
  } finally {
    await connection.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

test('the script registers every search attribute of workflows/definitions.ts, and the running dev server has them all as Keyword', async () => {
  const line = /^SEARCH_ATTRIBUTES=\(([^)]*)\)$/m.exec(fs.readFileSync(SCRIPT, 'utf8'));
  expect(line?.[1].split(/\s+/).sort()).toEqual([...SEARCH_ATTRIBUTE_NAMES].sort());
  const live = await customAttributes(TEST_ENV.TEMPORAL_ADDRESS, TEST_ENV.TEMPORAL_NAMESPACE);
  for (const name of SEARCH_ATTRIBUTE_NAMES) expect([name, live[name]]).toEqual([name, KEYWORD]);
});

describe('stack.sh up on a dev server started by the previous stack.sh (without MaoTradingState)', () => {
  let dir: string;
  let server: ChildProcess | undefined;

  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('registers the missing attribute, then is idempotent', async () => {
    expect(fs.existsSync(TEMPORAL_BIN)).toBe(true);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-sa-'));
    const bin = path.join(dir, '.stack', 'bin');
    fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
    for (const d of ['bin', 'logs', 'pids']) fs.mkdirSync(path.join(dir, '.stack', d), { recursive: true });
    fs.copyFileSync(SCRIPT, path.join(dir, 'scripts', 'stack.sh'));
    fs.symlinkSync(TEMPORAL_BIN, path.join(bin, 'temporal'));

    const [port, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const address = `127.0.0.1:${port}`;
    const old = SEARCH_ATTRIBUTE_NAMES.filter((n) => n !== 'MaoTradingState');
    // Started the way the previous stack.sh did (its binary path, its pid file), with the old attributes only.
    server = spawn(
      path.join(bin, 'temporal'),
      ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--http-port', String(httpPort), '--metrics-port', String(metricsPort), '--headless', '--log-level', 'error',
        ...old.flatMap((n) => ['--search-attribute', `${n}=Keyword`])],
      { stdio: 'ignore' },
    );
    fs.writeFileSync(path.join(dir, '.stack', 'pids', 'temporal.pid'), String(server.pid));
    for (let i = 0; ; i++) {
      const attrs = await customAttributes(address).catch(() => undefined);
      if (attrs && old.every((n) => attrs[n] === KEYWORD)) break;
      if (i > 120) throw new Error('throwaway dev server did not come up');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await customAttributes(address)).MaoTradingState).toBeUndefined();

    const up = () =>
      spawnSync('bash', [path.join(dir, 'scripts', 'stack.sh'), 'up'], {
        encoding: 'utf8',
        env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_UI_PORT: String(httpPort), STACK_TIMEOUT: '30' },
        timeout: 90_000,
      });
    const first = up();
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    expect(first.stdout).toContain('registering search attribute MaoTradingState (Keyword) on the running server');
    expect(first.stdout).toMatch(new RegExp(`✓ temporal\\s+${address.replace(/\./g, '\\.')} `));
    const after = await customAttributes(address);
    for (const name of SEARCH_ATTRIBUTE_NAMES) expect([name, after[name]]).toEqual([name, KEYWORD]);

    const second = up();
    expect(second.status).toBe(0);
    expect(second.stdout).not.toContain('registering search attribute');
    expect(server.exitCode).toBeNull(); // the running server was kept, not restarted
  });
});
