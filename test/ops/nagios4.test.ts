/**
 * Debian's Nagios 4 (`nagios4 -v`, the pre-flight check) on the project's object configuration: the
 * shipped nagios/maotrade.cfg (the main job's) and one generated for every broker and two accounts.
 * The main nagios.cfg is written in a temp dir, as an operator's would be: the project's file plus the
 * Debian definitions it leans on (24x7 from timeperiods.cfg, check-host-alive from the plugins' ping.cfg,
 * a contact from contacts.cfg with its templates and notification commands).
 * `scripts/test-tools.sh` installs nagios4 on a fresh machine.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/env';
import { BROKERS, renderNagiosConfig } from '../../ops/nagios-config';

const NAGIOS = '/usr/sbin/nagios4';
const DEBIAN_OBJECTS = [
  '/etc/nagios4/objects/timeperiods.cfg',
  '/etc/nagios4/objects/commands.cfg',
  '/etc/nagios4/objects/templates.cfg',
  '/etc/nagios4/objects/contacts.cfg',
  '/etc/nagios-plugins/config/ping.cfg',
];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maotrade-nagios4-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A minimal main configuration: everything nagios4 writes goes to the temp dir, run as this user. */
function mainConfig(objectFile: string): string {
  const user = os.userInfo();
  const file = path.join(dir, `nagios-${path.basename(objectFile, '.cfg')}.cfg`);
  fs.writeFileSync(path.join(dir, 'resource.cfg'), `$USER1$=/usr/lib/nagios/plugins\n$USER5$=${path.join(ROOT, 'node_modules', '.bin', 'maotrade')}\n`);
  const at = (name: string) => path.join(dir, name);
  const lines = [
    ...DEBIAN_OBJECTS.map((f) => `cfg_file=${f}`),
    `cfg_file=${objectFile}`,
    `resource_file=${at('resource.cfg')}`,
    `log_file=${at('nagios.log')}`,
    `status_file=${at('status.dat')}`,
    `lock_file=${at('nagios.lock')}`,
    `temp_file=${at('nagios.tmp')}`,
    `temp_path=${dir}`,
    `check_result_path=${dir}`,
    `command_file=${at('nagios.cmd')}`,
    `state_retention_file=${at('retention.dat')}`,
    `object_cache_file=${at('objects.cache')}`,
    `precached_object_file=${at('objects.precache')}`,
    // Numeric ids: nagios4 takes them where no such name exists.
    `nagios_user=${user.uid}`,
    `nagios_group=${user.gid}`,
    'interval_length=60',
    'check_for_updates=0',
    // Debian's own value: characters stripped from macro output before it reaches a shell.
    'illegal_macro_output_chars=`~$&|\'"<>',
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function verify(mainCfg: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(NAGIOS, ['-v', mainCfg], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** Services that are not templates: each has a description. */
const concreteServices = (text: string) => [...text.matchAll(/^\s*service_description\s/gm)].length;

describe('nagios4 -v', () => {
  test('the shipped nagios/maotrade.cfg: Total Errors: 0, Total Warnings: 0, every service read', async () => {
    const shipped = path.join(ROOT, 'nagios', 'maotrade.cfg');
    const { code, out } = await verify(mainConfig(shipped));
    expect(out).toMatch(/Total Errors:\s+0\b/);
    expect(out).toMatch(/Total Warnings:\s+0\b/);
    expect(code).toBe(0);
    const text = fs.readFileSync(shipped, 'utf8');
    expect(out).toContain(`Checked ${concreteServices(text)} services.`);
    expect(out).toContain('Checked 1 hosts.');
  });

  test('a configuration generated for every broker and two accounts passes too', async () => {
    const generated = path.join(dir, 'maotrade-all.cfg');
    const text = renderNagiosConfig({ brokers: [...BROKERS], accounts: ['demo', 'acc2'] });
    fs.writeFileSync(generated, text);
    const { code, out } = await verify(mainConfig(generated));
    expect(out).toMatch(/Total Errors:\s+0\b/);
    expect(code).toBe(0);
    expect(out).toContain(`Checked ${concreteServices(text)} services.`);
  });

  test('a broken object file is caught (the check is not vacuous)', async () => {
    const broken = path.join(dir, 'maotrade-broken.cfg');
    fs.writeFileSync(broken, fs.readFileSync(path.join(ROOT, 'nagios', 'maotrade.cfg'), 'utf8').replace('maotrade_check_worker!maotrade-sessions!workflow', 'no_such_command!x'));
    const { code, out } = await verify(mainConfig(broken));
    expect(code).not.toBe(0);
    expect(out).toMatch(/no_such_command/);
    expect(out).toMatch(/Total Errors:\s+[1-9]/);
  });
});
