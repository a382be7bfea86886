import { parseStopRequest, stopOnWrongSide, stopOrderId } from '../adapter';
import { stopReport, type StopReport } from '../../trading/order-report';
import type { StopRequest } from '../../trading/order-request';
import { BrokerUnavailableError, InvalidOrderError } from '../errors';
import type { IgHttpClient, IgLogger } from './client';
import { checkEpic } from './data';
import { BROKER } from './errors';
import type { IgExecutionClient } from './execution';
import type { IgLookups } from './lookup';
import { IgDealReferenceBodySchema, parseIg, type IgConfirm, type IgPosition } from './parsing';

export interface IgStopDeps {
  client: IgHttpClient;
  lookups: IgLookups;
  execution: Pick<IgExecutionClient, 'pollConfirm' | 'getOrder'>;
  logger: IgLogger;
}

/**
 * Protective stops at IG live on the position itself (`stopLevel`, non-guaranteed). Placing one after the
 * entry is an amendment of the open position: PUT /positions/otc/{dealId} v2, confirmed through
 * GET /confirms/{dealReference}. The position is the record, so the operation is idempotent without a
 * journal: every attempt reads the position first, and a position already showing the level is `working`.
 * An amendment whose answer was lost is found the same way on the next attempt (the error is retryable).
 */
export class IgStopClient {
  constructor(private readonly d: IgStopDeps) {}

  async placeStop(input: StopRequest): Promise<StopReport> {
    const req = parseStopRequest(input, BROKER);
    checkEpic(req.symbol);
    const pos = await this.openPosition(req.positionRef);
    if (!pos) return this.notOpen(req);
    const p = pos.position;
    const side = p.direction === 'BUY' ? 'long' : 'short';
    if (pos.market.epic !== req.symbol || side !== req.positionSide) {
      return stopReport(req, 'rejected', `position ${req.positionRef} is ${side} ${pos.market.epic} at IG, not ${req.positionSide} ${req.symbol}`);
    }
    const existing = p.stopLevel ?? null;
    if (existing !== null) {
      if (sameLevel(existing, req.stopLevel)) return stopReport(req, 'working');
      return { ...stopReport(req, 'working', `a stop at ${existing} was already working at IG; kept it`), stopLevel: existing };
    }
    const { bid, offer } = pos.market;
    if (typeof bid === 'number' && typeof offer === 'number' && stopOnWrongSide(req.positionSide, req.stopLevel, { bid, ask: offer })) {
      const price = req.positionSide === 'long' ? `bid ${bid}` : `offer ${offer}`;
      return stopReport(req, 'rejected', `stop ${req.stopLevel} is on the wrong side of the ${price} for a ${req.positionSide} position`);
    }
    return this.amend(req, p.dealId, p.limitLevel ?? null);
  }

  /** PUT /positions/otc/{dealId} v2 with the stop, keeping the position's limit; then the confirmation. */
  private async amend(req: StopRequest, dealId: string, limitLevel: number | null): Promise<StopReport> {
    let dealReference: string;
    try {
      const res = await this.d.client.request({
        method: 'PUT',
        path: `/positions/otc/${encodeURIComponent(dealId)}`,
        version: 2,
        body: { stopLevel: req.stopLevel, limitLevel, guaranteedStop: false, trailingStop: false },
      });
      dealReference = parseIg(IgDealReferenceBodySchema, res.body, 'position amendment').dealReference;
    } catch (err) {
      // A 4xx (bad level, position gone): IG refused it. Retryable failures (5xx, timeout, rate limit) are
      // thrown: the next attempt reads the position first, so a lost answer never amends twice.
      if (!(err instanceof InvalidOrderError)) throw err;
      if (!(await this.openPosition(req.positionRef))) return this.notOpen(req);
      return stopReport(req, 'rejected', `IG refused the stop: ${err.message}`);
    }
    const c = await this.d.execution.pollConfirm(dealReference);
    if (c) return this.fromConfirm(req, c);
    const now = await this.openPosition(req.positionRef);
    if (now?.position.stopLevel != null && sameLevel(now.position.stopLevel, req.stopLevel)) return stopReport(req, 'working');
    if (!now) return this.notOpen(req);
    throw new BrokerUnavailableError(`IG did not confirm the stop of ${req.positionRef} (deal reference ${dealReference}); the next attempt looks again`, BROKER);
  }

  private fromConfirm(req: StopRequest, c: IgConfirm): StopReport {
    if (c.dealStatus === 'ACCEPTED') return stopReport(req, 'working');
    this.d.logger.warn({ positionRef: req.positionRef, reason: c.reason }, 'IG rejected the protective stop');
    return stopReport(req, 'rejected', `IG ${c.dealStatus}: ${c.reason ?? 'no reason given'}`);
  }

  /** The position is not open: its stop already filled (`filled`), or it was closed otherwise (`rejected`). */
  private async notOpen(req: StopRequest): Promise<StopReport> {
    const fill = await this.d.execution.getOrder(req.account, stopOrderId(req.positionRef));
    if (fill?.status === 'filled') return stopReport(req, 'filled', `IG closed the position at ${fill.fillPrice}`);
    return stopReport(req, 'rejected', `position ${req.positionRef} is not open at IG`);
  }

  private async openPosition(positionRef: string): Promise<IgPosition | null> {
    return (await this.d.lookups.positions()).find((p) => p.position.dealReference === positionRef) ?? null;
  }
}

/** IG echoes levels as it stores them; equal up to float noise. */
function sameLevel(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}
