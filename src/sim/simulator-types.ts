import type { MessageIdFormat } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import type { Concatenation } from './short-message.js';
import type { Range } from './random.js';

export type ReceiptOutcome = 'delivered' | 'undeliverable' | 'expired' | 'rejected';
export type ReceiptOutcomeRatios = Record<ReceiptOutcome, number>;

export interface ReceiptBehaviour {
  /** Relative weights of the final outcome of each accepted part. */
  outcomes: ReceiptOutcomeRatios;
  /** Delay between accepting a part and sending its receipt. */
  delayMs: Range;
  /** Probability that the receipt is written before the submit_sm_resp (it happens with real SMSCs). */
  earlyProbability: number;
  /** `tlv+text`: receipted_message_id and message_state TLVs plus the Appendix B text; `text`: the text only. */
  style: 'tlv+text' | 'text';
  /** data_coding written on receipts; some SMSCs claim UCS-2 (8) for an ASCII receipt text. */
  dataCoding: number;
}

export interface SmscSimulatorOptions {
  carrier: string;
  host?: string;
  /** 0 (default): an ephemeral port; listen() resolves the one bound. */
  port?: number;
  systemId: string;
  password: string;
  /** Accepted submits per calendar second over all binds; above it ESME_RTHROTTLED. 0: uncapped. */
  tps?: number;
  /** Unanswered submits per bind; above it ESME_RMSGQFUL. 0: unlimited. */
  window?: number;
  /** Concurrent binds; an extra bind is refused with ESME_RBINDFAIL. 0: unlimited (still measured). */
  maxBinds?: number;
  /** How message ids are written in submit_sm_resp and in receipts (e.g. hex then decimal). */
  messageIds?: { submit: MessageIdFormat; receipt: MessageIdFormat };
  receipts?: Partial<ReceiptBehaviour>;
  /** Delay before each submit_sm_resp. */
  latencyMs?: Range;
  /** Temporary errors answered at random instead of accepting (e.g. ESME_RSYSERR 1 %). */
  transientErrors?: ReadonlyArray<{ status: number; ratio: number }>;
  /** A permanent status for some destinations (e.g. ESME_RINVDSTADR); 0 accepts. */
  rejectDestination?: (destination: string) => number;
  /** Keep a record of every accepted submit (default true; a long benchmark turns it off). */
  recordSubmits?: boolean;
  /** Seed of the simulator's random choices, for reproducible runs. */
  seed?: number;
  logger?: Logger;
}

/** One accepted submit_sm as the simulator saw it. */
export interface SubmitRecord {
  destination: string;
  source: string;
  dataCoding: number;
  esmClass: number;
  /** The part's payload decoded per data_coding (UCS-2 or GSM 03.38), UDH removed. */
  text: string;
  udh: Concatenation | null;
  /** As written in submit_sm_resp. */
  messageId: string;
  /** As written in this part's receipt (null when no receipt was asked for). */
  receiptMessageId: string | null;
  outcome: ReceiptOutcome | null;
  registeredDelivery: number;
  at: number;
  connection: number;
}

export interface SimulatorStats {
  /** submit_sm received while bound (accepted or not). */
  received: number;
  accepted: number;
  throttled: number;
  queueFull: number;
  rejected: number;
  transientErrors: number;
  /** submit_sm that arrived while the SMSC was silent (stopAnswering): never answered, never accepted. */
  ignoredWhileSilent: number;
  notBound: number;
  receiptsSent: number;
  receiptsAcked: number;
  receiptsRedelivered: number;
  bindsAccepted: number;
  bindsRefused: number;
  currentBinds: number;
  maxConcurrentBinds: number;
  connections: number;
  /**
   * Most submit_sm one connection had sent and not yet had answered, counted as each arrives
   * (the one arriving included, whether it is then accepted or refused): the ESME's real window.
   * Exact when responses are delayed (latencyMs); without latency every submit is answered at once.
   */
  maxOutstanding: number;
}

/** A deliver_sm to push as is (tests of what the ESME does with odd receipts or MO messages). */
export interface RawDeliverSm {
  esmClass: number;
  shortMessage: Buffer;
  dataCoding?: number;
  sourceAddr?: string;
  destinationAddr?: string;
  receiptedMessageId?: string;
  messageState?: number;
}

export type MalformedPduKind = 'oversized' | 'short-header' | 'tiny-length' | 'bad-tlv';

export function emptyStats(): SimulatorStats {
  return {
    received: 0,
    accepted: 0,
    throttled: 0,
    queueFull: 0,
    rejected: 0,
    transientErrors: 0,
    ignoredWhileSilent: 0,
    notBound: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsRedelivered: 0,
    bindsAccepted: 0,
    bindsRefused: 0,
    currentBinds: 0,
    maxConcurrentBinds: 0,
    connections: 0,
    maxOutstanding: 0,
  };
}
