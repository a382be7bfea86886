/**
 * `check fleet`: the trading states of the running sessions a filter selects, from Temporal visibility
 * (MaoTradingState), against the real server; and the same check through the CLI.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { setTradingStateUpdate } from '../../workflows/definitions';
import { checkFleet } from '../../ops/checks/fleet';
import { runCheck, type CheckOutcome } from '../../ops/checks/plugin';
import { TEST_ENV } from '../support/env';
import { startInProcessWorkers } from '../support/harness';
import { accountsFilter, startVisibleSessions } from '../fleet/sessions';
import { cli } from '../cli/run-cli';

const TEMPORAL = { address: TEST_ENV.TEMPORAL_ADDRESS, namespace: TEST_ENV.TEMPORAL_NAMESPACE };
let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
let handles = new Map<string, WorkflowHandle>();
let accounts: string[];

beforeAll(async () => {
  workers = await startInProcessWorkers();
  ({ accounts, handles } = await startVisibleSessions(workers.client, ['fchk_a', 'fchk_b', 'fchk_c'], workers.taskQueue));
});
afterAll(async () => {
  await Promise.all([...handles.values()].map((h) => h.terminate('test done').catch(() => undefined)));
  await workers?.stop();
});

const check = (over: { warning?: string; critical?: string } = {}) => runCheck('fleet', () => checkFleet({ ...TEMPORAL, query: accountsFilter(accounts), ...over }), 20_000);

/** Visibility lags a change by about a second: check until `done` holds. */
async function checkUntil(done: (o: CheckOutcome) => boolean): Promise<CheckOutcome> {
  for (let i = 0; ; i++) {
    const out = await check();
    if (done(out) || i > 60) return out;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('all active: OK; one halted and one reducing: CRITICAL naming them; thresholds move the verdict', async () => {
  const ok = await check();
  expect(ok.exitCode).toBe(0);
  expect(ok.line).toBe(`FLEET OK: 3 running session(s) matching ${accountsFilter(accounts)}: 0 halted, 0 reducing | 'sessions'=3;;;0 'halted'=0;;0;0 'reducing'=0;0;;0`);

  const [a, b] = accounts;
  await handles.get(a)!.executeUpdate(setTradingStateUpdate, { args: [{ state: 'halted', by: 'ops', reason: 'check' }] });
  await handles.get(b)!.executeUpdate(setTradingStateUpdate, { args: [{ state: 'reducing', by: 'ops', reason: 'check' }] });
  const crit = await checkUntil((o) => o.line.includes('1 halted') && o.line.includes('1 reducing'));
  expect(crit.exitCode).toBe(2);
  expect(crit.line).toBe(`FLEET CRITICAL: 3 running session(s) matching ${accountsFilter(accounts)}: 1 halted (${a}), 1 reducing (${b}) | 'sessions'=3;;;0 'halted'=1;;0;0 'reducing'=1;0;;0`);

  expect((await check({ critical: '1' })).exitCode).toBe(1); // one halted allowed: the reducing one warns
  expect((await check({ critical: '1', warning: '1' })).exitCode).toBe(0);

  const r = await cli(['check', 'fleet', '--query', accountsFilter(accounts)]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe(`${crit.line}\n`);
});

test('a filter that would escape its parentheses: UNKNOWN, nothing listed', async () => {
  const out = await runCheck('fleet', () => checkFleet({ ...TEMPORAL, query: "MaoBroker = 'x') OR (MaoBroker = 'y'" }), 20_000);
  expect(out.exitCode).toBe(3);
  expect(out.line).toBe('FLEET UNKNOWN: --query: query has a ")" without its "("');
});
