import { InvalidFrameError, parseFrame, streamKey } from '../../market/frame';

const START = Date.UTC(2024, 0, 2, 10, 0);
const valid = { symbol: 'EURUSD', timeframe: '1m', start: START, open: 1.1, high: 1.2, low: 1.05, close: 1.15, volume: 12 };

/** The InvalidFrameError parseFrame throws for `input` (fails the test if it does not throw one). */
function frameError(input: unknown): InvalidFrameError {
  try {
    parseFrame(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidFrameError);
    return err as InvalidFrameError;
  }
  throw new Error(`parseFrame accepted ${JSON.stringify(input)}`);
}

describe('parseFrame', () => {
  it('accepts a valid frame unchanged', () => {
    expect(parseFrame(valid)).toEqual(valid);
  });

  it('defaults a missing volume to 0', () => {
    const { volume: _v, ...noVolume } = valid;
    expect(parseFrame(noVolume)).toEqual({ ...valid, volume: 0 });
  });

  it('accepts a flat frame (open = high = low = close)', () => {
    expect(parseFrame({ ...valid, open: 2, high: 2, low: 2, close: 2 })).toMatchObject({ high: 2, low: 2 });
  });

  it.each([
    ['NaN open', { open: NaN }, 'open'],
    ['NaN close', { close: NaN }, 'close'],
    ['Infinity high', { high: Infinity }, 'high'],
    ['-Infinity low', { low: -Infinity }, 'low'],
    ['negative low', { low: -1 }, 'low'],
    ['zero close', { close: 0 }, 'close'],
    ['zero open', { open: 0 }, 'open'],
    ['a price as a string', { open: '1.1' }, 'open'],
    ['negative volume', { volume: -5 }, 'volume'],
    ['NaN volume', { volume: NaN }, 'volume'],
    ['misaligned start', { start: START + 30_000 }, 'start'],
    ['misaligned start for 1h', { timeframe: '1h', start: START + 60_000 }, 'start'],
    ['fractional start', { start: START + 0.5 }, 'start'],
    ['unknown timeframe', { timeframe: '2m' }, 'timeframe'],
    ['bad symbol', { symbol: 'EUR USD' }, 'symbol'],
  ])('rejects %s naming the field', (_label, patch, field) => {
    const err = frameError({ ...valid, ...patch });
    expect(err.issues.some((i) => i.startsWith(`${field}: `))).toBe(true);
    expect(err.message).toContain(field);
    expect(err.retryable).toBe(false);
    expect(err.frame).toEqual({ ...valid, ...patch });
  });

  it('rejects high < low with an issue on high that names both values', () => {
    const err = frameError({ ...valid, high: 1.0, low: 1.2, open: 1.1, close: 1.1 });
    expect(err.issues).toContainEqual('high: high 1 is below low 1.2');
  });

  it.each([
    ['open above high', { open: 1.25 }, 'open'],
    ['open below low', { open: 1.0 }, 'open'],
    ['close above high', { close: 1.21 }, 'close'],
    ['close below low', { close: 1.04 }, 'close'],
  ])('rejects %s (outside [low, high])', (_label, patch, field) => {
    const err = frameError({ ...valid, ...patch });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatch(new RegExp(`^${field}: ${field} [\\d.]+ is outside \\[low 1.05, high 1.2\\]$`));
  });

  it('rejects an unknown field and names it', () => {
    const err = frameError({ ...valid, vwap: 1.12 });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatch(/vwap/);
  });

  it('rejects a missing field and names it', () => {
    const { close: _c, ...noClose } = valid;
    const err = frameError(noClose);
    expect(err.issues.some((i) => i.startsWith('close: '))).toBe(true);
  });

  it('names every bad field at once', () => {
    const err = frameError({ ...valid, open: NaN, low: -1, timeframe: 'x' });
    for (const field of ['open', 'low', 'timeframe']) expect(err.issues.some((i) => i.startsWith(`${field}: `))).toBe(true);
  });

  it('rejects a non-object with an InvalidFrameError', () => {
    expect(frameError(null).issues[0]).toMatch(/^frame: /);
    expect(frameError('1.1').issues).toHaveLength(1);
  });
});

describe('streamKey', () => {
  it('joins symbol and timeframe', () => {
    expect(streamKey('EURUSD', '1m')).toBe('EURUSD|1m');
  });
});
