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

/** A segment a receipt just changed. */
export interface SegmentChange {
  runId: number;
  messageId: number;
  state: MessageState;
  error: string | null;
  doneAt: Date | null;
}

/** Per run, column arrays for `UPDATE messages … FROM unnest(…)`, one entry per message. */
export interface MessageUpdatePlan {
  ids: number[];
  /** Segments newly delivered. */
  delivered: number[];
  /** The first final failure among the message's segments: the message takes it. */
  failed: Array<MessageState | null>;
  /** The latest intermediate state (enroute, accepted), shown until the message is final. */
  interim: Array<MessageState | null>;
  errors: Array<string | null>;
  doneAt: Array<Date | null>;
}

/**
 * Folds segment receipts into one change per message: delivered when every segment is
 * (counted in SQL against parts_total), failed as soon as any segment fails.
 */
export function planMessageUpdates(changes: readonly SegmentChange[]): Map<number, MessageUpdatePlan> {
  const plans = new Map<number, MessageUpdatePlan>();
  const slots = new Map<string, { plan: MessageUpdatePlan; index: number }>();
  for (const change of changes) {
    const key = `${change.runId}:${change.messageId}`;
    let slot = slots.get(key);
    if (!slot) {
      let plan = plans.get(change.runId);
      if (!plan) {
        plan = { ids: [], delivered: [], failed: [], interim: [], errors: [], doneAt: [] };
        plans.set(change.runId, plan);
      }
      plan.ids.push(change.messageId);
      plan.delivered.push(0);
      plan.failed.push(null);
      plan.interim.push(null);
      plan.errors.push(null);
      plan.doneAt.push(null);
      slot = { plan, index: plan.ids.length - 1 };
      slots.set(key, slot);
    }
    const { plan, index } = slot;
    if (plan.failed[index]) continue;
    if (change.state === 'delivered') {
      plan.delivered[index]! += 1;
      plan.doneAt[index] = latest(plan.doneAt[index] ?? null, change.doneAt);
    } else if (change.state === 'enroute' || change.state === 'accepted') {
      plan.interim[index] = change.state;
    } else {
      plan.failed[index] = change.state;
      plan.doneAt[index] = change.doneAt;
    }
    if (change.error !== null) plan.errors[index] = change.error;
  }
  return plans;
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
