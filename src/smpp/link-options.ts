import type { TransportCounters } from './transport-counters.js';
import { describeStatus } from './wire.js';

export type BindType = 'transceiver' | 'transmitter' | 'receiver';

/** Where and as whom to bind. */
export interface SmppEndpoint {
  host: string;
  port: number;
  systemId: string;
  password: string;
}

export interface LinkTimeouts {
  /** TCP connect. */
  connectMs: number;
  /** bind_* → bind_*_resp. */
  bindMs: number;
  /** submit_sm → submit_sm_resp; past it the PDU is reported ambiguous. */
  submitResponseMs: number;
  /** Period of our own enquire_link (the package's auto_enquire_link never notices a missing reply). */
  enquireLinkIntervalMs: number;
  /** enquire_link → enquire_link_resp; past it the connection is dropped and re-made. */
  enquireLinkResponseMs: number;
  /**
   * After a submit's response timeout the link stops taking submits and sends an enquire_link at
   * once; unanswered within this, the connection is dropped and re-made (issue 9 item 8: a silent
   * SMSC costs one window, not the several a 30 s enquire_link period would let through).
   */
  probeResponseMs: number;
  /** unbind → unbind_resp, and the socket close after it. */
  unbindMs: number;
  /** On a graceful close, how long outstanding submits may take to be answered before unbinding. */
  drainMs: number;
}

export const DEFAULT_TIMEOUTS: LinkTimeouts = {
  connectMs: 5_000,
  bindMs: 5_000,
  submitResponseMs: 10_000,
  enquireLinkIntervalMs: 30_000,
  enquireLinkResponseMs: 10_000,
  probeResponseMs: 3_000,
  unbindMs: 2_000,
  drainMs: 5_000,
};

export interface LinkOptions {
  carrier: string;
  endpoint: SmppEndpoint;
  systemType: string;
  bindType: BindType;
  /** Most submit_sm outstanding on this connection. */
  window: number;
  timeouts: LinkTimeouts;
  /** Above this many bytes queued in the socket, the link reports no capacity until 'drain'. */
  writeHighWaterBytes: number;
  /**
   * deliver_sm received but not yet answered (their receipts are not durable yet) at which the
   * link stops reading its socket; it reads again at half. Bounds what waits in memory while
   * PostgreSQL is away: the SMSC keeps the rest.
   */
  maxUnackedDeliveries?: number;
  /**
   * Monotonic milliseconds for the response, probe and enquire_link deadlines (default
   * performance.now); tests inject one to drive long timeouts without waiting for them.
   */
  clock?: () => number;
  /** Bumped for every submit result (shared by the carrier's links; see BindPool.counters). */
  counters?: TransportCounters;
}

export const DEFAULT_MAX_UNACKED_DELIVERIES = 1000;

/** The SMSC refused our bind with this command_status. */
export class BindRefusedError extends Error {
  override name = 'BindRefusedError';
  constructor(readonly status: number) {
    super(`bind refused: ${describeStatus(status)}`);
  }
}
