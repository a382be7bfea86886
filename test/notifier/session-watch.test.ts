/** notifier/session-watch.ts: a session check that is not OK is an alert, the first OK after one a recovery. */
import { SessionWatch } from '../../notifier/session-watch';
import type { CheckResult } from '../../ops/checks/plugin';
import { TEST_ENV, uniqueAccount } from '../support/env';

test('stale frames and stopped sessions alert; OK sessions stay quiet; recovery once', async () => {
  const results: Record<string, CheckResult> = {
    demo: { status: 'WARNING', message: 'session demo (paper) running: last frame 700 s ago', perfdata: [{ label: 'frame_age', value: 700 }] },
    gone: { status: 'CRITICAL', message: 'session gone is FAILED, not running', perfdata: [{ label: 'running', value: 0 }] },
    fine: { status: 'OK', message: 'session fine (paper) running, last frame 30 s ago, 3 orders placed', perfdata: [] },
  };
  const checked: string[] = [];
  const watch = new SessionWatch({
    temporal: { address: 'unused', namespace: 'default' },
    accounts: ['gone'],
    frameWarningS: 600,
    frameCriticalS: 1800,
    listRunning: () => Promise.resolve(['demo', 'fine']),
    check: (a) => {
      checked.push(a);
      return Promise.resolve(results[a]);
    },
    now: () => 1000,
  });
  const first = await watch.round();
  expect(checked.sort()).toEqual(['demo', 'fine', 'gone']);
  expect(first.map((a) => [a.key, a.severity, a.title])).toEqual([
    ['session:demo', 'warning', 'session demo WARNING'],
    ['session:gone', 'critical', 'session gone CRITICAL'],
  ]);
  expect(first[0]).toMatchObject({ kind: 'session-check', account: 'demo', text: 'session demo (paper) running: last frame 700 s ago', fields: { status: 'WARNING', frameAgeS: 700 } });
  results.demo = { status: 'OK', message: 'session demo (paper) running, last frame 20 s ago, 5 orders placed', perfdata: [] };
  const second = await watch.round();
  expect(second.map((a) => [a.key, a.severity])).toEqual([
    ['session:demo', 'ok'],
    ['session:gone', 'critical'],
  ]);
  expect((await watch.round()).map((a) => a.key)).toEqual(['session:gone']);
});

test('with the real Temporal server: a watched account without a session is CRITICAL, named', async () => {
  const account = uniqueAccount('nosession');
  const watch = new SessionWatch({
    temporal: { address: TEST_ENV.TEMPORAL_ADDRESS, namespace: TEST_ENV.TEMPORAL_NAMESPACE },
    accounts: [account],
    frameWarningS: 600,
    frameCriticalS: 1800,
    listRunning: () => Promise.resolve([]),
  });
  const [alert] = await watch.round();
  expect(alert).toMatchObject({ key: `session:${account}`, severity: 'critical', text: `no session for account ${account} (workflow session-${account} not found)` });
}, 30_000);
