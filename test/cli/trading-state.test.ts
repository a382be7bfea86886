/**
 * `maotrade fleet halt|reducing|active` and `maotrade session <account> halt|reducing|active` as real CLI
 * processes against the real Temporal server: input refused before anything is sent, the table and the
 * summary line, --json, the exit code when a session fails, and `status` showing the trading state.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { riskQuery, statusQuery } from '../../workflows/definitions';
import { uniqueAccount } from '../support/env';
import { startInProcessWorkers } from '../support/harness';
import { accountsFilter, startVisibleSessions } from '../fleet/sessions';
import { cli } from './run-cli';

describe('refused before anything is sent (exit 1, message on stderr naming the input)', () => {
  test.each([
    [['fleet', 'stop', '--reason', 'x'], "value 'stop' is invalid for argument 'action'. Allowed choices are halt, reducing, active."],
    [['fleet', 'halt'], "required option '--reason <text>' not specified"],
    [['fleet', 'halt', '--by', 'ops', '--reason', '  '], 'maotrade: reason: reason must say why'],
    [['fleet', 'halt', '--by', '', '--reason', 'x'], 'maotrade: by: by must name who gives the command'],
    [['fleet', 'halt', '--reason', 'x', '--query', "MaoBroker = 'ig') OR (MaoBroker = 'x'"], 'maotrade: --query: query has a ")" without its "("'],
    [['fleet', 'halt', '--reason', 'x', '--concurrency', 'lots'], 'maotrade: concurrency: Expected number, received nan'],
    [['session', 'someone', 'halt'], 'maotrade: reason: reason must say why'],
    [['status', '--query', "MaoBroker = 'ig"], "maotrade: --query: query has an unclosed ' quote"],
  ])('%j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});

describe('on running sessions', () => {
  let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
  let handles = new Map<string, WorkflowHandle>();
  let a: string;
  let b: string;
  const inList = () => accountsFilter([a, b]);

  beforeAll(async () => {
    workers = await startInProcessWorkers();
    // Visibility is eventually consistent: the fleet command reaches what is listed, so wait for it.
    ({ accounts: [a, b], handles } = await startVisibleSessions(workers.client, ['clits_a', 'clits_b'], workers.taskQueue));
  });
  afterAll(async () => {
    await Promise.all([...handles.values()].map((h) => h.terminate('test done').catch(() => undefined)));
    await workers?.stop();
  });

  test('session <account> halt: a table row and the summary line; the session records who and why; a repeat is unchanged', async () => {
    const r = await cli(['session', a, 'halt', '--by', 'cli_operator', '--reason', 'manual stop']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.find((l) => l.includes(a))).toMatch(new RegExp(`│ ${a}\\s+│ changed\\s+│ active\\s+│ halted\\s+│ \\d+\\s+│`));
    expect(lines.at(-1)).toBe('1 session(s) matched: 1 changed, 0 unchanged, 0 failed; halted by cli_operator: "manual stop"');
    const h = handles.get(a)!;
    expect((await h.query(statusQuery)).tradingState).toBe('halted');
    expect((await h.query(riskQuery)).tradingStateHistory.at(-1)).toMatchObject({ to: 'halted', by: 'cli_operator', reason: 'manual stop', source: 'command' });

    const again = await cli(['session', a, 'halt', '--by', 'cli_operator', '--reason', 'manual stop', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ account: a, workflowId: `session-${a}`, ok: true, outcome: 'unchanged', change: null });
  });

  test('status shows the trading state column, narrowed by --query', async () => {
    await handles.get(a)!.executeUpdate('setTradingState', { args: [{ state: 'halted', by: 'cli_operator', reason: 'status test' }] });
    const r = await cli(['status', '--query', inList()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ trading state\s+│ mode\s+│/);
    expect(r.stdout).toMatch(new RegExp(`│ ${a}\\s+│ paper\\s+│ running\\s+│ halted\\s+│ dry run\\s+│`));
    expect(r.stdout).toMatch(new RegExp(`│ ${b}\\s+│ paper\\s+│ running\\s+│ active\\s+│ dry run\\s+│`));
    expect(r.stdout.split('\n').filter((l) => /^│ \w/.test(l) && !l.includes('account'))).toHaveLength(2);
  });

  test('fleet reducing --json reaches both sessions of the query; fleet active prints the table and the summary', async () => {
    const r = await cli(['fleet', 'reducing', '--by', 'cli_operator', '--reason', 'risk review', '--query', inList(), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ command: { state: 'reducing', by: 'cli_operator', reason: 'risk review' }, matched: 2, changed: 2, failed: 0 });
    expect(Object.fromEntries(out.sessions.map((s: { account: string; change: { from: string } }) => [s.account, s.change.from]))).toEqual({ [a]: 'halted', [b]: 'active' });
    for (const h of handles.values()) {
      expect((await h.query(riskQuery)).tradingStateHistory.at(-1)).toMatchObject({ to: 'reducing', by: 'cli_operator', reason: 'risk review' });
    }

    const table = await cli(['fleet', 'active', '--by', 'cli_operator', '--reason', 'done', '--query', inList()]);
    expect(table.code).toBe(0);
    for (const account of [a, b]) expect(table.stdout).toMatch(new RegExp(`│ ${account}\\s+│ changed\\s+│ reducing\\s+│ active\\s+│`));
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe('2 session(s) matched: 2 changed, 0 unchanged, 0 failed; active by cli_operator: "done"');
  });

  test('a session that is not running: its row says why and the exit code is 1; a query matching nothing says so', async () => {
    const none = uniqueAccount('clits_none');
    const r = await cli(['session', none, 'halt', '--by', 'cli_operator', '--reason', 'x']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`│ ${none}\\s+│ error\\s+│ -\\s+│ -\\s+│ -\\s+│ no running session \\(it ended, or never started\\)`));
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 session(s) matched: 0 changed, 0 unchanged, 1 failed; halted by cli_operator: "x"');

    const empty = await cli(['fleet', 'halt', '--by', 'cli_operator', '--reason', 'x', '--query', `MaoAccount = '${none}'`]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain(`no running session matched WorkflowType = 'accountSession' AND ExecutionStatus = 'Running' AND (MaoAccount = '${none}')`);
    expect(empty.stdout).toContain('may not be visible yet');
  });
});
