/**
 * The browser bundle's `node:crypto` (scripts/build-console.mjs aliases it here): src/domain/campaign.ts
 * imports createHash for contentHash, which only the server computes (a version's id). The console
 * parses and validates campaigns with the same module but never hashes one.
 */
export function createHash(): never {
  throw new Error('contentHash is computed by the server, not in the console');
}
