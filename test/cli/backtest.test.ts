/** `maotrade backtest` and `maotrade import-candles` through the real CLI process. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateFrames, toCsv } from '../../market/synthetic';
import { ROOT, TEST_ENV } from '../support/env';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'cli/maotrade.ts', ...args], { cwd: ROOT, env: { ...process.env, ...TEST_ENV }, encoding: 'utf8', timeout: 120_000 });

test('maotrade backtest runs a system over a CSV, prints its statistics and writes the equity chart', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-bt-'));
  const csv = path.join(dir, 'bars.csv');
  const out = path.join(dir, 'report.html');
  fs.writeFileSync(csv, toCsv(generateFrames({ symbol: 'CLIBT', count: 2_000, seed: 3 })));
  const trades = path.join(dir, 'trades.csv');
  const r = cli('backtest', '--csv', csv, '--params', '{"fastPeriod":5,"slowPeriod":20}', '--out', out, '--trades', trades);
  expect(r.status).toBe(0);
  // The trade list: a table of the last ones, and every trade in the CSV.
  const n = Number(/of (\d+) trades/.exec(r.stdout)![1]);
  expect(n).toBeGreaterThan(5);
  const lines = fs.readFileSync(trades, 'utf8').trim().split('\n');
  expect(lines[0]).toBe('position_ref,side,quantity,entry_price,exit_price,pnl,opened_at,closed_at,exit_reason');
  expect(lines).toHaveLength(n + 1);
  expect(r.stdout).toMatch(/trades\s.*\d+ \(\d+ won, \d+ lost\)/);
  expect(r.stdout).toMatch(/max drawdown/);
  expect(fs.readFileSync(out, 'utf8')).toMatch(/<svg/);
});

test('maotrade backtest with a bad parameter fails naming it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-bt-'));
  const csv = path.join(dir, 'bars.csv');
  fs.writeFileSync(csv, toCsv(generateFrames({ symbol: 'CLIBT', count: 100, seed: 3 })));
  const r = cli('backtest', '--csv', csv, '--params', '{"fastPeriod":-1}');
  expect(r.status).not.toBe(0);
  expect(r.stderr + r.stdout).toMatch(/fastPeriod/);
});
