import { z, type ZodTypeAny } from 'zod';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { ObjectId } from 'mongodb';
import { TimeframeSchema } from '../market/timeframe';
import { RiskLimitsSchema } from '../risk/limits';
import { ProtectionsConfigSchema } from '../risk/protections';
import { TradingStateSchema } from '../risk/trading-state';
import { RoleSchema } from './roles';
import type { SessionCounters } from '../workflows/definitions';

/**
 * Response schemas of the REST gateway, for the OpenAPI document (a generated client's types) and the
 * contract test (test/api/openapi-contract.test.ts). Serialization does not use them (server.ts: plain
 * JSON.stringify), so a body is sent as the route built it; the schemas describe it, the handlers' return
 * types are checked against them by the type provider, and the contract test checks live bodies.
 * A plain object schema is closed (additionalProperties false): every key of the body is documented.
 */

/** Documents `schema` (what a T looks like as JSON) for a handler that returns a T (an ObjectId, a raw row). */
export function serializedAs<T>(schema: ZodTypeAny): z.ZodType<T> {
  return schema as unknown as z.ZodType<T>;
}

/** A record whose every key is not known here: `type: object`, any keys. */
export const Row = serializedAs<object>(z.object({}).passthrough());

/** A raw table row: its known columns typed, others allowed (a later migration may add some). */
export const tableRow = (description: string, shape: z.ZodRawShape) => serializedAs<object>(z.object(shape).passthrough().describe(description));

const Fields = z
  .array(
    z.object({
      field: z.string().describe('Dotted path of the bad input field'),
      message: z.string(),
      in: z.enum(['path', 'query', 'body']).optional(),
    }),
  )
  .optional()
  .describe('Each bad input field (400, 422)');

/** Every error body (api/errors.ts handleError, the rate limit, the not-found handler). */
export const ErrorBodySchema = z
  .object({
    error: z.string().describe('Error code: bad_request, unauthorized, forbidden, not_found, conflict, invalid_config, netting_conflict, rate_limited, too_many_downloads, internal, …'),
    message: z.string(),
    fields: Fields,
  })
  .describe('Error body');

const ERRORS = {
  400: 'Bad input (bad_request): `fields` names each bad field',
  401: 'No valid API token (unauthorized)',
  403: 'The token lacks the role this needs on the account (forbidden)',
  404: 'No such account, session, user or route (not_found)',
  409: 'Conflicts with the current state (conflict)',
  422: 'The stored configuration cannot be used (invalid_config, netting_conflict): `fields` names each problem',
  429: 'Too many requests (rate_limited, too_many_downloads); retry later',
  500: 'Internal error (internal); see the gateway log',
} as const;
type ErrorStatus = keyof typeof ERRORS;
const ALWAYS = [400, 401, 403, 404, 429, 500] as const;

/** `success` (status → schema) plus the error body for each error status a route can answer (400/401/403/404/429/500, and `more`). */
export function responses<S extends Record<number, ZodTypeAny>>(success: S, more: readonly ErrorStatus[] = []) {
  const errors = Object.fromEntries([...ALWAYS, ...more].map((c) => [c, ErrorBodySchema.describe(ERRORS[c])])) as Record<ErrorStatus, typeof ErrorBodySchema>;
  return { ...errors, ...success };
}

/** The body of `GET /logs/download`: documented as `application/gzip` (see documentTransform). */
export const GzipNdjsonBody = serializedAs<unknown>(z.string().describe('gzip-compressed NDJSON: one JSON document per line'));

/**
 * The OpenAPI transform: fastify-type-provider-zod's, and a success body that is not JSON (GzipNdjsonBody)
 * documented under its own media type as binary.
 */
/** OpenAPI 3.0.3: a nullable enum takes null only when its enum lists null (zod-to-json-schema leaves it out). */
function nullableEnums(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(nullableEnums);
  if (!schema || typeof schema !== 'object') return;
  const s = schema as { nullable?: boolean; enum?: unknown[] };
  if (s.nullable === true && Array.isArray(s.enum) && !s.enum.includes(null)) s.enum = [...s.enum, null];
  Object.values(s).forEach(nullableEnums);
}

export const documentTransform: typeof jsonSchemaTransform = (input) => {
  const out = jsonSchemaTransform(input);
  nullableEnums((out.schema as { response?: unknown }).response);
  const declared = (input.schema as { response?: Record<string, unknown> } | undefined)?.response ?? {};
  const response = (out.schema as { response?: Record<string, unknown> }).response;
  for (const [status, schema] of Object.entries(declared)) {
    if (schema === GzipNdjsonBody && response) {
      response[status] = { description: (GzipNdjsonBody as ZodTypeAny).description, content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } } };
    }
  }
  return out;
};

// Shared pieces of the bodies.

const epochMs = (what: string) => z.number().describe(`${what}, epoch ms`);
export const GrantSchema = z.object({ account: z.string(), role: RoleSchema });
export const GrantsSchema = z.array(GrantSchema).readonly();
const Side = z.enum(['long', 'short']);
const OrderSide = z.enum(['buy', 'sell']);
const Intent = z.enum(['open', 'close']);

/** trading/trade.ts Trade. */
export const TradeSchema = z.object({
  positionRef: z.string(),
  exitClientOrderId: z.string(),
  systemId: z.string(),
  symbol: z.string(),
  side: Side,
  quantity: z.number(),
  entryPrice: z.number(),
  exitPrice: z.number(),
  pnl: z.number().describe('Account currency, net of fees'),
  openedAt: epochMs('Frame start of the entry'),
  closedAt: epochMs('Exit time'),
  exitReason: z.enum(['signal', 'stop', 'manual', 'reverse', 'reconciled', 'take-profit', 'trailing-stop', 'stop-failed', 'session-close']),
  partial: z.literal(true).optional().describe('Part of the position closed; the rest stays open under the same positionRef'),
});

/** trading/position.ts Position. */
export const PositionSchema = z.object({
  positionRef: z.string().describe('clientOrderId of the order that opened it'),
  systemId: z.string(),
  symbol: z.string(),
  side: Side,
  quantity: z.number(),
  entryPrice: z.number(),
  stop: z.number().optional().describe('Protective stop level, native at the broker'),
  takeProfit: z.number().optional(),
  trailing: z.object({ distance: z.number(), level: z.number() }).optional(),
  openedAt: epochMs('Frame start on which it was opened'),
  money: z
    .object({ facts: Row.describe('the instrument money facts (pointValue, currency, accountCurrency, conversionRate, commission)'), perPoint: z.number(), entryFeeBooked: z.literal(true).optional() })
    .optional()
    .describe("How its P&L turns into account currency; absent: price units are the account's money"),
});

/** risk/trading-state.ts TradingStateChange. */
export const TradingStateChangeSchema = z.object({
  seq: z.number().int(),
  at: epochMs('Workflow time'),
  from: TradingStateSchema,
  to: TradingStateSchema,
  by: z.string().describe('A person/token name, or protection:<name>'),
  reason: z.string(),
  source: z.enum(['command', 'protection']),
});

/** workflows/definitions.ts StatusView. */
export const StatusViewSchema = z.object({
  account: z.string(),
  broker: z.string(),
  status: z.enum(['running', 'paused', 'degraded']),
  tradingState: TradingStateSchema,
  tradingEnabled: z.boolean(),
  orderSeq: z.number().int(),
  lastFrames: z.record(z.number()).describe('Last processed frame start (epoch ms) per stream `symbol|timeframe`'),
  queuedFrames: z.number().int(),
  counters: z.object(
    Object.fromEntries(
      [
        'framesProcessed', 'framesDuplicate', 'framesRejected', 'framesBackfilled', 'framesMissing', 'ordersPlaced', 'ordersRejected',
        'ordersUnknown', 'entriesSkippedWhilePaused', 'reconciliationDrifts', 'ordersRefused',
      ].map((k) => [k, z.number().int()]),
    ) as Record<keyof SessionCounters, z.ZodNumber>,
  ),
  lastRejection: z.string().nullable(),
  runsSinceStart: z.number().int(),
  unknownOrders: z.number().int(),
  foreignPositions: z.number().int(),
  lastReconciliation: z.object({ at: z.number(), reason: z.string(), drifts: z.number(), stillUnknown: z.number() }).nullable(),
  degraded: z.object({ since: z.number(), reason: z.string(), retryAt: z.number(), retries: z.number() }).nullable().optional(),
  ordersInFlight: z
    .array(
      z.object({
        systemId: z.string(),
        clientOrderId: z.string(),
        intent: Intent,
        state: z.string(),
        filledQuantity: z.number(),
        quantity: z.number(),
        since: z.number(),
      }),
    )
    .optional(),
});

/** workflows/definitions.ts PnlView. */
export const PnlViewSchema = z.object({
  realised: z.number(),
  unrealised: z.number(),
  total: z.number(),
  bySystem: z.record(z.object({ realised: z.number(), unrealised: z.number() })),
});

/** workflows/risk-view.ts RiskView. */
export const RiskViewSchema = z.object({
  tradingState: TradingStateSchema,
  limits: RiskLimitsSchema,
  protections: ProtectionsConfigSchema,
  protectionState: z.object({ day: z.string(), dayStartEquity: z.number(), peakEquity: z.number(), stopTimes: z.array(z.number()) }).nullable(),
  locks: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['stop-loss-guard', 'loss-cooldown', 'session-closed']),
      symbol: z.string().optional().describe('Absent: every symbol'),
      since: z.number(),
      until: z.number(),
      reason: z.string(),
    }),
  ),
  workingOrders: z.array(
    z.object({
      ref: z.string(),
      systemId: z.string(),
      symbol: z.string(),
      side: OrderSide,
      quantity: z.number(),
      type: z.enum(['limit', 'stop']),
      price: z.number(),
      stop: z.number().optional(),
      takeProfit: z.number().optional(),
      trailingStop: z.number().optional(),
      createdAt: z.number(),
      expiresAt: z.number().optional(),
    }),
  ),
  lastRefusals: z.array(
    z.object({
      refusalId: z.string(),
      systemId: z.string(),
      symbol: z.string(),
      side: OrderSide,
      quantity: z.number(),
      intent: Intent,
      rule: z.string(),
      detail: z.string(),
      numbers: z.record(z.union([z.number(), z.string(), z.boolean()])),
      frameStart: z.number().nullable(),
      at: z.number(),
    }),
  ),
  tradingStateHistory: z.array(TradingStateChangeSchema),
});

/** engine/reconciliation.ts ReconciliationReport. */
export const ReconciliationReportSchema = z.object({
  at: epochMs('Time of the check'),
  reason: z.string(),
  drifts: z.array(
    z.object({
      kind: z.string(),
      positionRef: z.string(),
      systemId: z.string().optional(),
      session: PositionSchema.optional(),
      broker: Row.optional().describe('the position at the broker'),
      detail: z.string(),
    }),
  ),
  settled: z.number().int(),
  stillUnknown: z.number().int(),
});

/** A candle (market/frame.ts Frame). */
export const FrameSchema = z.object({
  symbol: z.string(),
  timeframe: TimeframeSchema,
  start: epochMs('Frame start'),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
});

/** A MongoDB document as JSON: `_id` an ObjectId's hex. */
export const objectIdHex = serializedAs<ObjectId>(z.string().regex(/^[0-9a-f]{24}$/).describe('ObjectId, hex'));
