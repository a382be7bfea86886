/**
 * A fleet command against the real Temporal server: it reaches every running session the filter selects
 * (and no other), each session records who gave it and why, a repeat is `unchanged`, and a session that
 * ended or does not answer fails alone. The session and paper-broker workers run in this process.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { riskQuery, statusQuery } from '../../workflows/definitions';
import { setFleetTradingState, setSessionTradingState } from '../../fleet/trading-state';
import { FleetInputError, FleetQueryError } from '../../fleet/errors';
import { uniqueAccount } from '../support/env';
import { startInProcessWorkers } from '../support/harness';
import { accountsFilter, startPaperSessions, waitUntilListed } from './sessions';

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  workers = await startInProcessWorkers();
});
afterAll(async () => {
  await Promise.all(handles.map((h) => h.terminate('test file done').catch(() => undefined)));
  await workers?.stop();
});

async function paperSession(account: string, taskQueue = workers.taskQueue, tradingEnabled = true): Promise<WorkflowHandle> {
  const handle = (await startPaperSessions(workers.client, [account], taskQueue, tradingEnabled)).get(account)!;
  handles.push(handle);
  return handle;
}

const inList = accountsFilter;
const waitListed = (filter: string, accounts: readonly string[]) => waitUntilListed(workers.client, filter, accounts);

test('a fleet halt reaches every running session of the set, each records who gave it; the outsider stays active; a repeat is unchanged', async () => {
  const accounts = [uniqueAccount('fleet_a'), uniqueAccount('fleet_b'), uniqueAccount('fleet_c')];
  const outsider = uniqueAccount('fleet_x');
  const byAccount = new Map<string, WorkflowHandle>();
  for (const a of accounts) byAccount.set(a, await paperSession(a));
  const outsiderHandle = await paperSession(outsider);
  await waitListed(inList(accounts), accounts);

  const result = await setFleetTradingState(workers.client, { state: 'halted', by: 'fleet_operator', reason: 'venue outage', query: inList(accounts), concurrency: 2 });
  expect(result).toMatchObject({ command: { state: 'halted', by: 'fleet_operator', reason: 'venue outage' }, matched: 3, changed: 3, unchanged: 0, failed: 0 });
  expect(result.query).toBe(`WorkflowType = 'accountSession' AND ExecutionStatus = 'Running' AND (${inList(accounts)})`);
  expect(result.sessions.map((s) => s.account)).toEqual([...accounts].sort());
  for (const s of result.sessions) {
    expect(s).toMatchObject({ ok: true, outcome: 'changed', change: { from: 'active', to: 'halted', by: 'fleet_operator', reason: 'venue outage', source: 'command' } });
  }

  for (const a of accounts) {
    const h = byAccount.get(a)!;
    expect([a, (await h.query(statusQuery)).tradingState]).toEqual([a, 'halted']);
    const risk = await h.query(riskQuery);
    expect(risk.tradingState).toBe('halted');
    expect(risk.tradingStateHistory.at(-1)).toMatchObject({ to: 'halted', by: 'fleet_operator', reason: 'venue outage', source: 'command' });
    // What the fleet result reported is what the session recorded.
    expect(result.sessions.find((s) => s.account === a)?.change).toEqual(risk.tradingStateHistory.at(-1));
  }
  expect((await outsiderHandle.query(statusQuery)).tradingState).toBe('active');
  expect((await outsiderHandle.query(riskQuery)).tradingStateHistory).toEqual([]);

  // Each session upserted MaoTradingState: the halted ones are findable by it (registered by stack.sh).
  await waitListed(`${inList([...accounts, outsider])} AND MaoTradingState = 'halted'`, accounts);

  const again = await setFleetTradingState(workers.client, { state: 'halted', by: 'fleet_operator', reason: 'venue outage', query: inList(accounts) });
  expect(again).toMatchObject({ matched: 3, changed: 0, unchanged: 3, failed: 0 });
  expect(again.sessions.every((s) => s.ok && s.outcome === 'unchanged' && s.change === null)).toBe(true);

  const reopened = await setFleetTradingState(workers.client, { state: 'active', by: 'fleet_operator', reason: 'venue back', query: inList(accounts) });
  expect(reopened).toMatchObject({ matched: 3, changed: 3, failed: 0 });
  for (const a of accounts) expect((await byAccount.get(a)!.query(statusQuery)).tradingState).toBe('active');
});

test('a session that ended and one that does not answer fail alone; the others change', async () => {
  const live = uniqueAccount('fleet_ok');
  const ended = uniqueAccount('fleet_end');
  const deaf = uniqueAccount('fleet_deaf');
  await paperSession(live);
  const endedHandle = await paperSession(ended);
  // No worker polls this task queue: the update is never answered.
  await paperSession(deaf, `nobody-polls-${deaf}`);
  await waitListed(inList([live, ended, deaf]), [live, ended, deaf]);
  await endedHandle.terminate('ended before the command');

  const result = await setFleetTradingState(workers.client, {
    state: 'reducing',
    by: 'fleet_operator',
    reason: 'risk review',
    query: inList([live, ended, deaf]),
    updateTimeoutMs: 2_000,
  });
  const by = Object.fromEntries(result.sessions.map((s) => [s.account, s]));
  expect(by[live]).toMatchObject({ ok: true, outcome: 'changed', change: { to: 'reducing', by: 'fleet_operator' } });
  expect(by[deaf]).toMatchObject({ ok: false, outcome: 'error', change: null, error: 'no answer within 2 s (is a session worker polling its task queue?)' });
  // Visibility may still list the terminated run (then it fails as ended) or may not (then it is not matched).
  if (by[ended]) expect(by[ended]).toMatchObject({ ok: false, outcome: 'error', error: 'no running session (it ended, or never started)' });
  expect(result.failed).toBe(result.matched - 1);

  const single = await setSessionTradingState(workers.client, ended, { state: 'halted', by: 'fleet_operator', reason: 'x' });
  expect(single).toMatchObject({ account: ended, ok: false, outcome: 'error', error: 'no running session (it ended, or never started)' });
});

test('invalid input is refused naming the field before anything is sent; a filter the server cannot parse is a FleetQueryError', async () => {
  const refused = async (request: Parameters<typeof setFleetTradingState>[1]) => {
    const err = await setFleetTradingState(workers.client, request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetInputError);
    return (err as FleetInputError).fields.map((f) => f.field);
  };
  expect(await refused({ state: 'halted', by: 'ops', reason: ' ' })).toEqual(['reason']);
  expect(await refused({ state: 'paused' as 'halted', by: '', reason: 'x' })).toEqual(['state', 'by']);
  expect(await refused({ state: 'halted', by: 'ops', reason: 'x', query: "MaoBroker = 'ig') OR (ExecutionStatus = 'Completed'" })).toEqual(['query']);
  expect(await refused({ state: 'halted', by: 'ops', reason: 'x', concurrency: 0 })).toEqual(['concurrency']);
  await expect(setSessionTradingState(workers.client, 'anyone', { state: 'halted', by: 'ops', reason: '' })).rejects.toThrow('reason: reason must say why');

  const err = await setFleetTradingState(workers.client, { state: 'halted', by: 'ops', reason: 'x', query: "NoSuchAttribute = 'x'" }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FleetQueryError);
  expect((err as Error).message).toMatch(/^query: Temporal refused the visibility query .*NoSuchAttribute/);
});
