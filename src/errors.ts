import { DomainError } from './domain/errors.js';

/**
 * Errors services throw, on the one base the domain uses (`DomainError`). One fastify error
 * handler maps them to HTTP and the CLI prints their message; none of them knows about HTTP.
 */
export { DomainError };

/** Bad input: each detail's `path` names the field (JSON path, CSV line, YAML line:column). */
export class ValidationError extends DomainError {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly details: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super('validation_failed', message);
  }
}

export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

export class ConflictError extends DomainError {
  override name = 'ConflictError';
  constructor(message: string) {
    super('conflict', message);
  }
}

export class UnauthorizedError extends DomainError {
  override name = 'UnauthorizedError';
  constructor(message = 'missing or invalid credentials') {
    super('unauthorized', message);
  }
}

/** A service the request needs (Redis, the queue) is down: nothing is lost, retry later (HTTP 503). */
export class UnavailableError extends DomainError {
  override name = 'UnavailableError';
  constructor(message: string) {
    super('unavailable', message);
  }
}

export class ForbiddenError extends DomainError {
  override name = 'ForbiddenError';
  constructor(message = 'not allowed for this role') {
    super('forbidden', message);
  }
}
