/**
 * Candles from CSV. The header names the columns (any order, case-insensitive):
 *   start,open,high,low,close[,volume][,symbol][,timeframe]
 * `start` is epoch milliseconds or an ISO-8601 time (`2024-01-01T00:05:00Z`; without an offset it is
 * UTC). `symbol` and `timeframe` come from their columns or, where a file has none, from the options.
 * Files written by pandas (`df.to_csv()`) load as they are: the index column comes first and is named
 * after the index (`Date`, `Datetime`, `Timestamp`, ...) or not at all (the header starts with a comma);
 * an unnamed first column holds the starts unless another column is named as the start (after
 * `reset_index()` the unnamed column is a row number and the dates sit in `Datetime`). Pandas writes
 * times as `2024-01-02 09:00:00`, `2024-01-02 09:00:00-05:00` or `2024-01-02` (all read here).
 * Other columns are ignored. Every row goes through FrameSchema (invariant 8), and the rows of each
 * stream (symbol, timeframe) must have strictly increasing starts. A bad row is reported with its line
 * number (the header is line 1) and the reason, and left out; good rows are kept.
 */
import { FrameSchema, streamKey, type Frame } from '../market/frame';
import { TimeframeSchema, type Timeframe } from '../market/timeframe';

export interface CsvRowError {
  /** 1-based line number in the file; the header is line 1. */
  line: number;
  reason: string;
}

export interface CsvParseOptions {
  /** Symbol of rows without a `symbol` value; a row whose own symbol differs is rejected. */
  symbol?: string;
  /** Timeframe of rows without a `timeframe` value; a row whose own timeframe differs is rejected. */
  timeframe?: Timeframe;
}

export interface CsvParseResult {
  frames: Frame[];
  errors: CsvRowError[];
}

/** The file cannot be read as candles at all (no header, a required column missing). */
export class CandleCsvError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'CandleCsvError';
  }
}

const REQUIRED = ['start', 'open', 'high', 'low', 'close'] as const;
const ALIASES: Record<string, string> = { timestamp: 'start', time: 'start', date: 'start', ts: 'start', datetime: 'start', date_time: 'start' };
/** Names an index column has when pandas writes (or re-reads) it without a name. */
const UNNAMED_INDEX = new Set(['', 'unnamed: 0', 'index']);
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Epoch ms of an ISO-8601 time, or null when it is not one (or names a day or hour that does not exist). */
export function parseIsoTime(text: string): number | null {
  const m = ISO.exec(text);
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((x) => (x === undefined ? 0 : Number(x)));
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return null;
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  let offsetMin = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const oh = Number(digits.slice(1, 3));
    const om = digits.length > 3 ? Number(digits.slice(3, 5)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
}

/** A time as written in a file or on a command line: epoch milliseconds or ISO-8601; null when neither. */
export function parseTime(text: string): number | null {
  if (DECIMAL.test(text)) return Number(text);
  return parseIsoTime(text);
}

/** `start` as epoch ms, or the reason it is not one. */
function parseStart(text: string): number | string {
  return parseTime(text) ?? `start: ${JSON.stringify(text)} is neither epoch milliseconds nor an ISO-8601 time`;
}

/** A number cell; an empty cell is NaN (Number('') would be 0) so the schema names it. */
function num(text: string): number {
  return text === '' ? NaN : Number(text);
}

/** Splits one CSV line; double-quoted fields may contain commas and doubled quotes. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',').map((c) => c.trim());
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  out.push(cell.trim());
  return out;
}

function describeStart(ms: number): string {
  return `${ms} (${new Date(ms).toISOString()})`;
}

/**
 * Reads a candles CSV one line at a time (so a large file can be streamed): the first non-blank line
 * is the header, each later one a row. `push` returns the row's frame, or null for a blank or bad line.
 */
export class CandleCsvReader {
  readonly errors: CsvRowError[] = [];
  private lineNo = 0;
  private columns: Map<string, number> | null = null;
  private width = 0;
  private readonly lastStart = new Map<string, number>();

  constructor(private readonly options: CsvParseOptions = {}) {
    if (options.timeframe !== undefined && !TimeframeSchema.safeParse(options.timeframe).success) {
      throw new CandleCsvError(`timeframe ${JSON.stringify(options.timeframe)} is not one of ${TimeframeSchema.options.join(', ')}`);
    }
  }

  /** Whether the header line has been read. */
  get hasHeader(): boolean {
    return this.columns !== null;
  }

  /** Call after the last line: a file without even a header is an error, not an empty result. */
  end(): void {
    if (this.columns === null) throw new CandleCsvError('the file is empty: expected a header start,open,high,low,close[,volume]');
  }

  /** Lines seen so far (the number of the last line pushed). */
  get lines(): number {
    return this.lineNo;
  }

  push(rawLine: string): Frame | null {
    this.lineNo++;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') return null;
    if (this.columns === null) {
      this.readHeader(line);
      return null;
    }
    return this.readRow(line);
  }

  private readHeader(line: string): void {
    const names = splitCsvLine(line.replace(/^\uFEFF/, '')).map((c) => c.toLowerCase());
    const columns = new Map<string, number>();
    names.forEach((name, i) => {
      const key = ALIASES[name] ?? name;
      if (!columns.has(key)) columns.set(key, i);
    });
    // pandas' unnamed index column: the starts, unless a named column already holds them.
    if (!columns.has('start') && names.length > 0 && UNNAMED_INDEX.has(names[0])) columns.set('start', 0);
    const missing = REQUIRED.filter((c) => !columns.has(c));
    if (missing.length) {
      throw new CandleCsvError(
        `line ${this.lineNo}: the header ${JSON.stringify(line)} lacks column(s) ${missing.join(', ')}; expected start (or Date/Datetime/Timestamp, or an unnamed first column as pandas writes its index),open,high,low,close[,volume][,symbol][,timeframe]`,
      );
    }
    if (!columns.has('symbol') && this.options.symbol === undefined) {
      throw new CandleCsvError('the file has no symbol column: give the symbol (--symbol)');
    }
    if (!columns.has('timeframe') && this.options.timeframe === undefined) {
      throw new CandleCsvError('the file has no timeframe column: give the timeframe (--timeframe)');
    }
    this.columns = columns;
    this.width = names.length;
  }

  private reject(reason: string): null {
    this.errors.push({ line: this.lineNo, reason });
    return null;
  }

  /** The row's symbol or timeframe: its own cell, else the option; a conflict between the two is an error. */
  private streamField(cells: string[], name: 'symbol' | 'timeframe'): string | { error: string } {
    const col = this.columns!.get(name);
    const own = col === undefined ? '' : (cells[col] ?? '');
    const given = this.options[name];
    if (own === '') return given ?? { error: `${name}: missing (empty cell and no ${name} given)` };
    if (given !== undefined && own !== given) return { error: `${name}: ${JSON.stringify(own)} differs from the ${name} given (${given})` };
    return own;
  }

  private readRow(line: string): Frame | null {
    const cells = splitCsvLine(line);
    if (cells.length !== this.width) return this.reject(`expected ${this.width} columns as in the header, got ${cells.length}`);
    const cols = this.columns!;
    const cell = (name: string) => cells[cols.get(name)!];
    const symbol = this.streamField(cells, 'symbol');
    if (typeof symbol !== 'string') return this.reject(symbol.error);
    const timeframe = this.streamField(cells, 'timeframe');
    if (typeof timeframe !== 'string') return this.reject(timeframe.error);
    const start = parseStart(cell('start'));
    if (typeof start === 'string') return this.reject(start);
    const input: Record<string, unknown> = {
      symbol,
      timeframe,
      start,
      open: num(cell('open')),
      high: num(cell('high')),
      low: num(cell('low')),
      close: num(cell('close')),
    };
    if (cols.has('volume') && cell('volume') !== '') input.volume = num(cell('volume'));
    const parsed = FrameSchema.safeParse(input);
    if (!parsed.success) {
      return this.reject(
        parsed.error.issues
          .map((i) => {
            const field = i.path.join('.');
            // A cell that is no number at all: name what was written, not just "must be a number".
            if (i.code === 'invalid_type' && cols.has(field) && typeof input[field] === 'number') {
              return `${field}: ${JSON.stringify(cell(field))} is not a number (NaN)`;
            }
            return `${field || 'row'}: ${i.message}`;
          })
          .join('; '),
      );
    }
    const frame = parsed.data;
    const key = streamKey(frame.symbol, frame.timeframe);
    const prev = this.lastStart.get(key);
    if (prev !== undefined && frame.start <= prev) {
      return this.reject(
        `start: ${describeStart(frame.start)} is ${frame.start === prev ? 'a repeat of' : 'before'} the previous row's ${describeStart(prev)} (rows must be in strictly increasing time order)`,
      );
    }
    this.lastStart.set(key, frame.start);
    return frame;
  }
}

/** Parses a whole candles CSV: good rows as frames, bad rows as `{ line, reason }`. Throws CandleCsvError for a bad header. */
export function parseCandlesCsv(text: string, options: CsvParseOptions = {}): CsvParseResult {
  const reader = new CandleCsvReader(options);
  const frames: Frame[] = [];
  let from = 0;
  const len = text.length;
  while (from < len) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = len;
    const frame = reader.push(text.slice(from, to));
    if (frame) frames.push(frame);
    from = to + 1;
  }
  reader.end();
  return { frames, errors: reader.errors };
}
