import type { CarrierId } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';

/** A parsed delivery receipt (src/domain/receipt.ts ParsedReceipt) addressed to a carrier. */
export interface ReceiptUpdate {
  carrier: CarrierId;
  /** Normalised the same way as the submit_sm_resp id it must match. */
  smscMessageId: string;
  state: MessageState;
  error: string | null;
  doneAt: Date | null;
  /** The receipt text as received, kept only while the receipt is parked. */
  raw?: string | null;
  /**
   * The handset the receipt is about (the deliver_sm's source_addr, normalised like
   * messages.msisdn), kept only while the receipt is parked: it lets an `ambiguous` message whose
   * SMSC id was never stored be resolved by its receipt (resolve_ambiguous, 0017).
   */
  msisdn?: string | null;
}

/** The states a receipt can report (SMPP 3.4 §5.2.28 message_state, plus `failed`). */
// Not derived from MESSAGE_STATES on purpose: it leaves out Loa's own states (queued, submitting, submitted, ambiguous, unroutable), which no SMSC reports.
export const RECEIPT_STATES: ReadonlySet<MessageState> = new Set<MessageState>([
  'enroute',
  'accepted',
  'delivered',
  'expired',
  'deleted',
  'undeliverable',
  'rejected',
  'unknown',
  'failed',
]);
