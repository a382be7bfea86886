import { z } from 'zod';
import { RoleSchema, UserNameSchema, createUser } from '../auth';
import { BEARER_SECURITY, type Gateway, type GatewayDeps } from '../context';
import { conflict } from '../errors';

/** API users (admin): the token is in this response and nowhere else. */
export function registerUserRoutes(app: Gateway, { pool }: GatewayDeps): void {
  app.post(
    '/users',
    {
      config: { role: 'admin', command: 'create-user' },
      schema: {
        tags: ['users'],
        summary: 'Create an API user with a role; returns its token once (only its SHA-256 is stored)',
        security: BEARER_SECURITY,
        body: z.object({ name: UserNameSchema, role: RoleSchema, email: z.string().email().max(190).optional() }).strict(),
      },
    },
    async (request, reply) => {
      try {
        const user = await createUser(pool, request.body);
        return reply.status(201).send(user);
      } catch (err) {
        if ((err as { errno?: number }).errno === 1062) throw conflict(`a user named "${request.body.name}" exists already`);
        throw err;
      }
    },
  );
}
