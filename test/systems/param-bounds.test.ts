import fc from 'fast-check';
import { finiteNumber, grouped, MAX_PERIOD, MAX_QUANTITY, periodParam, quantityParam } from '../../systems/param-bounds';
import { listSystems } from '../../systems/registry';

test('grouped writes thousands separators without Intl', () => {
  expect([0, 999, 1_000, 1_000_000, 31_622_400_000].map(grouped)).toEqual(['0', '999', '1,000', '1,000,000', '31,622,400,000']);
});

test('quantityParam takes (0, MAX_QUANTITY] and nothing else', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: false }), (q) => {
      const ok = quantityParam().safeParse(q).success;
      expect(ok).toBe(Number.isFinite(q) && q > 0 && q <= MAX_QUANTITY);
    }),
  );
});

test('periodParam takes whole numbers in [min, max] and names the field', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: -5, max: MAX_PERIOD + 5 }), fc.double()), (n) => {
      const ok = periodParam('p', 2).safeParse(n).success;
      expect(ok).toBe(Number.isInteger(n) && n >= 2 && n <= MAX_PERIOD);
    }),
  );
  expect(periodParam('slowPeriod', 2).safeParse(MAX_PERIOD + 1).error!.issues[0].message).toBe('slowPeriod must be at most 10000');
  expect(finiteNumber('x').safeParse('1').error!.issues[0].message).toBe('x must be a number');
});

test('every registered system still runs with its defaults', () => {
  expect(listSystems().map((s) => s.name)).toEqual(['channel-breakout', 'ma-crossover', 'scripted']);
});
