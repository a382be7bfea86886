/**
 * Stream credentials from IG's REST login: POST /session v2 answers CST and X-SECURITY-TOKEN headers and the
 * body's `currentAccountId` and `lightstreamerEndpoint`. (A v3 OAuth session gets the same tokens from
 * GET /session?fetchSessionTokens=true; not done here yet.) The tokens are returned, never logged.
 */
import type { IgConfig } from '../config';
import { IgSessionV2BodySchema, parseIg } from '../parsing';
import type { IgStreamCredentials } from './client';

export async function fetchIgStreamCredentials(config: Pick<IgConfig, 'baseUrl' | 'apiKey' | 'identifier' | 'password'>, fetchFn: typeof fetch = fetch): Promise<IgStreamCredentials> {
  const res = await fetchFn(`${config.baseUrl.replace(/\/$/, '')}/session`, {
    method: 'POST',
    headers: { 'X-IG-API-KEY': config.apiKey, Version: '2', 'Content-Type': 'application/json; charset=UTF-8', Accept: 'application/json; charset=UTF-8' },
    body: JSON.stringify({ identifier: config.identifier, password: config.password }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IG login for the stream refused: HTTP ${res.status} ${text.slice(0, 200)}`);
  const body = parseIg(IgSessionV2BodySchema, JSON.parse(text) as unknown, 'POST /session v2');
  const cst = res.headers.get('cst');
  const xst = res.headers.get('x-security-token');
  if (!cst || !xst) throw new Error('IG login for the stream: CST or X-SECURITY-TOKEN header missing');
  if (!body.lightstreamerEndpoint) throw new Error('IG login for the stream: no lightstreamerEndpoint in the session');
  return { lightstreamerEndpoint: body.lightstreamerEndpoint, accountId: body.currentAccountId, cst, xst };
}
