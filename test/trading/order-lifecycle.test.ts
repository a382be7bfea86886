import fc from 'fast-check';
import { FINAL_STATES, ORDER_STATES, OrderTransitionError, canTransition, isFinal, nextCheckDelayMs, stateOfReport, transition, type OrderState } from '../../trading/order-lifecycle';

test('the table: final states have no way out, intent only goes to submitted, nothing goes back to intent or submitted', () => {
  for (const s of FINAL_STATES) for (const to of ORDER_STATES) expect(canTransition(s, to)).toBe(false);
  expect(ORDER_STATES.filter((to) => canTransition('intent', to))).toEqual(['submitted']);
  for (const from of ORDER_STATES) {
    expect(canTransition(from, 'intent')).toBe(false);
    if (from !== 'intent') expect(canTransition(from, 'submitted')).toBe(false);
  }
  expect(canTransition('accepted', 'rejected')).toBe(true);
  expect(canTransition('partially-filled', 'accepted')).toBe(false);
  expect(canTransition('unknown', 'rejected')).toBe(true);
  expect(canTransition('partially-filled', 'partially-filled')).toBe(true);
});

test('a forbidden transition throws a non-retryable error naming the order and both states', () => {
  expect(() => transition('a-000001', 'filled', 'cancelled', 0, { filledQuantity: 1, fillPrice: 1 })).toThrow(OrderTransitionError);
  expect(() => transition('a-000001', 'filled', 'cancelled', 0, { filledQuantity: 1, fillPrice: 1 })).toThrow('order a-000001: filled → cancelled is not an allowed transition');
});

test('reports map to states: partial while pending, cancelled when the rest was cancelled, rejected only with nothing filled', () => {
  expect(stateOfReport({ status: 'pending', quantity: 10, filledQuantity: 0 })).toBe('accepted');
  expect(stateOfReport({ status: 'pending', quantity: 10, filledQuantity: 3 })).toBe('partially-filled');
  expect(stateOfReport({ status: 'filled', quantity: 10, filledQuantity: 10 })).toBe('filled');
  expect(stateOfReport({ status: 'filled', quantity: 10, filledQuantity: 4 })).toBe('cancelled');
  expect(stateOfReport({ status: 'rejected', quantity: 10, filledQuantity: 0 })).toBe('rejected');
  expect(stateOfReport({ status: 'rejected', quantity: 10, filledQuantity: 2 })).toBe('cancelled');
});

test('property: any sequence of venue reports walks the table from submitted, and ends at most once', () => {
  const report = fc.record({ status: fc.constantFrom('pending', 'filled', 'rejected') as fc.Arbitrary<'pending' | 'filled' | 'rejected'>, filled: fc.integer({ min: 0, max: 10 }) });
  fc.assert(
    fc.property(fc.array(report, { maxLength: 20 }), (reports) => {
      let state: OrderState = 'submitted';
      let filled = 0;
      for (const r of reports) {
        if (isFinal(state)) break;
        // A venue's filled quantity never goes down.
        filled = Math.max(filled, r.filled);
        const to = stateOfReport({ status: r.status, quantity: 10, filledQuantity: filled });
        if (to === state) continue;
        if (!canTransition(state, to)) {
          // Only a step back to `accepted` from partial is refused; the engine keeps the state then.
          expect(state).toBe('partially-filled');
          expect(to).toBe('accepted');
          continue;
        }
        state = transition('x-000001', state, to, 0, { filledQuantity: filled, fillPrice: 1 }).to;
      }
      expect(ORDER_STATES).toContain(state);
    }),
    { numRuns: 300 },
  );
});

test('the check delay doubles from 2 s to a cap of one minute', () => {
  expect([0, 1, 2, 3, 4, 5, 6, 40].map(nextCheckDelayMs)).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});
