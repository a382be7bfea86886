/**
 * docker-compose.yml is the one deployment shape (docs/architecture.md, invariant 10). No Docker engine
 * is needed here: `docker-compose config -q` (when the binary exists) checks the file the way
 * Compose reads it, and the YAML itself is checked against what the engine needs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { BROKER_NAMES } from '../../brokers';
import { parseEnv } from '../../config/env';
import { SEARCH_ATTRIBUTE_NAMES } from './search-attributes';

const ROOT = path.resolve(__dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

type Scalar = string | number | boolean | null;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, Scalar> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  ports?: (string | number | { target?: number })[];
}

const raw = fs.readFileSync(COMPOSE_FILE, 'utf8');
const compose = parse(raw, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/** What Compose substitutes with an empty environment: `${VAR:-default}` → default, `$$` → `$`. */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{(\w+)(?::?[-?]([^}]*))?\}|\$(\w+)/g, (m, _braced, def) =>
    m === '$$' ? '$' : (def ?? ''),
  );
}

function envOf(svc: Service): Record<string, string> {
  const env = svc.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const)
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)] as const);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v)]));
}

function commandOf(svc: Service): string[] {
  const cmd = svc.command ?? [];
  return typeof cmd === 'string' ? cmd.trim().split(/\s+/) : cmd.map(String);
}

function dependsOn(svc: Service): Record<string, string> {
  const deps = svc.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v?.condition ?? 'service_started']));
}

const brokerServices = Object.keys(services).filter((name) => name.startsWith('broker-'));
const workerServices = ['session-worker', ...brokerServices];

function hasCompose(): boolean {
  const r = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

describe('docker-compose.yml', () => {
  (hasCompose() ? test : test.skip)('docker-compose config -q accepts it without a .env file', () => {
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      encoding: 'utf8',
      // Only PATH/HOME: the defaults in the file must be enough.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('has the whole stack', () => {
    for (const name of ['temporal', 'temporal-ui', 'temporal-admin-tools', 'mysql', 'mongo', 'session-worker', 'broker-paper']) {
      expect(services).toHaveProperty([name]);
    }
    expect(interpolate(services.temporal.image ?? '')).toMatch(/^temporalio\/auto-setup:/);
    expect(interpolate(services['temporal-ui'].image ?? '')).toMatch(/^temporalio\/ui:/);
    expect(interpolate(services['temporal-admin-tools'].image ?? '')).toMatch(/^temporalio\/admin-tools:/);
    expect(interpolate(services.mysql.image ?? '')).toMatch(/^mysql:8/);
    expect(interpolate(services.mongo.image ?? '')).toMatch(/^mongo:7/);
    expect((services['temporal-ui'].ports ?? []).map((p) => interpolate(String(p)))).toContain('8080:8080');
  });

  test('every ${VAR} has a default, so no .env file is needed', () => {
    const bare = [...raw.replace(/\$\$/g, '').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    expect(bare).toEqual([]);
  });

  test('Temporal persists to MySQL 8 and the databases have healthchecks', () => {
    const env = envOf(services.temporal);
    expect(env.DB).toBe('mysql8');
    expect(env.MYSQL_SEEDS).toBe('mysql');
    expect(dependsOn(services.temporal).mysql).toBe('service_healthy');
    for (const name of ['temporal', 'mysql', 'mongo']) {
      expect(services[name].healthcheck?.test).toBeDefined();
    }
  });

  test('the search attributes MaoAccount, MaoBroker, MaoStatus, MaoTradingState are registered as Keyword', () => {
    const setup = services['temporal-admin-tools'];
    const script = [...[setup.entrypoint ?? []].flat(), ...commandOf(setup)].join(' ');
    for (const sa of SEARCH_ATTRIBUTE_NAMES) expect(script).toContain(sa);
    expect(script).toMatch(/temporal operator search-attribute create .*--type Keyword/);
    expect(dependsOn(setup).temporal).toBe('service_healthy');
  });

  test.each(workerServices)('%s: configured by environment only, valid for config/env.ts', (name) => {
    const env = envOf(services[name]);
    for (const key of ['TEMPORAL_ADDRESS', 'MYSQL_URL', 'MONGO_URL', 'LOG_LEVEL', 'TRADING_ENABLE', 'DAILY_CLEAN_TIME']) {
      expect(env).toHaveProperty([key]);
    }
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(new URL(env.MYSQL_URL)).toMatchObject({ protocol: 'mysql:', hostname: 'mysql', port: '3306' });
    expect(new URL(env.MONGO_URL)).toMatchObject({ protocol: 'mongodb:', hostname: 'mongo', pathname: '/maologs' });
    // The app's own schema accepts the defaults (a bad value here would crash-loop the container).
    expect(() => parseEnv(env)).not.toThrow();
    const deps = dependsOn(services[name]);
    expect(deps).toMatchObject({ temporal: 'service_healthy', mysql: 'service_healthy', mongo: 'service_healthy' });
    expect(deps['temporal-admin-tools']).toBe('service_completed_successfully');
  });

  test.each(workerServices)('%s: built from the Dockerfile, its command runs a file in the repo', (name) => {
    const svc = services[name];
    const context = typeof svc.build === 'string' ? svc.build : svc.build?.context;
    expect(context).toBe('.');
    expect(fs.existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
    const files = commandOf(svc).filter((arg) => /\.[cm]?[jt]s$/.test(arg));
    expect(files).not.toHaveLength(0);
    for (const file of files) expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
  });

  test('session-worker runs workers/session-worker.ts', () => {
    expect(commandOf(services['session-worker'])).toEqual(['node', '.run/dist/session-worker.js']);
  });

  test('one service per broker, broker-<name>, running the broker worker for that broker', () => {
    expect([...brokerServices].sort()).toEqual(BROKER_NAMES.map((b) => `broker-${b}`).sort());
    for (const broker of BROKER_NAMES) {
      expect(commandOf(services[`broker-${broker}`])).toEqual(['node', '.run/dist/broker-worker.js', broker]);
    }
  });
});
