/**
 * Faults a fake broker server can inject, shared by the fakes under test/fakes (IG, Alpaca, ...).
 * Each fake decides how a kind looks on its wire (IG answers a rate limit with 403 and an errorCode,
 * Alpaca with 429); the kinds and the matching rules are the same everywhere.
 */
export type FaultKind =
  /** Hold the request without answering for `holdMs` (longer than the client's timeout), then drop it. */
  | 'timeout'
  /** Answer 5xx (`status`, default 500) with the venue's error body; nothing happens at the venue. */
  | '5xx'
  /** Answer the venue's rate-limit error; nothing happens at the venue. */
  | 'rate-limit'
  /** Answer the venue's expired/invalid-token error (401); nothing happens at the venue. */
  | 'expired-token'
  /** Carry the request out at the venue (the order exists), then destroy the socket without answering. */
  | 'drop-after-accept';

export interface Fault {
  kind: FaultKind;
  /** HTTP method to match (case-insensitive); any method when omitted. */
  method?: string;
  /** Request path (without query string) to match: exact string, or a RegExp tested against it. */
  path: string | RegExp;
  /** How many matching requests the fault applies to, then it is spent. Default 1. */
  times?: number;
  /** `5xx` only: the status to answer (500, 502, 503, 504). Default 500. */
  status?: number;
  /** `timeout` only: how long to hold the request before dropping it. Default 30 000 ms. */
  holdMs?: number;
  /**
   * `timeout` only: carry the request out at the venue first, then hold the answer (the order exists but
   * the client times out). Default false: the request is held and never reaches the venue.
   */
  acceptFirst?: boolean;
  /** `rate-limit` / `expired-token` / `5xx`: the venue's error code to answer with, where the venue has several. */
  errorCode?: string;
  /**
   * Optional extra match on the request (e.g. a header such as IG's `_method: DELETE`, or a body field).
   * Receives the lower-cased headers and the parsed JSON body (undefined when there is none).
   */
  when?: (req: { headers: Record<string, string | string[] | undefined>; body: unknown }) => boolean;
}

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

/** The faults armed on one fake server; the first armed fault that matches a request is taken. */
export class FaultBook {
  private armed: ArmedFault[] = [];

  inject(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error(`fault.times must be a positive integer, got ${times}`);
    this.armed.push({ fault, remaining: times });
  }

  clear(): void {
    this.armed = [];
  }

  /** Faults still armed (for assertions that every injected fault was hit). */
  pending(): Fault[] {
    return this.armed.map((a) => a.fault);
  }

  /** Consumes one use of the first matching fault, if any. */
  take(
    method: string,
    path: string,
    req: { headers: Record<string, string | string[] | undefined>; body: unknown },
  ): Fault | undefined {
    const i = this.armed.findIndex(({ fault }) => faultMatches(fault, method, path, req));
    if (i < 0) return undefined;
    const a = this.armed[i]!;
    a.remaining -= 1;
    if (a.remaining === 0) this.armed.splice(i, 1);
    return a.fault;
  }
}

export function faultMatches(
  fault: Fault,
  method: string,
  path: string,
  req: { headers: Record<string, string | string[] | undefined>; body: unknown },
): boolean {
  if (fault.method && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  const pathOk = typeof fault.path === 'string' ? fault.path === path : fault.path.test(path);
  if (!pathOk) return false;
  return fault.when ? fault.when(req) : true;
}
