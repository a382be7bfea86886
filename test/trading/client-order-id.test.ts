/** The clientOrderId grammar (trading/client-order-id.ts): builders, parser, and byte-identity with recorded histories. */
import fc from 'fast-check';
import { stopOrderId as adapterStopOrderId } from '../../brokers/adapter';
import {
  AccountIdSchema,
  buildClientOrderId,
  clientOrderIdFor,
  parseClientOrderId,
  reconciledExitId,
  refusalIdFor,
  stopLegId,
  stopLegIncarnation,
  stopLegRef,
  stopOrderId,
  workingOrderRef,
  type ClientOrderIdKind,
  type ParsedClientOrderId,
} from '../../trading/client-order-id';
import { clientOrderIdFor as orderClientOrderIdFor } from '../../trading/order';
import { workingOrderRef as workingWorkingOrderRef } from '../../trading/working-order';
import { AccountIdSchema as SessionAccountIdSchema } from '../../config/session-config';

const KINDS: ClientOrderIdKind[] = ['entry', 'stop', 'reconciled', 'working', 'refusal'];

describe('builders', () => {
  it('build the exact ids recorded in test/fixtures/histories (replay depends on every byte)', () => {
    // account-session-risk-v1.json
    const a = 'rhist_w75vtax';
    expect(clientOrderIdFor(a, 1)).toBe('rhist_w75vtax-000001');
    expect(clientOrderIdFor(a, 7)).toBe('rhist_w75vtax-000007');
    expect(stopOrderId(clientOrderIdFor(a, 1))).toBe('rhist_w75vtax-000001-S');
    expect(stopOrderId(clientOrderIdFor(a, 4))).toBe('rhist_w75vtax-000004-S');
    expect(workingOrderRef(a, 1)).toBe('rhist_w75vtax-W000001');
    expect(workingOrderRef(a, 2)).toBe('rhist_w75vtax-W000002');
    expect(refusalIdFor(a, 1)).toBe('rhist_w75vtax-R000001');
    expect(refusalIdFor(a, 3)).toBe('rhist_w75vtax-R000003');
    // account-session-v1.json
    expect(clientOrderIdFor('hist_o4i9c2f', 4)).toBe('hist_o4i9c2f-000004');
  });

  it('build the exact ids the backtest and unit tests pin', () => {
    expect(clientOrderIdFor('acc', 42)).toBe('acc-000042');
    expect(clientOrderIdFor('acc', 999_999)).toBe('acc-999999');
    expect(clientOrderIdFor('acc', 1_000_000)).toBe('acc-1000000');
    expect(stopOrderId('backtest-000001')).toBe('backtest-000001-S');
    expect(workingOrderRef('acc', 123_456)).toBe('acc-W123456');
    expect(workingOrderRef('backtest', 12)).toBe('backtest-W000012');
    expect(reconciledExitId('acc-000003')).toBe('acc-000003-R');
  });

  it('are the same functions under their old names', () => {
    expect(orderClientOrderIdFor).toBe(clientOrderIdFor);
    expect(adapterStopOrderId).toBe(stopOrderId);
    expect(workingWorkingOrderRef).toBe(workingOrderRef);
    expect(SessionAccountIdSchema).toBe(AccountIdSchema);
  });
});

describe('parseClientOrderId', () => {
  it('parses every kind', () => {
    expect(parseClientOrderId('rhist_w75vtax-000001')).toEqual({ account: 'rhist_w75vtax', seq: 1, kind: 'entry' });
    expect(parseClientOrderId('rhist_w75vtax-000004-S')).toEqual({ account: 'rhist_w75vtax', seq: 4, kind: 'stop' });
    expect(parseClientOrderId('acc-000003-R')).toEqual({ account: 'acc', seq: 3, kind: 'reconciled' });
    expect(parseClientOrderId('rhist_w75vtax-W000002')).toEqual({ account: 'rhist_w75vtax', seq: 2, kind: 'working' });
    expect(parseClientOrderId('rhist_w75vtax-R000003')).toEqual({ account: 'rhist_w75vtax', seq: 3, kind: 'refusal' });
    expect(parseClientOrderId('acc-1000000')).toEqual({ account: 'acc', seq: 1_000_000, kind: 'entry' });
  });

  it('round-trips every kind: build(parse(id)) is id and parse(build(parts)) is parts', () => {
    for (const kind of KINDS) {
      const parts: ParsedClientOrderId = { account: 'abcdefghij_klmnopq12', seq: 42, kind };
      const id = buildClientOrderId(parts);
      expect(parseClientOrderId(id)).toEqual(parts);
      expect(buildClientOrderId(parseClientOrderId(id)!)).toBe(id);
    }
  });

  it.each([
    ['empty', ''],
    ['no counter', 'acc'],
    ['counter too short', 'acc-00001'],
    ['counter padded beyond 6 digits', 'acc-0000001'],
    ['counter not digits', 'acc-00000x'],
    ['unknown prefix', 'acc-X000001'],
    ['unknown suffix', 'acc-000001-T'],
    ['prefix and suffix', 'acc-W000001-S'],
    ['stop of a stop', 'acc-000001-S-S'],
    ['uppercase account', 'Acc-000001'],
    ['account starting with a digit', '1acc-000001'],
    ['account with a dash', 'a-b-000001'],
    ['account over 20 chars', 'abcdefghij_klmnopq123-000001'],
    ['no account', '-000001'],
    ['an Alpaca/UUID style id', '6f1c1e9a-2a4b-4d3c-9a8e-1f2e3d4c5b6a'],
    ['a manual order', 'A-S'],
    ['trailing newline', 'acc-000001\n'],
    ['beyond safe integers', `acc-${'9'.repeat(17)}`],
  ])('returns null for a foreign id: %s', (_, id) => {
    expect(parseClientOrderId(id)).toBeNull();
  });

  it('accepts exactly the accounts AccountIdSchema accepts', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (account) => {
        const parsed = parseClientOrderId(clientOrderIdFor(account, 1));
        expect(parsed !== null).toBe(AccountIdSchema.safeParse(account).success);
      }),
    );
  });
});

describe('stopLegRef', () => {
  it('is the positionRef of any `<ref>-S`, whatever the ref; null otherwise', () => {
    expect(stopLegRef('acc-000001-S')).toBe('acc-000001');
    expect(stopLegRef('A-S')).toBe('A');
    expect(stopLegRef(stopOrderId('a-1'))).toBe('a-1');
    expect(stopLegRef('acc-000001')).toBeNull();
    expect(stopLegRef('acc-000001-R')).toBeNull();
    expect(stopLegRef('-S')).toBeNull();
  });

  it('knows a re-placed leg `<ref>-Sk` (k >= 2) as the same position\'s stop, and its incarnation', () => {
    expect(stopLegId('acc-000001', 1)).toBe('acc-000001-S');
    expect(stopLegId('acc-000001', 2)).toBe('acc-000001-S2');
    expect(stopLegId('acc-000001', 12)).toBe('acc-000001-S12');
    expect(() => stopLegId('acc-000001', 0)).toThrow(/>= 1, got 0/);
    expect(stopLegRef('acc-000001-S2')).toBe('acc-000001');
    expect(stopLegRef('acc-000001-S12')).toBe('acc-000001');
    expect(stopLegIncarnation('acc-000001-S')).toBe(1);
    expect(stopLegIncarnation('acc-000001-S12')).toBe(12);
    // `-S1` and `-S01` are never built: not stop legs
    expect(stopLegRef('acc-000001-S1')).toBeNull();
    expect(stopLegRef('acc-000001-S01')).toBeNull();
    expect(stopLegIncarnation('acc-000001')).toBeNull();
    expect(parseClientOrderId('acc-000001-S3')).toEqual({ account: 'acc', seq: 1, kind: 'stop', leg: 3 });
    expect(buildClientOrderId({ account: 'acc', seq: 1, kind: 'stop', leg: 3 })).toBe('acc-000001-S3');
    expect(parseClientOrderId('acc-000001-S1')).toBeNull();
  });
});

describe('properties', () => {
  const account = fc.stringMatching(/^[a-z][a-z0-9_]{0,19}$/);
  const seq = fc.oneof(fc.integer({ min: 0, max: 9_999_999 }), fc.maxSafeNat());
  const kind = fc.constantFrom(...KINDS);

  it('build then parse is the identity over random accounts, seqs and kinds', () => {
    fc.assert(
      fc.property(account, seq, kind, (a, s, k) => {
        const parts = { account: a, seq: s, kind: k };
        const id = buildClientOrderId(parts);
        expect(parseClientOrderId(id)).toEqual(parts);
        expect(buildClientOrderId(parseClientOrderId(id)!)).toBe(id);
      }),
      { numRuns: 2_000 },
    );
  });

  it('the stop leg of an entry, in any incarnation, points back at the entry and round-trips', () => {
    fc.assert(
      fc.property(account, seq, fc.integer({ min: 1, max: 10_000 }), (a, s, k) => {
        const id = stopLegId(clientOrderIdFor(a, s), k);
        expect(stopLegRef(id)).toBe(clientOrderIdFor(a, s));
        expect(stopLegIncarnation(id)).toBe(k);
        expect(buildClientOrderId(parseClientOrderId(id)!)).toBe(id);
      }),
    );
  });

  it('distinct parts give distinct ids', () => {
    fc.assert(
      fc.property(account, seq, kind, account, seq, kind, (a1, s1, k1, a2, s2, k2) => {
        fc.pre(a1 !== a2 || s1 !== s2 || k1 !== k2);
        expect(buildClientOrderId({ account: a1, seq: s1, kind: k1 })).not.toBe(buildClientOrderId({ account: a2, seq: s2, kind: k2 }));
      }),
    );
  });

  it('never throws and anything it parses rebuilds byte for byte', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (id) => {
        const parsed = parseClientOrderId(id);
        if (parsed) expect(buildClientOrderId(parsed)).toBe(id);
      }),
    );
  });
});
