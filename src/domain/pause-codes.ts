import { CARRIER_IDS, type CarrierId } from './carrier.js';

/** The pause codes (runs.paused_reason). */
export const PAUSE_CODES = { operator: 'operator', quietHours: 'quiet-hours', auto: 'auto' } as const;

/**
 * A pause for a carrier with no bind (LOA_NO_BIND_PAUSE_MS): written `no-bind:<carrier>` by the
 * submit path, `auto:no-bind:<carrier>` once announced; the scheduler resumes it when a worker
 * holds a bind of that carrier again. 'auto' alone (0x08, repeated failures) waits for a person.
 */
export const noBindPause = {
  pending: (carrier: CarrierId): string => `no-bind:${carrier}`,
  announced: (carrier: CarrierId): string => `auto:no-bind:${carrier}`,
  /** The carrier of an announced no-bind pause code, or null for any other code. */
  carrierOf(code: string | null): CarrierId | null {
    const carrier = code?.startsWith('auto:no-bind:') ? code.slice('auto:no-bind:'.length) : null;
    return carrier !== null && (CARRIER_IDS as readonly string[]).includes(carrier) ? (carrier as CarrierId) : null;
  },
};

/**
 * Who paused a run, as a catalogue key a person reads (`loa status`, the console), or null for a
 * code the catalogue does not know (then the code itself is shown).
 */
export function pausedByMessage(code: string): { key: 'status.pausedBy.no-bind'; params: { carrier: CarrierId } } | { key: `status.pausedBy.${'operator' | 'quiet-hours' | 'auto'}` } | null {
  const carrier = noBindPause.carrierOf(code);
  if (carrier) return { key: 'status.pausedBy.no-bind', params: { carrier } };
  return code === 'operator' || code === 'quiet-hours' || code === 'auto' ? { key: `status.pausedBy.${code}` } : null;
}
