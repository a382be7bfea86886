/**
 * Nagios plugin conventions (Monitoring Plugins Development Guidelines), shared by every check:
 * exactly one status line `SERVICE STATUS: text | perfdata`, exit codes 0 OK / 1 WARNING /
 * 2 CRITICAL / 3 UNKNOWN, `-w`/`-c` thresholds in the standard range syntax, a timeout → UNKNOWN.
 */

export const EXIT = Object.freeze({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 });
export type Status = keyof typeof EXIT;

/** Worst first: a CRITICAL beats a WARNING beats an UNKNOWN beats an OK when several facts are combined. */
const SEVERITY: Record<Status, number> = { OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3 };

export function worst(...statuses: Status[]): Status {
  return statuses.reduce<Status>((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a), 'OK');
}

/** The threshold syntax is wrong: the plugin answers UNKNOWN, as the guidelines ask. */
export class RangeSyntaxError extends Error {
  constructor(readonly spec: string, reason: string) {
    super(`invalid threshold range "${spec}": ${reason}`);
    this.name = 'RangeSyntaxError';
  }
}

/**
 * A threshold range. Without `@` the value alerts when it lies OUTSIDE [start, end]; with `@` it alerts
 * when it lies INSIDE (endpoints included in both cases).
 *   `10` → outside 0..10   `10:` → below 10   `~:10` → above 10   `10:20` → outside 10..20   `@10:20` → inside 10..20
 */
export interface Range {
  readonly start: number;
  readonly end: number;
  readonly inside: boolean;
  /** The text it was parsed from, echoed in perfdata. */
  readonly spec: string;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function num(spec: string, text: string): number {
  if (!NUMBER.test(text)) throw new RangeSyntaxError(spec, `"${text}" is not a number`);
  return Number(text);
}

export function parseRange(spec: string): Range {
  const raw = spec.trim();
  if (raw === '') throw new RangeSyntaxError(spec, 'empty');
  const inside = raw.startsWith('@');
  const body = inside ? raw.slice(1) : raw;
  let start: number;
  let end: number;
  const colon = body.indexOf(':');
  if (colon < 0) {
    start = 0;
    end = num(spec, body);
  } else {
    const left = body.slice(0, colon);
    const right = body.slice(colon + 1);
    if (right.includes(':')) throw new RangeSyntaxError(spec, 'more than one ":"');
    start = left === '~' ? -Infinity : left === '' ? 0 : num(spec, left);
    end = right === '' ? Infinity : num(spec, right);
  }
  if (start > end) throw new RangeSyntaxError(spec, `start ${start} is greater than end ${end}`);
  return Object.freeze({ start, end, inside, spec: raw });
}

/** True when `value` should raise an alert under `range`. */
export function alerts(range: Range, value: number): boolean {
  const within = value >= range.start && value <= range.end;
  return range.inside ? within : !within;
}

/** CRITICAL if the critical range alerts, else WARNING if the warning range alerts, else OK. */
export function evaluate(value: number, thresholds: { warning?: Range; critical?: Range }): Status {
  if (thresholds.critical && alerts(thresholds.critical, value)) return 'CRITICAL';
  if (thresholds.warning && alerts(thresholds.warning, value)) return 'WARNING';
  return 'OK';
}

export interface PerfDatum {
  label: string;
  value: number;
  /** '', s, ms, us, %, B, KB, MB, TB or c (a continuous counter). */
  uom?: string;
  warning?: Range | string;
  critical?: Range | string;
  min?: number;
  max?: number;
}

const fmtNumber = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6))));
const fmtRange = (r: Range | string | undefined) => (r === undefined ? '' : typeof r === 'string' ? r : r.spec);

/** `'label'=value[UOM];[warn];[crit];[min];[max]`, trailing empty fields dropped. */
export function formatPerfDatum(p: PerfDatum): string {
  const label = `'${p.label.replace(/'/g, "''")}'`;
  const fields = [
    `${fmtNumber(p.value)}${p.uom ?? ''}`,
    fmtRange(p.warning),
    fmtRange(p.critical),
    p.min === undefined ? '' : fmtNumber(p.min),
    p.max === undefined ? '' : fmtNumber(p.max),
  ];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return `${label}=${fields.join(';')}`;
}

export interface CheckResult {
  status: Status;
  /** One line of text for the operator (newlines and `|` are replaced: the status line stays parseable). */
  message: string;
  perfdata: PerfDatum[];
}

/** The one status line: `SERVICE STATUS: text | perfdata`. */
export function formatStatusLine(service: string, result: CheckResult): string {
  const text = result.message.replace(/[\r\n]+/g, ' ').replace(/\|/g, '/').trim();
  const perf = result.perfdata.map(formatPerfDatum).join(' ');
  return `${service.toUpperCase()} ${result.status}: ${text}${perf ? ` | ${perf}` : ''}`;
}

export interface CheckOutcome {
  line: string;
  exitCode: number;
  result: CheckResult;
}

/**
 * Runs a check under a timeout and turns every way it can end into one status line and an exit code:
 * its own result; a thrown RangeSyntaxError or any other error → UNKNOWN; the timeout → UNKNOWN.
 */
export async function runCheck(service: string, check: () => Promise<CheckResult>, timeoutMs: number): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'UNKNOWN', message: `check timed out after ${fmtNumber(timeoutMs / 1000)} s`, perfdata: [] }),
      timeoutMs,
    );
  });
  let result: CheckResult;
  try {
    result = await Promise.race([
      check().catch((err: unknown): CheckResult => ({ status: 'UNKNOWN', message: errorText(err), perfdata: [] })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return { line: formatStatusLine(service, result), exitCode: EXIT[result.status], result };
}

/** An error's message, with its cause's when it has one (the Temporal SDK puts the reason there). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const own = err.message || err.name;
  return err.cause instanceof Error && err.cause.message && !own.includes(err.cause.message) ? `${own}: ${err.cause.message}` : own;
}

/** Parses optional -w/-c options; a syntax error propagates (→ UNKNOWN through runCheck). */
export function thresholds(opts: { warning?: string; critical?: string }): { warning?: Range; critical?: Range } {
  return {
    ...(opts.warning !== undefined ? { warning: parseRange(opts.warning) } : {}),
    ...(opts.critical !== undefined ? { critical: parseRange(opts.critical) } : {}),
  };
}

/** Seconds elapsed since `startMs`, rounded to the millisecond. */
export const secondsSince = (startMs: number) => Math.round(Date.now() - startMs) / 1000;
