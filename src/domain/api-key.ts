import { createHash, randomBytes } from 'node:crypto';

export const API_ROLES = ['admin', 'operator', 'viewer'] as const;
export type ApiRole = (typeof API_ROLES)[number];

const RANK: Readonly<Record<ApiRole, number>> = { viewer: 0, operator: 1, admin: 2 };

/** viewer reads; operator also creates, launches and controls runs; admin also manages keys. */
export function roleAllows(role: ApiRole, needed: ApiRole): boolean {
  return RANK[role] >= RANK[needed];
}

/** A new key: `loa_` and 32 random bytes. Shown once; only its hash is stored. */
export function generateApiKey(): string {
  return `loa_${randomBytes(32).toString('base64url')}`;
}

/** sha256 is enough: the key is 256 random bits, so there is nothing to brute-force slowly. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
