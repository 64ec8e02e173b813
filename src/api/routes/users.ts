import type { FastifyInstance } from 'fastify';
import type { ApiRole } from '../../domain/api-key.js';
import { authErrors, bearer, errorBody, isoTime, roleSchema } from '../schemas.js';
import { MIN_PASSWORD_LENGTH, USER_NAME, type UserService } from '../session-auth.js';
import { actor } from './actor.js';

const userSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' }, role: roleSchema, createdAt: isoTime, disabled: { type: 'boolean' } },
} as const;

/** Staff accounts for the console: admin only, like API keys. Passwords go in, never out. */
export function userRoutes(users: UserService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const admin = app.requireRole('admin');
    const tags = ['users'];

    app.get('/users', { onRequest: admin, schema: { summary: 'Staff accounts (never their password hashes)', tags, security: bearer, response: { 200: { type: 'array', items: userSchema }, ...authErrors } } }, async () =>
      users.list(),
    );

    app.post<{ Body: { name: string; role: ApiRole; password: string } }>(
      '/users',
      {
        onRequest: admin,
        schema: {
          summary: 'Add a staff account (password hashed with argon2id)',
          tags,
          security: bearer,
          body: {
            type: 'object',
            required: ['name', 'role', 'password'],
            additionalProperties: false,
            properties: { name: { type: 'string', pattern: USER_NAME }, role: roleSchema, password: { type: 'string', minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 } },
          },
          response: { 201: userSchema, 400: errorBody, ...authErrors, 409: errorBody },
        },
      },
      async (request, reply) => reply.status(201).send(await users.create(request.body, actor(request))),
    );
  };
}
