import { below, exceeds, formatNumber, formatPct, isMultipleOf, reaches } from '../../risk/numbers';

describe('risk numbers', () => {
  it('formats numbers with thousands separators and without float noise', () => {
    expect(formatNumber(12_000)).toBe('12,000');
    expect(formatNumber(1_234_567.891)).toBe('1,234,567.891');
    expect(formatNumber(-12_000.5)).toBe('-12,000.5');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(999)).toBe('999');
    expect(formatNumber(0.00001)).toBe('0.00001');
    expect(formatPct(12.3456)).toBe('12.35%');
  });

  it('compares limits ignoring float error only', () => {
    expect(exceeds(0.1 * 3, 0.3)).toBe(false);
    expect(exceeds(0.3001, 0.3)).toBe(true);
    expect(reaches(999.9999999999, 1000)).toBe(true);
    expect(reaches(999.99, 1000)).toBe(false);
    expect(below(0.1 * 3, 0.3)).toBe(false);
    expect(below(0.29, 0.3)).toBe(true);
  });

  it('quantity steps tolerate float error', () => {
    expect(isMultipleOf(0.3, 0.1)).toBe(true);
    expect(isMultipleOf(1.15, 0.05)).toBe(true);
    expect(isMultipleOf(1.25, 0.1)).toBe(false);
    expect(isMultipleOf(7, 0)).toBe(true);
  });
});
