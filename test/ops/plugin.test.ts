/** Nagios plugin conventions: range syntax and semantics, perfdata and status-line format, exit codes, timeout. */
import {
  EXIT,
  RangeSyntaxError,
  alerts,
  evaluate,
  formatPerfDatum,
  formatStatusLine,
  parseRange,
  runCheck,
  worst,
} from '../../ops/checks/plugin';

describe('parseRange + alerts: the standard Nagios range semantics', () => {
  // [range, value, alerts?]
  const cases: [string, number, boolean][] = [
    // `10`: alert outside 0..10
    ['10', -1, true],
    ['10', 0, false],
    ['10', 5, false],
    ['10', 10, false],
    ['10', 10.001, true],
    // `10:`: alert below 10
    ['10:', 9.99, true],
    ['10:', 10, false],
    ['10:', 1e9, false],
    // `~:10`: alert above 10
    ['~:10', -1e9, false],
    ['~:10', 10, false],
    ['~:10', 11, true],
    // `10:20`: alert outside 10..20
    ['10:20', 9, true],
    ['10:20', 10, false],
    ['10:20', 20, false],
    ['10:20', 21, true],
    // `@10:20`: alert inside 10..20
    ['@10:20', 9, false],
    ['@10:20', 10, true],
    ['@10:20', 15, true],
    ['@10:20', 20, true],
    ['@10:20', 21, false],
    // edge forms
    ['0', 0, false],
    ['0', 1, true],
    ['1:', 0, true],
    ['1:', 1, false],
    ['-5:-1', -3, false],
    ['-5:-1', 0, true],
    ['0.5', 0.6, true],
    ['@~:0', -1, true],
    ['@~:0', 1, false],
    [':5', 6, true], // empty start means 0
    [':5', -1, true],
  ];
  test.each(cases)('%s with value %p → alert %p', (spec, value, expected) => {
    expect(alerts(parseRange(spec), value)).toBe(expected);
  });

  test('parsed bounds', () => {
    expect(parseRange('10')).toMatchObject({ start: 0, end: 10, inside: false });
    expect(parseRange('10:')).toMatchObject({ start: 10, end: Infinity, inside: false });
    expect(parseRange('~:10')).toMatchObject({ start: -Infinity, end: 10, inside: false });
    expect(parseRange('@10:20')).toMatchObject({ start: 10, end: 20, inside: true, spec: '@10:20' });
  });

  test.each(['', 'abc', '10:5', '1:2:3', '@', '~', '10:x', '1e', '--1'])('%p is a syntax error', (spec) => {
    expect(() => parseRange(spec)).toThrow(RangeSyntaxError);
  });
});

test('evaluate: critical beats warning, otherwise OK', () => {
  const t = { warning: parseRange('10'), critical: parseRange('20') };
  expect(evaluate(5, t)).toBe('OK');
  expect(evaluate(15, t)).toBe('WARNING');
  expect(evaluate(25, t)).toBe('CRITICAL');
  expect(evaluate(25, {})).toBe('OK');
  expect(worst('OK', 'WARNING', 'UNKNOWN')).toBe('WARNING');
  expect(worst('OK', 'CRITICAL', 'WARNING')).toBe('CRITICAL');
  expect(worst()).toBe('OK');
});

test('perfdata: quoted label, value with unit, warn;crit;min;max, trailing empties dropped', () => {
  expect(formatPerfDatum({ label: 'time', value: 0.0391234567, uom: 's', warning: parseRange('0.5'), critical: parseRange('2'), min: 0 })).toBe(
    "'time'=0.039123s;0.5;2;0",
  );
  expect(formatPerfDatum({ label: 'pollers', value: 3 })).toBe("'pollers'=3");
  expect(formatPerfDatum({ label: "it's", value: 1, min: 0, max: 1 })).toBe("'it''s'=1;;;0;1");
  expect(formatPerfDatum({ label: 'x', value: 2, critical: '1:' })).toBe("'x'=2;;1:");
});

test('status line: SERVICE STATUS: text | perfdata, on one line', () => {
  const line = formatStatusLine('mysql', {
    status: 'CRITICAL',
    message: 'broken\nsecond | line',
    perfdata: [{ label: 'time', value: 1, uom: 's' }],
  });
  expect(line).toBe("MYSQL CRITICAL: broken second / line | 'time'=1s");
  expect(formatStatusLine('x', { status: 'OK', message: 'fine', perfdata: [] })).toBe('X OK: fine');
});

describe('runCheck', () => {
  test('exit codes follow the status', async () => {
    for (const status of ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const) {
      const out = await runCheck('svc', async () => ({ status, message: 'm', perfdata: [] }), 1_000);
      expect(out.exitCode).toBe(EXIT[status]);
      expect(out.line).toBe(`SVC ${status}: m`);
    }
    expect(EXIT).toEqual({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 });
  });

  test('a check that outlives the timeout is UNKNOWN', async () => {
    const started = Date.now();
    const out = await runCheck('slow', () => new Promise(() => undefined), 200);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(out.exitCode).toBe(3);
    expect(out.line).toBe('SLOW UNKNOWN: check timed out after 0.2 s');
  });

  test('a thrown error (e.g. a bad threshold) is UNKNOWN', async () => {
    const out = await runCheck('svc', async () => {
      parseRange('5:1');
      return { status: 'OK', message: 'unreachable', perfdata: [] };
    }, 1_000);
    expect(out.exitCode).toBe(3);
    expect(out.line).toMatch(/^SVC UNKNOWN: invalid threshold range "5:1"/);
  });
});
