import { z } from 'zod';

/**
 * The grammar of every id the session derives from an account and a per-account counter. All of them are
 * deterministic (invariant 1): built only from workflow state, never from a clock or randomness, so recorded
 * workflow histories replay. Changing a single byte here breaks replay and orphans orders at the brokers.
 *
 *   <account>-NNNNNN      entry     the account's n-th order intent (an entry or a close: both take the order seq)
 *   <account>-NNNNNN-S    stop      the protective stop leg of the position that entry opened
 *   <account>-NNNNNN-Sk   stop      the same leg re-placed at a venue that never reuses an id (k = 2, 3, ...):
 *                                   Alpaca, after a refused close had cancelled `-S`. The session only ever
 *                                   names the leg `-S`; the adapter maps it to its latest incarnation.
 *   <account>-NNNNNN-R    reconciled the exit booked when reconciliation finds the position closed at the broker
 *                                   and no exit order explains it
 *   <account>-WNNNNNN     working   the n-th working (limit/stop) entry emulated by the session; own counter
 *   <account>-RNNNNNN     refusal   the n-th order intent refused by the risk engine; own counter
 *
 * NNNNNN is the counter zero-padded to 6 digits (more digits past 999999, never truncated), so ids sort in
 * order. An account id never contains `-` (AccountIdSchema), so the first `-` ends it and parsing is unambiguous.
 * Entry ids fit IG's deal-reference limit (30 chars of [A-Za-z0-9_-]) for account ids of up to 20 chars.
 */

/** A session's account id: 1-20 chars, a lowercase letter, then lowercase letters, digits or `_`. */
export const AccountIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,19}$/, 'account must be 1-20 chars: a lowercase letter, then lowercase letters, digits or _');

export type ClientOrderIdKind = 'entry' | 'stop' | 'reconciled' | 'working' | 'refusal';

export interface ParsedClientOrderId {
  account: string;
  /** The counter of its kind: the order seq for entry, stop and reconciled; the working / refusal counter otherwise. */
  seq: number;
  kind: ClientOrderIdKind;
  /** A re-placed stop leg's incarnation (2, 3, ...); absent for the first (`-S`) and every other kind. */
  leg?: number;
}

/** Suffix of a protective stop leg: `<positionRef>-S`. */
export const STOP_SUFFIX = '-S';
/** Suffix of an exit booked by reconciliation: `<positionRef>-R`. */
export const RECONCILED_SUFFIX = '-R';

const counter = (n: number) => String(n).padStart(6, '0');

/** The clientOrderId of an account's n-th order intent: `<account>-NNNNNN`. */
export function clientOrderIdFor(account: string, seq: number): string {
  return `${account}-${counter(seq)}`;
}

/** The clientOrderId under which a broker records the fill of a position's protective stop: `<positionRef>-S`. */
export function stopOrderId(positionRef: string): string {
  return `${positionRef}${STOP_SUFFIX}`;
}

/**
 * The k-th incarnation of a position's protective stop leg at a venue that refuses a reused id: `<positionRef>-S`
 * for k = 1, `<positionRef>-Sk` after. Only venue adapters build k > 1 (brokers/alpaca/execution.ts).
 */
export function stopLegId(positionRef: string, leg: number): string {
  if (!Number.isSafeInteger(leg) || leg < 1) throw new RangeError(`stop leg incarnation must be an integer >= 1, got ${leg}`);
  return leg === 1 ? stopOrderId(positionRef) : `${positionRef}${STOP_SUFFIX}${leg}`;
}

/** The clientOrderId of the exit booked when the broker closed a position with no exit order to show: `<positionRef>-R`. */
export function reconciledExitId(positionRef: string): string {
  return `${positionRef}${RECONCILED_SUFFIX}`;
}

/** The ref of the account's n-th working order: `<account>-WNNNNNN`. */
export function workingOrderRef(account: string, n: number): string {
  return `${account}-W${counter(n)}`;
}

/** The id of the account's n-th risk refusal: `<account>-RNNNNNN`. */
export function refusalIdFor(account: string, n: number): string {
  return `${account}-R${counter(n)}`;
}

/** The id of each kind, built from its parts: the inverse of parseClientOrderId. */
export function buildClientOrderId({ account, seq, kind, leg }: ParsedClientOrderId): string {
  switch (kind) {
    case 'entry':
      return clientOrderIdFor(account, seq);
    case 'stop':
      return stopLegId(clientOrderIdFor(account, seq), leg ?? 1);
    case 'reconciled':
      return reconciledExitId(clientOrderIdFor(account, seq));
    case 'working':
      return workingOrderRef(account, seq);
    case 'refusal':
      return refusalIdFor(account, seq);
  }
}

const ID_PATTERN = /^([a-z][a-z0-9_]{0,19})-(W|R)?(\d{6,})(-S(?:[2-9]|[1-9]\d+)?|-R)?$/;
const STOP_LEG = /^(.+)-S([2-9]|[1-9]\d+)?$/;

/**
 * The parts of an id this grammar builds, or null for any other (foreign) id: an order made outside the
 * session, a malformed account, a counter that is not zero-padded exactly as the builders pad it. Canonical:
 * whenever it returns parts, buildClientOrderId(parts) is the id again, byte for byte.
 */
export function parseClientOrderId(id: string): ParsedClientOrderId | null {
  const m = ID_PATTERN.exec(id);
  if (!m) return null;
  const [, account, prefix, digits, suffix] = m as unknown as [string, string, 'W' | 'R' | undefined, string, string | undefined];
  if (prefix && suffix) return null;
  const seq = Number(digits);
  if (!Number.isSafeInteger(seq) || counter(seq) !== digits) return null;
  const leg = suffix?.startsWith(STOP_SUFFIX) && suffix.length > STOP_SUFFIX.length ? Number(suffix.slice(STOP_SUFFIX.length)) : undefined;
  if (leg !== undefined && !Number.isSafeInteger(leg)) return null;
  const kind: ClientOrderIdKind =
    prefix === 'W' ? 'working' : prefix === 'R' ? 'refusal' : suffix?.startsWith(STOP_SUFFIX) ? 'stop' : suffix === '-R' ? 'reconciled' : 'entry';
  return leg === undefined ? { account: account!, seq, kind } : { account: account!, seq, kind, leg };
}

/**
 * The positionRef a protective stop leg id `<positionRef>-S` (or a re-placed `<positionRef>-Sk`) belongs to, or null
 * when the id is not a stop leg.
 * Structural only: venues treat positionRefs as opaque strings (they may come from elsewhere), so the ref is
 * not required to be one of this grammar's entry ids; use parseClientOrderId for that.
 */
export function stopLegRef(id: string): string | null {
  return STOP_LEG.exec(id)?.[1] ?? null;
}

/** The incarnation of a stop leg id: 1 for `<ref>-S`, k for `<ref>-Sk`; null when the id is not a stop leg. */
export function stopLegIncarnation(id: string): number | null {
  const m = STOP_LEG.exec(id);
  return m ? (m[2] === undefined ? 1 : Number(m[2])) : null;
}
