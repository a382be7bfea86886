import { z } from 'zod';
import { AccountIdSchema } from '../../config/session-config';
import { RoleSchema } from '../roles';
import { UserNameSchema } from '../user-name';
import { ExpirySchema } from '../token-expiry';
import { BEARER_SECURITY, userOf, type Gateway, type GatewayDeps } from '../context';
import { conflict, notFound } from '../errors';
import { AdminExistsError, RevokedUserError, UnknownUserError, UserExistsError } from '../user-errors';
import { GrantsSchema, responses } from '../responses';

/**
 * API users, tokens and grants. Users and tokens: global admin. A grant on an account: admin of that
 * account. A token is in the response of create and rotate and nowhere else (only its SHA-256 is stored).
 */

const UsersResponse = responses({
  200: z.object({
    users: z.array(
      z.object({
        id: z.number().int(),
        name: z.string(),
        email: z.string().nullable(),
        globalRole: RoleSchema.nullable(),
        grants: GrantsSchema,
        createdAt: z.date(),
        tokenExpiresAt: z.date().nullable(),
        revokedAt: z.date().nullable(),
      }),
    ),
  }),
});
const CreateUserResponse = responses({
  201: z.object({
    id: z.number().int(),
    name: z.string(),
    role: RoleSchema.nullable(),
    token: z.string().describe('shown once'),
    expiresAt: z.date().nullable(),
    grants: GrantsSchema,
  }),
}, [409]);
const RotateResponse = responses({ 200: z.object({ name: z.string(), token: z.string(), expiresAt: z.date().nullable() }) });
const RevokeResponse = responses({ 200: z.object({ name: z.string(), revoked: z.boolean() }) });
const GrantResponse = responses({ 200: z.object({ name: z.string(), account: z.string(), role: RoleSchema }) }, [409]);
const UngrantResponse = responses({ 200: z.object({ name: z.string(), account: z.string(), removed: z.boolean() }) });
const NameParams = z.object({ name: UserNameSchema });
const GrantParams = z.object({ name: UserNameSchema, account: AccountIdSchema });
const Expires = ExpirySchema.optional().describe('a duration from now (90m, 12h, 30d) or an ISO 8601 date-time; absent: never');

/** The user store's refusals as API errors. */
function storeError(err: unknown): never {
  if (err instanceof UnknownUserError) throw notFound(err.message);
  if (err instanceof UserExistsError || err instanceof RevokedUserError || err instanceof AdminExistsError) throw conflict(err.message);
  throw err;
}
const viaStore = <T>(p: Promise<T>): Promise<T> => p.catch(storeError);

export function registerUserRoutes(app: Gateway, deps: GatewayDeps): void {
  const { users } = deps;

  app.get(
    '/users',
    {
      config: { role: 'admin' },
      schema: { tags: ['users'], summary: 'API users with their global role, grants, token expiry and revocation (never a token)', security: BEARER_SECURITY, response: UsersResponse },
    },
    async () => ({ users: await users.list() }),
  );

  app.post(
    '/users',
    {
      config: { role: 'admin', command: 'create-user' },
      schema: {
        tags: ['users'],
        summary: 'Create an API user with an optional global role and grants; returns its token once (only its SHA-256 is stored)',
        security: BEARER_SECURITY, response: CreateUserResponse,
        body: z
          .object({
            name: UserNameSchema,
            role: RoleSchema.optional().describe('global role (every account); absent: only the grants'),
            email: z.string().email().max(190).optional(),
            expires: Expires,
            grants: z.array(z.object({ account: AccountIdSchema, role: RoleSchema }).strict()).max(1000).optional(),
          })
          .strict(),
      },
    },
    async (request, reply) => {
      const { name, role, email, expires, grants } = request.body;
      const u = await viaStore(users.create({ name, globalRole: role ?? null, email, expiresAt: expires ?? null, grants }, userOf(request).name));
      return reply.status(201).send({ id: u.id, name: u.name, role: u.globalRole, token: u.token, expiresAt: u.expiresAt, grants: grants ?? [] });
    },
  );

  app.post(
    '/users/:name/rotate',
    {
      config: { role: 'admin', command: 'rotate-token' },
      schema: {
        tags: ['users'],
        summary: "Give a user a new token (returned once); the old one is refused from now on",
        security: BEARER_SECURITY, response: RotateResponse,
        params: NameParams,
        body: z.object({ expires: Expires }).strict().nullish(),
      },
    },
    async (request) => {
      const u = await viaStore(users.rotate(request.params.name, request.body?.expires ?? null));
      return { name: u.name, token: u.token, expiresAt: u.expiresAt };
    },
  );

  app.post(
    '/users/:name/revoke',
    {
      config: { role: 'admin', command: 'revoke-user' },
      schema: { tags: ['users'], summary: "Revoke a user: its token is refused from now on (the user stays, for the audit trail)", security: BEARER_SECURITY, response: RevokeResponse, params: NameParams },
    },
    async (request) => {
      await viaStore(users.revoke(request.params.name));
      return { name: request.params.name, revoked: true };
    },
  );

  app.put(
    '/users/:name/grants/:account',
    {
      config: { role: 'admin', command: 'grant' },
      schema: {
        tags: ['users'],
        summary: 'Give a user a role on an account (replacing its grant there); needs admin on that account',
        security: BEARER_SECURITY, response: GrantResponse,
        params: GrantParams,
        body: z.object({ role: RoleSchema }).strict(),
      },
    },
    async (request) => {
      const { name, account } = request.params;
      await viaStore(users.grant(name, account, request.body.role, userOf(request).name));
      return { name, account, role: request.body.role };
    },
  );

  app.delete(
    '/users/:name/grants/:account',
    {
      config: { role: 'admin', command: 'ungrant' },
      schema: { tags: ['users'], summary: "Take back a user's grant on an account; needs admin on that account", security: BEARER_SECURITY, response: UngrantResponse, params: GrantParams },
    },
    async (request) => {
      const { name, account } = request.params;
      return { name, account, removed: await viaStore(users.ungrant(name, account)) };
    },
  );
}
