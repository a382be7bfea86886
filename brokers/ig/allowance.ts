/**
 * IG's historical-data allowance (issue 15 item 4): every GET /prices/{epic} answer spends one data point per price
 * returned from a limited allowance per API key and account (commonly 10,000 a week) and says what is left in
 * `metadata.allowance` { remainingAllowance, totalAllowance, allowanceExpiry (seconds until it resets) }. The
 * meter counts the points of every prices answer and keeps the last allowance IG reported; `meterIgHistory` hooks
 * it onto an adapter's HTTP client, so every REST candle request of the process is counted (the feeder's gap
 * fills, the session's backfills) without changing the data client. Exported by ops/metrics.ts, checked by
 * `maotrade check ig-allowance`.
 */
import { z } from 'zod';
import type { IgHttpClient } from './client';

export interface IgAllowanceReading {
  remaining: number;
  total: number;
  /** Seconds until the allowance resets, as IG said (null when it did not). */
  expirySeconds: number | null;
  /** When it was read (epoch ms). */
  at: number;
}

const AllowanceSchema = z
  .object({
    metadata: z
      .object({
        allowance: z
          .object({ remainingAllowance: z.number().finite(), totalAllowance: z.number().finite(), allowanceExpiry: z.number().finite().nullish() })
          .passthrough()
          .nullish(),
      })
      .passthrough()
      .nullish(),
    prices: z.array(z.unknown()).nullish(),
  })
  .passthrough();

export class IgHistoryMeter {
  /** Prices answers seen and the data points they returned. */
  requests = 0;
  points = 0;
  last: IgAllowanceReading | null = null;
  private readonly listeners = new Set<(points: number, reading: IgAllowanceReading | null) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** One prices answer's body. A body that is not a prices answer counts nothing. */
  observe(body: unknown): void {
    const r = AllowanceSchema.safeParse(body);
    if (!r.success) return;
    const points = r.data.prices?.length ?? 0;
    this.requests++;
    this.points += points;
    const a = r.data.metadata?.allowance;
    if (a) this.last = { remaining: a.remainingAllowance, total: a.totalAllowance, expirySeconds: a.allowanceExpiry ?? null, at: this.now() };
    for (const l of this.listeners) l(points, this.last);
  }

  /** Called after every observed answer with its points and the last reading. */
  onObserve(listener: (points: number, reading: IgAllowanceReading | null) => void): void {
    this.listeners.add(listener);
  }
}

const METERED = Symbol('igHistoryMetered');
const isPrices = (method: string, path: string) => method === 'GET' && /^\/prices\//.test(path);

/** Wraps the client's `request` so every GET /prices/… answer reaches the meter. Idempotent per client. */
export function meterIgHistory(client: IgHttpClient, meter: IgHistoryMeter): void {
  const c = client as IgHttpClient & { [METERED]?: true };
  if (c[METERED]) return;
  c[METERED] = true;
  const request = client.request.bind(client);
  client.request = async (req) => {
    const res = await request(req);
    if (isPrices(req.method, req.path.split('?')[0]!)) meter.observe(res.body);
    return res;
  };
}
