/**
 * The operator's desk (`/ui`) in real Chromium against a real paper session: the gateway, the session
 * and paper-broker workers run in this process on the real Temporal server (private task queue), the
 * browser reads everything through the REST routes with the token it was given. Screenshots are saved
 * to .artifacts/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import { generateFrames } from '../../../market/synthetic';
import { runBacktest } from '../../../backtest/engine';
import { statsRows } from '../../../backtest/report';
import { positionsQuery, statusQuery, tradesQuery } from '../../../workflows/definitions';
import type { SessionConfigInput } from '../../../config/session-config';
import { uniqueAccount } from '../../support/env';
import { feedPaced, startInProcessWorkers, startSession } from '../../support/harness';
import { json, startTestGateway, type TestGateway } from '../support';
import { SCREENSHOTS, confirmWithReason, launchChromium, logIn, openPage, screenshot } from './browser';

const PARAMS = { fastPeriod: 2, slowPeriod: 5, stopDistancePct: 0.5 };
const PARAMS_B = { fastPeriod: 3, slowPeriod: 7, stopDistancePct: 0.5 };

let workers: Awaited<ReturnType<typeof startInProcessWorkers>>;
let gw: TestGateway;
let browser: Browser;
let base: string;
let handle: WorkflowHandle;
const account = uniqueAccount('desk');
const symbol = account.toUpperCase();
// Functions run in the browser reach its globals through `globalThis as any`: this project compiles without the DOM library.
const users = {} as Record<'trader' | 'viewer', string>;

const config = (): SessionConfigInput => ({
  account,
  broker: 'paper',
  tradingEnabled: true,
  systems: (
    [
      ['ma', PARAMS],
      ['mb', PARAMS_B],
    ] as const
  ).map(([id, params]) => ({ id, system: 'ma-crossover', symbol, timeframe: '1m', params })),
});

beforeAll(async () => {
  workers = await startInProcessWorkers();
  gw = await startTestGateway({ client: workers.client, pool: workers.pool }, { sessionTaskQueue: workers.taskQueue });
  const address = gw.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  users.trader = (await gw.user('desk_t', { grants: [{ account, role: 'trader' }] })).token;
  users.viewer = (await gw.user('desk_v', { grants: [{ account, role: 'viewer' }] })).token;
  handle = await startSession(workers.client, config(), workers.taskQueue);
  // Frame by frame until trades have closed and a position is open (with its stop), so the chart has all three marks.
  const frames = generateFrames({ symbol, timeframe: '1m', count: 160, seed: 11, trendCycle: 0, volatilityPct: 0.3 });
  for (const f of frames) {
    await feedPaced(workers.pool, handle, [f]);
    if ((await handle.query(tradesQuery)).length >= 4 && (await handle.query(positionsQuery)).length >= 1) break;
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await handle?.terminate('test file done').catch(() => undefined);
  await gw?.close();
  await workers?.stop();
});

/** A fresh browser tab logged in with `token`, on the desk's account page once it has loaded. */
async function accountPage(token: string): Promise<Awaited<ReturnType<typeof openPage>>> {
  const opened = await openPage(browser, base);
  const { page } = opened;
  await logIn(page, token);
  await page.locator(`tr[data-account="${account}"] a`).click();
  await page.waitForURL(new RegExp(`#/account/${account}$`));
  await page.waitForFunction(() => Number((globalThis as any).document.getElementById('view')?.dataset.loaded ?? 0) >= 1);
  return opened;
}

test('a trader logs in with a token and sees the fleet: the session with its status, trading state, broker, P&L today and last frame', async () => {
  const { context, page, errors } = await openPage(browser, base);
  await page.goto('/ui/');
  await page.locator('#token').fill('mao_not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('login-error').getByText('not valid').waitFor();
  expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('maotrade.token'))).toBeNull();

  await logIn(page, users.trader);
  expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('maotrade.token'))).toBe(users.trader);
  const row = page.locator(`tr[data-account="${account}"]`);
  await row.waitFor();
  const cells = await row.locator('td').allInnerTexts();
  const today = json(await gw.call(null, 'GET', `/accounts/${account}/pnl-today`, undefined, users.trader));
  expect(cells.slice(0, 5)).toEqual([account, 'paper', 'running', 'active', 'live']);
  expect(cells[5]).toBe(`${today.pnl > 0 ? '+' : ''}${today.pnl.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
  expect(cells[6]).toMatch(/^\d+ (s|min|h|d)$/);
  expect(await row.getAttribute('class')).toBe('row-ok');
  // The caller sees only what it may view: one session.
  expect(await page.locator('[data-testid="fleet"] tbody tr').count()).toBe(1);
  await expect(page.getByTestId('user').innerText()).resolves.toMatch(/^desk_t/);
  await screenshot(page, 'desk-fleet.png');
  expect(errors).toEqual([]);
  await context.close();
});

test('the account page: positions with their live stop, trades, and the candle chart whose entries, exits and stops are the REST records', async () => {
  const { context, page, errors } = await accountPage(users.trader);

  const positions = json(await gw.call(null, 'GET', `/sessions/${account}/positions`, undefined, users.trader)).positions as { positionRef: string; systemId: string; stop?: number }[];
  const trades = json(await gw.call(null, 'GET', `/accounts/${account}/trades?limit=10000`, undefined, users.trader)).trades as { position_ref: string }[];
  const candles = json(await gw.call(null, 'GET', `/sessions/${account}/candles`, undefined, users.trader));
  expect(trades.length).toBeGreaterThanOrEqual(4);
  expect(positions.length).toBeGreaterThanOrEqual(1);
  expect(candles).toMatchObject({ account, symbol, timeframe: '1m', streams: [{ symbol, timeframe: '1m' }] });
  const fed = (await handle.query(statusQuery)).counters.framesProcessed;
  expect(candles.candles).toHaveLength(fed);

  // Positions: one row each, with the live stop the session holds.
  const rows = page.locator('[data-testid="positions"] tbody tr');
  expect(await rows.count()).toBe(positions.length);
  for (const p of positions) {
    const cells = await page.locator('[data-testid="positions"] tbody tr', { hasText: p.systemId }).locator('td').allInnerTexts();
    expect(cells[5]).toBe(p.stop!.toLocaleString('en-US', { maximumFractionDigits: 5 }));
  }
  expect(await page.locator('[data-testid="trades"] tbody tr').count()).toBe(Math.min(trades.length, 50));

  // The chart: drawn on canvases, and its marks are the records: an entry per position, an exit per trade, a stop per position.
  const chart = page.getByTestId('candle-chart');
  const refs = new Set([...trades.map((t) => t.position_ref), ...positions.map((p) => p.positionRef)]);
  const data = await chart.evaluate((el) => ({ ...el.dataset }));
  expect(data).toMatchObject({ candles: String(candles.candles.length), entries: String(refs.size), exits: String(trades.length), stops: String(refs.size) });
  expect(Number(data.priceLines)).toBe(positions.filter((p) => p.stop !== undefined).length);
  const marks = (await page.evaluate(() => (globalThis as any).maoDesk.charts.candles)) as { entries: { ref: string }[]; exits: { ref: string }[] };
  expect(new Set(marks.entries.map((e) => e.ref))).toEqual(refs);
  expect(marks.exits.map((e) => e.ref).sort()).toEqual(trades.map((t) => t.position_ref).sort());
  const painted = await chart.evaluate((el) =>
    [...el.querySelectorAll('canvas')].some((c) => {
      if (c.width < 100 || c.height < 100) return false;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 200 || px[i + 1] < 200)) return true;
      return false;
    }),
  );
  expect(painted).toBe(true);

  const equity = json(await gw.call(null, 'GET', `/accounts/${account}/equity?limit=10000`, undefined, users.trader)).equity;
  expect(await page.getByTestId('equity-chart').getAttribute('data-points')).toBe(String(equity.length));
  await screenshot(page, 'desk-account.png');
  await chart.screenshot({ path: path.join(SCREENSHOTS, 'desk-candles.png') });
  expect(errors).toEqual([]);
  await context.close();
});

test('a trader pauses and resumes through the UI, each with a reason it confirms: the status follows, the session got who and why', async () => {
  const { context, page, errors } = await accountPage(users.trader);
  const facts = page.getByTestId('account-facts');
  await expect(facts.locator('[data-badge]').first().innerText()).resolves.toBe('running');

  // Cancelled: nothing is sent.
  await page.locator('[data-control="pause"]').click();
  await page.locator('dialog#confirm [data-testid="cancel"]').click();
  expect((await handle.query(statusQuery)).status).toBe('running');

  await page.locator('[data-control="pause"]').click();
  await confirmWithReason(page, 'desk test: news at 14:30');
  await facts.locator('[data-badge="paused"]').waitFor({ timeout: 15_000 });
  expect((await handle.query(statusQuery)).status).toBe('paused');
  const history = await handle.fetchHistory();
  const signal = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'pause').at(-1)!;
  const payload = JSON.parse(Buffer.from(signal.workflowExecutionSignaledEventAttributes!.input!.payloads![0].data!).toString('utf8'));
  expect(payload).toEqual({ by: expect.stringMatching(/^desk_t/), reason: 'desk test: news at 14:30' });
  await screenshot(page, 'desk-paused.png');

  await page.locator('[data-control="resume"]').click();
  await confirmWithReason(page, 'desk test: news out');
  await facts.locator('[data-badge="running"]').waitFor({ timeout: 15_000 });
  expect((await handle.query(statusQuery)).status).toBe('running');

  // Reducing and back: the trading-state history shows who and why.
  await page.locator('[data-control="reducing"]').click();
  await confirmWithReason(page, 'desk test: cut risk');
  await facts.locator('[data-badge="reducing"]').waitFor({ timeout: 15_000 });
  const historyRow = page.locator('[data-testid="trading-state-history"] tbody tr', { hasText: 'desk test: cut risk' });
  await historyRow.waitFor();
  expect(await historyRow.innerText()).toMatch(/active\s*→\s*reducing[\s\S]*desk_t/);
  await page.locator('[data-control="active"]').click();
  await confirmWithReason(page, 'desk test: back to normal');
  await facts.locator('[data-badge="active"]').waitFor({ timeout: 15_000 });
  expect((await handle.query(statusQuery)).tradingState).toBe('active');
  expect(errors).toEqual([]);
  await context.close();
});

test('a trader closes one position through the UI: it leaves the table and its trade is booked as manual', async () => {
  const { context, page, errors } = await accountPage(users.trader);
  const before = await handle.query(positionsQuery);
  expect(before.length).toBeGreaterThanOrEqual(1);
  const target = before[0];
  await page.locator(`[data-control="close"][data-system="${target.systemId}"]`).click();
  await confirmWithReason(page, 'desk test: take it off');
  await page.locator(`[data-control="close"][data-system="${target.systemId}"]`).waitFor({ state: 'detached', timeout: 15_000 });
  expect((await handle.query(positionsQuery)).map((p) => p.systemId)).not.toContain(target.systemId);
  const trades = await handle.query(tradesQuery);
  expect(trades.find((t) => t.positionRef === target.positionRef)).toMatchObject({ exitReason: 'manual' });
  expect(errors).toEqual([]);
  await context.close();
});

test('a viewer sees the account but no control button, and gets 403 when it calls the route anyway', async () => {
  const { context, page, errors } = await accountPage(users.viewer);
  await page.getByTestId('read-only').waitFor();
  expect(await page.locator('[data-control]').count()).toBe(0);
  expect(await page.getByTestId('controls').count()).toBe(0);
  // The page's own token, from its sessionStorage, on the route the hidden button would call.
  const refused = await page.evaluate(async (a) => {
    const res = await fetch(`/sessions/${a}/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(globalThis as any).sessionStorage.getItem('maotrade.token')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'viewer tries' }),
    });
    return { status: res.status, body: await res.json() };
  }, account);
  expect(refused).toEqual({ status: 403, body: { error: 'forbidden', message: expect.stringContaining(`trader role on account "${account}"`) } });
  expect((await handle.query(statusQuery)).status).toBe('running');
  await screenshot(page, 'desk-viewer.png');
  expect(errors).toEqual([]);
  await context.close();
});

test('a backtest report opens in the same look: its stats, trades and equity chart from the result JSON', async () => {
  const frames = generateFrames({ symbol: 'BTDESK', timeframe: '1m', count: 400, seed: 5, trendCycle: 0, volatilityPct: 0.3 });
  const result = runBacktest({ frames, system: 'ma-crossover', params: PARAMS });
  expect(result.trades.length).toBeGreaterThan(3);
  const file = path.join(path.dirname(SCREENSHOTS), 'reports', 'desk-backtest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...result, frames, statsRows: statsRows(result.stats) }));

  const { context, page, errors } = await openPage(browser, base);
  await page.goto('/ui/#/backtest');
  await page.locator('#report-file').setInputFiles(file);
  await page.getByTestId('backtest-stats').waitFor();
  expect(await page.getByTestId('backtest-stats').innerText()).toContain(`${result.stats.trades} (${result.stats.wins} won, ${result.stats.losses} lost)`);
  expect(await page.locator('[data-testid="backtest-trades"] tbody tr').count()).toBe(result.trades.length);
  expect(await page.getByTestId('backtest-equity-chart').getAttribute('data-points')).toBe(String(result.equityCurve.ts.length));
  const maxDd = Number(await page.getByTestId('backtest-equity-chart').getAttribute('data-max-drawdown-pct'));
  expect(maxDd).toBeCloseTo(-result.stats.maxDrawdownPct, 2);
  const candles = await page.getByTestId('backtest-candle-chart').evaluate((el) => ({ ...el.dataset }));
  expect(candles).toMatchObject({ candles: '400', exits: String(result.trades.length) });
  await screenshot(page, 'desk-backtest.png');
  expect(errors).toEqual([]);
  await context.close();
});

test('the pages are static files of api/ui with a strict content security policy; nothing outside it is served', async () => {
  const index = await gw.request('GET', '/ui/');
  expect(index.statusCode).toBe(200);
  expect(index.headers['content-type']).toMatch(/^text\/html/);
  expect(index.headers['content-security-policy']).toContain("script-src 'self'");
  // /ui redirects to /ui/ (followed here).
  const bare = await gw.request('GET', '/ui');
  expect([bare.statusCode, bare.body.toString('utf8')]).toEqual([200, index.body.toString('utf8')]);
  const lib = await gw.request('GET', '/ui/vendor/lightweight-charts.mjs');
  expect([lib.statusCode, lib.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
  for (const bad of ['/ui/../server.ts', '/ui/%2e%2e/server.ts', '/ui/js/../../routes/ui.ts', '/ui/vendor/../package.json', '/ui/.hidden.js', '/ui/nope.js']) {
    expect([bad, (await gw.request('GET', bad)).statusCode]).toEqual([bad, 404]);
  }
  // GET /me: the caller's own grants, never a token.
  const me = json(await gw.call(null, 'GET', '/me', undefined, users.viewer));
  expect(me).toEqual({ name: expect.stringMatching(/^desk_v/), globalRole: null, grants: [{ account, role: 'viewer' }] });
  expect((await gw.call(null, 'GET', '/me')).statusCode).toBe(401);
});
