/**
 * What one process's binds of a carrier did, counted as it happens (plain fields: they are bumped
 * once per PDU on the hot path). Published to Redis for /metrics (src/jobs/bind-state.ts).
 */
export interface TransportCounters {
  /** submit_sm answered ESME_ROK. */
  submitted: number;
  /** submit_sm answered ESME_RTHROTTLED (0x58). */
  throttled: number;
  /** submit_sm answered any other error status (ESME_RSYSERR included). */
  refused: number;
  /** submit_sm with no answer: response timeout or connection lost. */
  ambiguous: number;
  /** Delivery receipts received (deliver_sm marked as receipts). */
  receipts: number;
}

export const TRANSPORT_COUNTER_NAMES = ['submitted', 'throttled', 'refused', 'ambiguous', 'receipts'] as const satisfies ReadonlyArray<keyof TransportCounters>;

export function newTransportCounters(): TransportCounters {
  return { submitted: 0, throttled: 0, refused: 0, ambiguous: 0, receipts: 0 };
}
