/** nagios/maotrade.cfg: three tiers with the original system's intervals; every service resolvable. */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/env';
import { DEFAULT_METRICS_PORTS, MAIN_JOB, renderNagiosConfig } from '../../ops/nagios-config';

interface NagiosObject {
  type: string;
  props: Record<string, string>;
}

/** Parses Nagios object definitions: `define <type> { key value ... }`, `#`/`;` comments. */
function parseNagios(text: string): NagiosObject[] {
  const objects: NagiosObject[] = [];
  let current: NagiosObject | null = null;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim();
    if (!line) continue;
    const open = /^define\s+(\w+)\s*\{$/.exec(line);
    if (open) {
      if (current) throw new Error(`line ${i + 1}: define inside a define`);
      current = { type: open[1], props: {} };
      continue;
    }
    if (line === '}') {
      if (!current) throw new Error(`line ${i + 1}: } without define`);
      objects.push(current);
      current = null;
      continue;
    }
    if (!current) throw new Error(`line ${i + 1}: "${line}" outside a define`);
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1}: "${line}" is not "key value"`);
    current.props[m[1]] = m[2].trim();
  }
  if (current) throw new Error('unterminated define');
  return objects;
}

const cfg = parseNagios(fs.readFileSync(path.join(ROOT, 'nagios', 'maotrade.cfg'), 'utf8'));
const services = cfg.filter((o) => o.type === 'service');
const templates = new Map(services.filter((s) => s.props.register === '0').map((s) => [s.props.name, s]));
const concrete = services.filter((s) => s.props.register !== '0');
const commands = new Map(cfg.filter((o) => o.type === 'command').map((c) => [c.props.command_name, c.props.command_line]));

/** The tier template a service ends up at, following `use` chains. */
function tierOf(service: NagiosObject): string {
  let s: NagiosObject | undefined = service;
  for (let depth = 0; s && depth < 10; depth++) {
    if (s.props.name && TIERS[s.props.name]) return s.props.name;
    s = s.props.use ? templates.get(s.props.use) : undefined;
  }
  throw new Error(`service "${service.props.service_description}" does not use a tier template`);
}

/** Inclusive minute ranges from the original system. */
const TIERS: Record<string, { check: [number, number]; notify: [number, number] }> = {
  'maotrade-trading-critical': { check: [5, 8], notify: [15, 30] },
  'maotrade-infrastructure': { check: [3, 10], notify: [60, 60] },
  'maotrade-support': { check: [10, Infinity], notify: [240, 1440] },
};

test.each(Object.entries(TIERS))('tier %s has its intervals in range', (name, range) => {
  const t = templates.get(name);
  expect(t).toBeDefined();
  const check = Number(t!.props.check_interval);
  const notify = Number(t!.props.notification_interval);
  expect(check).toBeGreaterThanOrEqual(range.check[0]);
  expect(check).toBeLessThanOrEqual(range.check[1]);
  expect(notify).toBeGreaterThanOrEqual(range.notify[0]);
  expect(notify).toBeLessThanOrEqual(range.notify[1]);
});

test('every service uses a defined template and a defined command with the right number of arguments', () => {
  expect(concrete.length).toBeGreaterThanOrEqual(10);
  for (const s of concrete) {
    expect(templates.has(s.props.use)).toBe(true);
    const [name, ...args] = s.props.check_command.split('!');
    const line = commands.get(name);
    if (line === undefined) throw new Error(`service "${s.props.service_description}" uses undefined command ${name}`);
    const used = [...line.matchAll(/\$ARG(\d+)\$/g)].map((m) => Number(m[1]));
    expect({ service: s.props.service_description, args: args.length }).toEqual({
      service: s.props.service_description,
      args: used.length ? Math.max(...used) : 0,
    });
    expect(s.props.host_name).toBe('maotrade');
  }
});

test('the tiers hold what they should: engine, feeder, brokers and sessions are trading-critical; stores and Temporal infrastructure', () => {
  const byTier = (tier: string) => concrete.filter((s) => tierOf(s) === tier).map((s) => s.props.check_command);
  const critical = byTier('maotrade-trading-critical');
  expect(critical).toEqual(
    expect.arrayContaining([
      'maotrade_check_worker!maotrade-sessions!workflow',
      'maotrade_check_worker!maotrade-sessions!activity',
      'maotrade_check_worker!broker-paper!activity',
      expect.stringMatching(/^maotrade_check_session!/),
      'maotrade_check_fleet!0!0',
    ]),
  );
  const infra = byTier('maotrade-infrastructure').map((c) => c.split('!')[0]);
  expect(infra).toEqual(
    expect.arrayContaining(['maotrade_check_mysql', 'maotrade_check_mongo', 'maotrade_check_temporal', 'maotrade_check_load', 'maotrade_check_disk']),
  );
  expect(byTier('maotrade-support').length).toBeGreaterThanOrEqual(1);
});

test('maotrade commands call `maotrade check <target>` with options the CLI knows', () => {
  const mine = [...commands.entries()].filter(([, line]) => line.startsWith('$USER5$'));
  expect(mine.map(([n]) => n).sort()).toEqual(
    ['maotrade_check_breaker', 'maotrade_check_fleet', 'maotrade_check_mongo', 'maotrade_check_mysql', 'maotrade_check_session', 'maotrade_check_temporal', 'maotrade_check_worker'].sort(),
  );
  for (const [name, line] of mine) {
    const target = name.replace('maotrade_check_', '');
    expect(line).toMatch(new RegExp(`^\\$USER5\\$ check ${target}( |$)`));
  }
  expect(commands.get('maotrade_check_worker')).toContain('--queue $ARG1$');
  expect(commands.get('maotrade_check_session')).toContain('--account $ARG1$');
  expect(commands.get('maotrade_check_breaker')).toContain('--metrics-url $ARG1$ --broker $ARG2$');
});

describe('generated for the deployed brokers (ops/nagios-config.ts)', () => {
  const shipped = fs.readFileSync(path.join(ROOT, 'nagios', 'maotrade.cfg'), 'utf8');
  const descriptions = (text: string) => parseNagios(text).filter((o) => o.type === 'service' && o.props.register !== '0').map((s) => s.props.service_description);
  const commandOf = (text: string, description: string) =>
    parseNagios(text).find((o) => o.props.service_description === description)?.props.check_command;

  test('the shipped file is the output for the main job (paper, demo): nothing checks a broker it does not deploy', () => {
    expect(shipped).toBe(renderNagiosConfig(MAIN_JOB));
    expect(shipped).not.toMatch(/broker-ig|broker-alpaca|Broker worker (IG|Alpaca)/);
    expect(shipped).toMatch(/^# Not deployed, so not checked: ig, alpaca\./m);
    expect(descriptions(shipped)).toEqual(expect.arrayContaining(['Broker worker paper', 'Broker circuit paper', 'Broker worker paper metrics', 'Session demo']));
  });

  test("the breaker check reads the broker worker's metrics port (the breaker lives in the broker worker), the same port main.sh gives it", () => {
    const script = fs.readFileSync(path.join(ROOT, 'scripts', 'main.sh'), 'utf8');
    const portOf = (worker: string) => {
      const m = new RegExp(`start ${worker} .*METRICS_PORT="\\$\\{\\w+:-(\\d+)\\}"`).exec(script);
      if (!m) throw new Error(`scripts/main.sh does not start ${worker} with METRICS_PORT`);
      return Number(m[1]);
    };
    expect(portOf('session-worker')).toBe(DEFAULT_METRICS_PORTS.session);
    expect(portOf('broker-paper')).toBe(DEFAULT_METRICS_PORTS.paper);
    expect(commandOf(shipped, 'Broker circuit paper')).toBe(`maotrade_check_breaker!http://127.0.0.1:${DEFAULT_METRICS_PORTS.paper}/metrics!paper`);
    expect(commandOf(shipped, 'Broker worker paper metrics')).toBe(`maotrade_check_http!${DEFAULT_METRICS_PORTS.paper}!/metrics`);
    expect(commandOf(shipped, 'Session worker metrics')).toBe(`maotrade_check_http!${DEFAULT_METRICS_PORTS.session}!/metrics`);
    // Every metrics port is distinct, and none is the Temporal SDK port (METRICS_PORT + 1) of another.
    const ports = Object.values(DEFAULT_METRICS_PORTS).flatMap((p) => [p, p + 1]);
    expect(new Set(ports).size).toBe(ports.length);
  });

  test('every broker deployed gets its worker, circuit and metrics checks on its own port; every service resolves', () => {
    const text = renderNagiosConfig({ brokers: ['paper', 'ig', 'alpaca'], accounts: ['demo', 'acc-2'] });
    const objs = parseNagios(text);
    const cmds = new Map(objs.filter((o) => o.type === 'command').map((c) => [c.props.command_name, c.props.command_line]));
    const svc = objs.filter((o) => o.type === 'service' && o.props.register !== '0');
    expect(new Set(svc.map((s) => s.props.service_description)).size).toBe(svc.length);
    for (const s of svc) expect(cmds.has(s.props.check_command.split('!')[0])).toBe(true);
    expect(commandOf(text, 'Broker worker IG')).toBe('maotrade_check_worker!broker-ig!activity');
    expect(commandOf(text, 'Broker circuit Alpaca')).toBe(`maotrade_check_breaker!http://127.0.0.1:${DEFAULT_METRICS_PORTS.alpaca}/metrics!alpaca`);
    expect(commandOf(text, 'Broker worker IG metrics')).toBe(`maotrade_check_http!${DEFAULT_METRICS_PORTS.ig}!/metrics`);
    expect(commandOf(text, 'Session acc-2')).toBe('maotrade_check_session!acc-2!600!1800!900!3600');
    expect(text).not.toMatch(/@@/);
    expect(text).not.toMatch(/Not deployed/);
    expect(descriptions(renderNagiosConfig({ brokers: ['ig'], accounts: [] }))).not.toContain('Broker worker paper');
  });

  test('an unknown broker or a bad account id is refused, named', () => {
    expect(() => renderNagiosConfig({ brokers: ['kraken' as never], accounts: [] })).toThrow('brokers: "kraken" is not one of paper, ig, alpaca');
    expect(() => renderNagiosConfig({ brokers: ['paper'], accounts: ['a b'] })).toThrow('accounts: "a b" is not an account id');
  });
});
