/**
 * Terminal output that behaves (issue 14, item 7): colours only on a TTY and never with NO_COLOR (the
 * real CLI under a pseudo-terminal from util-linux `script`, and piped); progress bars only on a
 * terminal's stderr; `--json` on every command that prints a table, parsed here.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { colourEnabled, progressBar, tableStyle } from '../../cli/terminal';
import { generateFrames, toCsv } from '../../market/synthetic';
import { ROOT, TEST_ENV, uniqueAccount } from '../support/env';
import { cli, type Run } from './run-cli';

const ANSI = /\u001b\[/;
const MAOTRADE = `${process.execPath} --import tsx ${path.join(ROOT, 'cli', 'maotrade.ts')}`;

/** The CLI with stdout and stderr on a pseudo-terminal (`script -qec`), as a person at a terminal runs it. */
function onTty(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env, ...TEST_ENV, LOG_LEVEL: 'silent', TERM: 'xterm-256color', ...env };
  delete base.CI;
  if (!('NO_COLOR' in env)) delete base.NO_COLOR;
  const command = [MAOTRADE, ...args.map((a) => `'${a.replace(/'/g, "'\\''")}'`)].join(' ');
  return new Promise((resolve) => {
    execFile('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: base, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-term-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('colour policy (cli/terminal.ts)', () => {
  test.each([
    [true, {}, true],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: 'yes' }, false],
    // no-color.org: an empty NO_COLOR does not count.
    [true, { NO_COLOR: '' }, true],
    [false, {}, false],
    [undefined, {}, false],
    [false, { NO_COLOR: '1' }, false],
  ])('isTTY %s, env %j: colours %s', (isTTY, env, expected) => {
    expect(colourEnabled({ isTTY }, env)).toBe(expected);
    expect(tableStyle({ isTTY }, env)).toEqual(expected ? undefined : { head: [], border: [] });
  });

  test('a progress bar only on a terminal, and none when the caller asks for none', () => {
    expect(progressBar('{bar}', { stream: { isTTY: false } as NodeJS.WriteStream })).toBeNull();
    expect(progressBar('{bar}', { stream: { isTTY: true } as NodeJS.WriteStream, enabled: false })).toBeNull();
    expect(progressBar('{bar}', { stream: { isTTY: true } as NodeJS.WriteStream })).not.toBeNull();
  });
});

describe('the real CLI: ANSI escapes only on a terminal without NO_COLOR', () => {
  test('users list: coloured table on a TTY; plain with NO_COLOR on a TTY; plain when piped', async () => {
    const tty = await onTty(['users', 'list']);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain('global role');
    expect(tty.stdout).toMatch(ANSI);

    const noColour = await onTty(['users', 'list'], { NO_COLOR: '1' });
    expect(noColour.code).toBe(0);
    expect(noColour.stdout).toContain('global role');
    expect(noColour.stdout).not.toMatch(ANSI);

    const piped = await cli(['users', 'list']);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain('global role');
    expect(piped.stdout + piped.stderr).not.toMatch(ANSI);
  });

  test('backtest over 100,000 bars: the bar and the coloured tables on a TTY, none of it with NO_COLOR piped', async () => {
    const csv = path.join(dir, 'long.csv');
    fs.writeFileSync(csv, toCsv(generateFrames({ symbol: 'TERMBT', count: 120_000, seed: 5 })));
    const args = ['backtest', '--csv', csv, '--params', '{"fastPeriod":5,"slowPeriod":20}', '--out', path.join(dir, 'long.svg')];
    const tty = await onTty(args);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/backtest \[[█░]+\] \d+%/);
    expect(tty.stdout).toMatch(ANSI);
    const noColour = await onTty(args, { NO_COLOR: '1' });
    expect(noColour.code).toBe(0);
    expect(noColour.stdout).toMatch(/statistic/);
    // Still on a terminal, so the bar is drawn (cursor moves), but no colour: no SGR sequence.
    expect(noColour.stdout).not.toMatch(/\u001b\[[0-9;]*m/);
    const piped = await cli(args, { NO_COLOR: '1' });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/max drawdown/);
    expect(piped.stdout + piped.stderr).not.toMatch(ANSI);
    expect(piped.stderr).not.toMatch(/backtest \[/);
  });
});

describe('--json on every command that prints a table', () => {
  test.each([
    [['status', '--help']],
    [['session', '--help']],
    [['fleet', '--help']],
    [['users', 'list', '--help']],
    [['backtest', '--help']],
    [['import-candles', '--help']],
  ])('%j offers --json', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--json');
  });

  test('backtest --json: one JSON document on stdout, agreeing with the trade CSV and the text run', async () => {
    const csv = path.join(dir, 'bars.csv');
    fs.writeFileSync(csv, toCsv(generateFrames({ symbol: 'JSONBT', count: 2_000, seed: 3 })));
    const trades = path.join(dir, 'trades.csv');
    const common = ['backtest', '--csv', csv, '--params', '{"fastPeriod":5,"slowPeriod":20}', '--out', path.join(dir, 'r.svg')];
    const r = await cli([...common, '--trades', trades, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ system: 'ma-crossover', symbol: 'JSONBT', timeframe: '1m', bars: 2_000, params: { fastPeriod: 5, slowPeriod: 20 } });
    expect(doc.trades.length).toBeGreaterThan(5);
    expect(doc.stats.trades).toBe(doc.trades.length);
    expect(fs.readFileSync(trades, 'utf8').trim().split('\n')).toHaveLength(doc.trades.length + 1);
    expect(doc.chart).toMatchObject({ format: 'svg', bars: 2_000 });
    expect(fs.existsSync(doc.chart.file)).toBe(true);
    const text = await cli(common);
    expect(text.stdout).toContain(`of ${doc.trades.length} trades`);
  });

  test('import-candles --json: the summary with the rejected line by number', async () => {
    const symbol = uniqueAccount('IMPJ').toUpperCase();
    const rows = toCsv(generateFrames({ symbol, count: 50, seed: 9 })).trimEnd().split('\n');
    // Line 11 of the file (the 10th data row): high below low.
    const cells = rows[10].split(',');
    const header = rows[0].split(',');
    const [hi, lo] = [header.indexOf('high'), header.indexOf('low')];
    [cells[hi], cells[lo]] = [cells[lo], cells[hi]];
    rows[10] = cells.join(',');
    const csv = path.join(dir, 'import.csv');
    fs.writeFileSync(csv, `${rows.join('\n')}\n`);
    const r = await cli(['import-candles', csv, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ file: csv, stored: 49, rejected: 1, first: { symbol, timeframe: '1m' }, last: { symbol } });
    expect(doc.rejectedLines).toEqual([expect.objectContaining({ line: 11 })]);
    expect(doc.rejectedByReason).toHaveLength(1);
  });
});
