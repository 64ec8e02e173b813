/**
 * The one status enum every message row and every receipt maps onto
 * (mirrors the PostgreSQL enum `message_state`).
 *
 * queued → submitting → submitted → one of the final states.
 * `ambiguous`: the PDU may have left (row was `submitting` when a bind or process died);
 * not resent by default. `unknown`: no receipt within validity.
 * `unroutable`: the number belongs to a carrier Loa does not send through.
 * `cancelled`: still queued when its run was cancelled; never sent.
 */
export const MESSAGE_STATES = [
  'queued',
  'submitting',
  'submitted',
  'enroute',
  'accepted',
  'delivered',
  'expired',
  'deleted',
  'undeliverable',
  'rejected',
  'failed',
  'unknown',
  'ambiguous',
  'unroutable',
  'cancelled',
] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

/** States after which nothing more happens to a message. */
export const FINAL_STATES: ReadonlySet<MessageState> = new Set<MessageState>([
  'delivered',
  'expired',
  'deleted',
  'undeliverable',
  'rejected',
  'failed',
  'unknown',
  'ambiguous',
  'unroutable',
  'cancelled',
]);

export function isFinal(state: MessageState): boolean {
  return FINAL_STATES.has(state);
}
