import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, DomainError, ForbiddenError, NotFoundError, UnauthorizedError, UnavailableError, ValidationError } from '../errors.js';

const STATUS_BY_ERROR = new Map<new (...args: never[]) => DomainError, number>([
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [UnavailableError, 503],
]);

/** Any other domain error is the caller's input the domain refused: 400 with its code. */
function statusOf(error: DomainError): number {
  for (const [type, status] of STATUS_BY_ERROR) if (error instanceof type) return status;
  return 400;
}

/** Maps every error to a JSON answer; only a genuine bug yields 500, and its details stay in the log. */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof DomainError) {
    // Domain errors that list several problems (a campaign document, a CSV) carry them as `details`.
    const details = (error as { details?: unknown }).details;
    return reply.status(statusOf(error)).send({ error: error.code, message: error.message, details });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((v) => ({
      path: `${fastifyError.validationContext ?? 'body'}${v.instancePath.replace(/\//g, '.')}`,
      message: v.message ?? 'is invalid',
    }));
    return reply.status(400).send({ error: 'validation_failed', message: fastifyError.message, details });
  }
  // fastify's own client errors (bad JSON, body too large, unsupported media type) carry a 4xx statusCode.
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return reply.status(fastifyError.statusCode).send({ error: fastifyError.code ?? 'bad_request', message: fastifyError.message });
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.status(500).send({ error: 'internal', message: 'internal error' });
}

/**
 * preHandler: ajv coerces a parameter such as `1e309` to Infinity and then skips `minimum` and
 * `maximum` for it (ajv 8 checks those only on finite numbers), so `/v1/runs/1e309` reached
 * PostgreSQL as 'Infinity' and failed there (500). Found by test/integration/api-fuzz.test.ts.
 */
export async function refuseNonFiniteNumbers(request: FastifyRequest): Promise<void> {
  for (const [where, values] of [['params', request.params], ['querystring', request.query]] as const) {
    if (values === null || typeof values !== 'object') continue;
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === 'number' && !Number.isFinite(value)) throw new ValidationError(`${where}.${name} must be a finite number`, [{ path: `${where}.${name}`, message: 'must be a finite number' }]);
    }
  }
}
