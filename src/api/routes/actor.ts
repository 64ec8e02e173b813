import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../../errors.js';
import { actorOf } from '../auth.js';

/** Who the audit log names for this request (set by the route's requireRole hook). */
export function actor(request: FastifyRequest): string {
  if (!request.principal) throw new UnauthorizedError();
  return actorOf(request.principal);
}
