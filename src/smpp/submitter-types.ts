import type { SmppErrorMeaning } from '../domain/carrier.js';
import type { MessagePart } from '../domain/encoding.js';
import type { CarrierError } from './carrier-error.js';
import type { SmppSession, SubmitSm } from './session.js';

/** One segment to submit, with the engine's handle for it. */
export interface SubmitPart<R = unknown> {
  /** Given back with the outcome (e.g. `{ messageId, partNumber }` of the messages row). */
  ref: R;
  pdu: SubmitSm;
}

/** Everything of a submit_sm except the text and its encoding: who sends, to whom, receipts, validity. */
export type Addressing = Omit<SubmitSm, 'esmClass' | 'protocolId' | 'priorityFlag' | 'dataCoding' | 'shortMessage'>;

/** The submit_sm of one encoded part (src/domain/encoding.ts): its octets, data_coding and UDHI as encoded. */
export function submitSmFor(part: MessagePart, addressing: Addressing): SubmitSm {
  // Field by field rather than a spread: one object of one shape per part, on the hot path.
  return {
    serviceType: addressing.serviceType,
    sourceAddr: String(addressing.sourceAddr),
    sourceAddrTon: addressing.sourceAddrTon,
    sourceAddrNpi: addressing.sourceAddrNpi,
    destinationAddr: String(addressing.destinationAddr),
    destAddrTon: addressing.destAddrTon,
    destAddrNpi: addressing.destAddrNpi,
    esmClass: part.esmClass,
    validityPeriod: addressing.validityPeriod,
    registeredDelivery: addressing.registeredDelivery,
    dataCoding: part.dataCoding,
    shortMessage: part.shortMessage,
  };
}

/**
 * Why parts were returned unsent: the engine aborted the run; no bind for noBindTimeoutMs; the
 * SMSC answered a status whose action is `stop-run` (bad source address or TON: every further
 * message would fail the same way, so the rest of the run is not sent); or the SMSC answered
 * ESME_RSYSERR to systemErrorLimit submits in a row (`smsc-failing`: it is not taking messages).
 * `no-bind` and `smsc-failing` are carrier faults the engine pauses the run for (with `detail`).
 */
export type StopReason = 'aborted' | 'no-bind' | 'stop-run' | 'smsc-failing';

export type PartOutcome =
  | { outcome: 'submitted'; ok: true; ambiguous: false; messageId: string; rawMessageId: string; attempts: number; session: string }
  | { outcome: 'failed'; ok: false; ambiguous: false; status: number; meaning: SmppErrorMeaning; error: CarrierError; attempts: number }
  | {
      outcome: 'ambiguous';
      ok: false;
      ambiguous: true;
      reason: 'connection-lost' | 'response-timeout';
      attempts: number;
      session: string;
      /** With response-timeout: what a later 'late-response' event carries for this PDU. */
      late?: { connection: number; sequence: number };
    }
  | {
      outcome: 'unsent';
      ok: false;
      ambiguous: false;
      reason: StopReason;
      attempts: number;
      /** What a person reads about a carrier fault (no-bind, smsc-failing), e.g. in the run's status. */
      detail?: string;
    };

export interface SubmitHooks<R> {
  /**
   * Before any PDU of `batch` leaves: claim the batch's rows (queued → submitting, durably) and
   * resolve with the parts whose rows THIS call claimed. Only those are sent, and only those get
   * an outcome: a part left out (another worker claimed or already sent its row, e.g. a job the
   * queue delivered twice) is never sent (DESIGN.md, "the claim is the guard").
   */
  beforeSend(batch: readonly SubmitPart<R>[]): Promise<readonly SubmitPart<R>[]>;
  /** Exactly once per part. */
  onResult(part: SubmitPart<R>, outcome: PartOutcome): void | Promise<void>;
}

export interface RunSummary {
  parts: number;
  submitted: number;
  failed: number;
  ambiguous: number;
  unsent: number;
  /** Extra submit_sm sent for retries. */
  retries: number;
  /** ESME_RTHROTTLED answers received. */
  throttled: number;
}

/** How long a carrier may fail before the runs on it stop (the carrier's transport policy, BindPool). */
export interface CarrierFaultPolicy {
  /** With no bound session this long while parts wait, they are returned `unsent` (reason no-bind). */
  noBindTimeoutMs?: number;
  /** ESME_RSYSERR answers in a row (no success between) after which runs stop (reason smsc-failing). */
  systemErrorLimit?: number;
}

/** Where the submitter finds bound sessions: a BindPool, or one session. */
export interface SessionSource {
  readonly sessions: readonly SmppSession[];
  /** The carrier's policy; the Submitter's own options take precedence. */
  readonly faultPolicy?: CarrierFaultPolicy;
  on(event: 'bound' | 'unbound', listener: () => void): unknown;
  off(event: 'bound' | 'unbound', listener: () => void): unknown;
}

export function isSession(value: SmppSession | SessionSource): value is SmppSession {
  return !('sessions' in value);
}

/** A SessionSource over one session. */
export function singleSessionSource(session: SmppSession): SessionSource {
  return {
    sessions: [session],
    on: (event, listener) => session.on(event, listener),
    off: (event, listener) => session.off(event, listener),
  };
}
