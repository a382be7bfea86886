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
  ports?: (string | number | { target?: number; published?: number | string; host_ip?: string })[];
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
    expect((services['temporal-ui'].ports ?? []).map((p) => interpolate(String(p)))).toContain('127.0.0.1:8080:8080');
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

/** The file as Compose resolves it (`docker-compose config`) with only `env` set; the YAML itself when Compose is absent. */
function resolved(env: Record<string, string> = {}): Record<string, Service> {
  if (!hasCompose()) return services;
  const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
  });
  expect(r.status).toBe(0);
  return (parse(r.stdout) as { services: Record<string, Service> }).services;
}

/** Each published port as [service, host IP ('' = every interface), host port]. */
function publishedPorts(svcs: Record<string, Service>): [string, string, string][] {
  return Object.entries(svcs).flatMap(([name, svc]) =>
    (svc.ports ?? []).map((p): [string, string, string] => {
      if (typeof p === 'object') return [name, p.host_ip ?? '', String(p.published ?? '')];
      const parts = interpolate(String(p)).replace(/\/\w+$/, '').split(':');
      return parts.length === 3 ? [name, parts[0], parts[1]] : [name, '', parts[0]];
    }),
  );
}

describe('docker-compose.yml is closed by default (invariant 13)', () => {
  test('every published port binds 127.0.0.1 unless a variable opens it', () => {
    const ports = publishedPorts(resolved());
    expect(ports.map(([name]) => name).sort()).toEqual(['gateway', 'temporal', 'temporal-ui']);
    for (const [name, ip] of ports) expect([name, ip]).toEqual([name, '127.0.0.1']);
    // Opened on purpose, one at a time.
    const opened = publishedPorts(resolved({ TEMPORAL_UI_BIND: '0.0.0.0' }));
    expect(opened.find(([n]) => n === 'temporal-ui')?.[1]).toBe('0.0.0.0');
    expect(opened.filter(([n]) => n !== 'temporal-ui').every(([, ip]) => ip === '127.0.0.1')).toBe(true);
  });

  test('the Temporal UI runs with write actions disabled, whatever the environment says', () => {
    for (const env of [{}, { TEMPORAL_DISABLE_WRITE_ACTIONS: 'false' }] as Record<string, string>[]) {
      expect(envOf(resolved(env)['temporal-ui']).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    }
  });

  test('the gateway listens on every interface inside its container only, and trusts no proxy by default', () => {
    const env = envOf(services.gateway);
    expect(env).toMatchObject({ API_HOST: '0.0.0.0', API_TRUST_PROXY: 'false' });
  });

  test("the MySQL application user gets privileges on maohome, maodata, maopaper and mt_% only (never *.*, never Temporal's)", () => {
    // The init script as sh runs it (heredoc escapes included), with `mysql` printing what it would send.
    const script = interpolate((services['mysql-init'].command as string[])[2]);
    const r = spawnSync('sh', ['-c', `mysql() { cat; }\n${script}`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', MAOTRADE_PASSWORD: 'pw1', TEMPORAL_PASSWORD: 'pw2' },
    });
    expect(r.status).toBe(0);
    const statements = r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^(GRANT|REVOKE)\b/i.test(l));
    const app = statements.filter((l) => l.includes("'maotrade'@"));
    expect(app).toEqual([
      "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'maotrade'@'%';",
      "GRANT ALL PRIVILEGES ON `maohome`.* TO 'maotrade'@'%';",
      "GRANT ALL PRIVILEGES ON `maodata`.* TO 'maotrade'@'%';",
      "GRANT ALL PRIVILEGES ON `maopaper`.* TO 'maotrade'@'%';",
      "GRANT ALL PRIVILEGES ON `mt\\_%`.* TO 'maotrade'@'%';",
    ]);
    expect(statements.filter((l) => /\bON \*\.\*/.test(l))).toEqual([]);
    expect(statements.filter((l) => l.includes("'temporal'@")).map((l) => /ON (\S+) TO/.exec(l)?.[1])).toEqual(['temporal.*', 'temporal_visibility.*']);
  });

  test('the local stack (scripts/stack.sh) grants the application user the project schemas only', () => {
    const stack = fs.readFileSync(path.join(ROOT, 'scripts', 'stack.sh'), 'utf8');
    expect(stack).not.toMatch(/ON \*\.\*/);
    expect(stack).toContain('REVOKE ALL PRIVILEGES, GRANT OPTION FROM $u;');
    const loop = /for db in ([^;]+); do sql\+="GRANT ALL PRIVILEGES ON \\`\$db\\`\.\* TO \$u;"; done/.exec(stack);
    expect(loop?.[1].split(' ')).toEqual(['maohome', 'maodata', 'maopaper', "'mt\\_%'"]);
  });
});
