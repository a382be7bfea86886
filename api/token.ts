import { createHash, randomBytes } from 'node:crypto';

/**
 * API tokens: 32 random bytes (base64url, prefixed `mao_` so a leaked one is easy to recognise), shown
 * once; only the SHA-256 (hex) is stored. Callers send `Authorization: Bearer <token>`.
 */
export function newToken(): string {
  return `mao_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{16,200})$/;

/** The token of an Authorization header, or null when it is missing or malformed. */
export function bearerToken(authorization: string | undefined): string | null {
  const m = authorization ? BEARER.exec(authorization.trim()) : null;
  return m ? m[1] : null;
}
