import type { Client } from '@temporalio/client';
import { MongoClient, type Db } from 'mongodb';
import type { Pool } from '../../db/pool';
import { createLogger } from '../../logging/logger';
import { buildGateway, type GatewayOptions } from '../../api/server';
import { createUser, type Role } from '../../api/auth';
import { TEST_ENV, uniqueAccount } from '../support/env';

/**
 * A response as the tests see it. Requests go over real HTTP to the gateway listening on an ephemeral
 * port of 127.0.0.1: `app.inject()` (light-my-request) needs `cookie@2`, an ES module that jest cannot
 * `require` on Node 20.
 */
export interface TestResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
  json(): any;
}

/** The gateway under test with its pino output captured, and one user per role. */
export interface TestGateway {
  app: Awaited<ReturnType<typeof buildGateway>>;
  /** Every line the gateway's logger wrote. */
  lines: string[];
  tokens: Record<Role, string>;
  names: Record<Role, string>;
  mongo: MongoClient;
  mongoDb: Db;
  /** A JSON request as a user of `role` (or with `token`, or unauthenticated with both null). */
  call(role: Role | null, method: string, url: string, payload?: unknown, token?: string): Promise<TestResponse>;
  /** A further user (a global role and/or grants per account), deleted with the gateway. */
  user(prefix: string, spec: { role?: Role; grants?: { account: string; role: Role }[]; expiresAt?: Date }): Promise<{ name: string; token: string }>;
  /** Any request: raw headers and body. */
  request(method: string, url: string, init?: { headers?: Record<string, string>; body?: string }): Promise<TestResponse>;
  close(): Promise<void>;
}

/** Every token created by any gateway of this test file (checked against the log lines at the end). */
export const createdTokens: string[] = [];

export async function startTestGateway(
  deps: { client: Client; pool: Pool },
  over: Partial<Pick<GatewayOptions, 'rateLimit' | 'sessionTaskQueue' | 'sessionDefaults' | 'trustProxy' | 'logDownload'>> = {},
): Promise<TestGateway> {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', service: 'gateway-test', stdout: { write: (l: string) => void lines.push(l) } });
  const mongo = await MongoClient.connect(TEST_ENV.MONGO_URL, { serverSelectionTimeoutMS: 5_000 });
  const mongoDb = mongo.db('maologs');
  const app = await buildGateway({ ...deps, mongoDb, logger, rateLimit: { max: 100_000, timeWindowMs: 60_000 }, ...over });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const request = async (method: string, url: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> => {
    const res = await fetch(`${base}${url}`, { method, headers: init.headers, body: init.body });
    const body = Buffer.from(await res.arrayBuffer());
    return {
      statusCode: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      body,
      json: () => JSON.parse(body.toString('utf8')),
    };
  };
  const extra: string[] = [];
  const tokens = {} as Record<Role, string>;
  const names = {} as Record<Role, string>;
  for (const role of ['viewer', 'trader', 'admin'] as const) {
    names[role] = uniqueAccount(`u_${role}`);
    tokens[role] = (await createUser(deps.pool, { name: names[role], role })).token;
    createdTokens.push(tokens[role]);
  }
  return {
    app,
    lines,
    tokens,
    names,
    mongo,
    mongoDb,
    request,
    async user(prefix, spec) {
      const name = uniqueAccount(prefix);
      extra.push(name);
      const { token } = await createUser(deps.pool, { name, ...spec });
      createdTokens.push(token);
      return { name, token };
    },
    call(role, method, url, payload, token) {
      const auth = token ?? (role ? tokens[role] : undefined);
      return request(method, url, {
        headers: {
          ...(auth ? { authorization: `Bearer ${auth}` } : {}),
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
      });
    },
    async close() {
      await app.close();
      await mongo.close();
      // This gateway's users (tokens die with them); users created through POST /users are named by the tests.
      const all = [...Object.values(names), ...extra];
      await deps.pool.query('DELETE FROM maohome.account_grants WHERE user_id IN (SELECT id FROM maohome.users WHERE name IN (?))', [all]);
      await deps.pool.query('DELETE FROM maohome.users WHERE name IN (?)', [all]);
    },
  };
}

/** Log lines that hold a secret: an API token (ours, or anything shaped like one), the token hash, or the MySQL password in a URL. */
export function linesWithSecrets(lines: readonly string[], tokens: readonly string[]): string[] {
  const mysqlPassword = decodeURIComponent(new URL(TEST_ENV.MYSQL_URL).password);
  return lines.filter(
    (l) =>
      tokens.some((t) => l.includes(t) || l.includes(t.slice(4))) ||
      /mao_[A-Za-z0-9_-]{40,}/.test(l) ||
      /Bearer /i.test(l) ||
      (mysqlPassword !== '' && l.includes(`:${mysqlPassword}@`)),
  );
}

export const json = (r: TestResponse) => r.json();
