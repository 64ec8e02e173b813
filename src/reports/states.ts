import type { MessageState } from '../domain/message-state.js';
import { MESSAGE_STATES } from '../domain/message-state.js';

/** Accepted by the SMSC (billed): it took the submit_sm and gave an id. */
export const ACCEPTED_STATES: ReadonlySet<MessageState> = new Set<MessageState>([
  'submitted', 'enroute', 'accepted', 'delivered', 'expired', 'deleted', 'undeliverable', 'rejected', 'unknown',
]);

/** Final and not delivered: the handset did not get it (ambiguous and unknown are shown apart). */
export const FAILED_STATES: ReadonlySet<MessageState> = new Set<MessageState>(['expired', 'deleted', 'undeliverable', 'rejected', 'failed']);

/** A failure share at or above this (of a carrier's final messages in a run) is an abnormal event. */
export const HIGH_FAILURE_RATE = 0.2;

export type StateCounts = Record<MessageState, number>;

export function zeroCounts(): StateCounts {
  return Object.fromEntries(MESSAGE_STATES.map((state) => [state, 0])) as StateCounts;
}

export function sumCounts(counts: Readonly<Partial<Record<MessageState, number>>>): number {
  return Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);
}

export function acceptedOf(counts: Readonly<StateCounts>): number {
  let n = 0;
  for (const state of ACCEPTED_STATES) n += counts[state];
  return n;
}

export function failedOf(counts: Readonly<StateCounts>): number {
  let n = 0;
  for (const state of FAILED_STATES) n += counts[state];
  return n;
}
