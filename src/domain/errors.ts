/**
 * Base of every error the pure domain throws. `code` is stable and machine-readable so
 * callers (CLI, HTTP error handler, workers) can branch without parsing messages.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
