import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from '../../errors.js';
import { authErrors, errorBody, roleSchema } from '../schemas.js';
import { clearSessionCookie, csrfTokenFor, sessionToken, setSessionCookie, userView, type UserService } from '../session-auth.js';

const sessionView = {
  type: 'object',
  properties: {
    user: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, role: roleSchema } },
    csrfToken: { type: 'string', description: 'send as X-CSRF-Token with every POST/PUT/DELETE made with this session' },
  },
} as const;

export interface SessionRouteOptions {
  users: UserService;
  /** Sign-in attempts per address per window (default 10 per 5 minutes). */
  signInLimit?: { max: number; timeWindowMs: number };
}

/** Console sign-in and sign-out (cookie sessions); the same /v1 routes then accept the cookie. */
export function sessionRoutes(options: SessionRouteOptions) {
  const { users } = options;
  return async function register(app: FastifyInstance): Promise<void> {
    const tags = ['session'];
    const security = [{ session: [] }];
    // Only the routes that ask for it (sign-in) are limited; in-process memory is enough: a
    // guessed password still has to get past argon2 and the audit log shows every refusal.
    await app.register(rateLimit, { global: false });

    app.post<{ Body: { name: string; password: string } }>(
      '/session',
      {
        config: { rateLimit: { max: options.signInLimit?.max ?? 10, timeWindow: options.signInLimit?.timeWindowMs ?? 300_000 } },
        schema: {
          summary: 'Sign in with a staff account: sets the HttpOnly session cookie',
          tags,
          body: {
            type: 'object',
            required: ['name', 'password'],
            additionalProperties: false,
            properties: { name: { type: 'string', minLength: 1, maxLength: 63 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
          },
          response: { 200: sessionView, 400: errorBody, 401: errorBody, 429: errorBody },
        },
      },
      async (request, reply) => {
        const { token, user } = await users.signIn(request.body.name, request.body.password, request.ip);
        setSessionCookie(reply, request, token, users.sessionMaxAgeSeconds);
        return { user: userView(user), csrfToken: csrfTokenFor(token) };
      },
    );

    app.get(
      '/session',
      { onRequest: app.requireRole('viewer'), schema: { summary: 'Who is signed in, and the CSRF token for this session', tags, security, response: { 200: sessionView, ...authErrors } } },
      async (request) => {
        const token = sessionToken(request);
        if (!token) throw new UnauthorizedError('not signed in (this route is for console sessions)');
        const user = await users.sessionUser(token);
        if (!user) throw new UnauthorizedError('the session has expired');
        return { user: userView(user), csrfToken: csrfTokenFor(token) };
      },
    );

    app.delete(
      '/session',
      { onRequest: app.requireRole('viewer'), schema: { summary: 'Sign out: the session ends on the server and the cookie is cleared', tags, security, response: { 204: { type: 'null' }, ...authErrors } } },
      async (request, reply) => {
        const token = sessionToken(request);
        if (!token) throw new UnauthorizedError('not signed in (this route is for console sessions)');
        const user = await users.sessionUser(token);
        if (user) await users.signOut(token, user);
        clearSessionCookie(reply);
        return reply.status(204).send();
      },
    );
  };
}
