/** nagios/maotrade.cfg: three tiers with the original system's intervals; every service resolvable. */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/env';

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
