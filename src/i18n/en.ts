import type { MessageKey } from './vi.js';

/** The English catalogue: the same keys as vi.ts. */
export const en: Record<MessageKey, string> = {
  'error.prefix': 'loa: error: {message}',
  'error.unreachable': 'cannot reach the Loa service at {url} ({reason}). Is it running (npm start)? Check LOA_URL.',
  'error.noToken': 'no API key: set LOA_TOKEN (create one with `loa keys create --role operator`).',
  'error.unauthorized': 'the API key is invalid or revoked (LOA_TOKEN).',
  'error.forbidden': 'this API key may not do that: {message}',
  'error.http': 'the service answered {status}: {message}',
};
