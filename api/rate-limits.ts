import type { FastifyRequest, RouteOptions } from 'fastify';
import { bearerToken, hashToken } from './token';

/**
 * Rate limits are per caller: keyed by the token's hash (never the token) when there is one, by the
 * client address otherwise (the proxy's `X-Forwarded-For` when the gateway trusts it: `trustProxy`).
 * Control commands (pause, resume, trading state, close, close-all) count in their own bucket per
 * route, so a dashboard polling reads can never put a halt into 429.
 */

export interface RateLimitOptions {
  /** Reads and other commands, per caller and window; default 600. */
  max: number;
  timeWindowMs: number;
  /** Each control command's own bucket, per caller and window; default 120. */
  controlMax?: number;
}

export function rateLimitKey(request: FastifyRequest): string {
  const token = bearerToken(request.headers.authorization);
  return token ? `token:${hashToken(token).slice(0, 32)}` : `ip:${request.ip}`;
}

/** An onRoute hook (registered before the rate-limit plugin): gives each control route its own bucket. */
export function controlBucket(opts: RateLimitOptions) {
  return (route: RouteOptions): void => {
    const config = route.config as { control?: boolean; rateLimit?: unknown } | undefined;
    if (!config?.control) return;
    config.rateLimit = { max: opts.controlMax ?? 120, timeWindow: opts.timeWindowMs, keyGenerator: rateLimitKey };
  };
}
