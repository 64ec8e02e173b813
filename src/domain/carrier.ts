/** The carriers Loa sends through. Numbers of any other carrier are `unroutable`. */
export const CARRIER_IDS = ['viettel', 'vnpt', 'mobifone'] as const;
export type CarrierId = (typeof CARRIER_IDS)[number];

export function isCarrierId(value: string): value is CarrierId {
  return (CARRIER_IDS as readonly string[]).includes(value);
}

/** How an SMSC writes message ids: in submit_sm_resp and in receipts they may differ. */
export type MessageIdFormat = 'dec' | 'hex';
export type BindMode = 'transceiver' | 'transmitter+receiver';

/**
 * What the engine does with an SMPP command_status (SMPP 3.4 §5.1.3, ../shared/reference/smpp.md).
 * - throttle: slow the token bucket (AIMD) and retry the PDU
 * - queue-full: pause the bind briefly and retry
 * - retry: temporary, retry with back-off (counts towards pausing the run)
 * - rejected: permanent for this message (e.g. bad destination)
 * - permanent: permanent failure of this message
 * - stop-run: configuration error (bad source address/TON): retrying cannot help
 * - rebind: the session is not bound
 * - bind-failed: credentials or system id refused: back off, alert, never hammer
 */
export type SmppErrorAction =
  | 'throttle'
  | 'queue-full'
  | 'retry'
  | 'rejected'
  | 'permanent'
  | 'stop-run'
  | 'rebind'
  | 'bind-failed';

export interface SmppErrorMeaning {
  status: number;
  name: string;
  action: SmppErrorAction;
  description: string;
}

/** One carrier's fixed facts and quirks. One file per carrier in adapters/carriers/. */
export interface CarrierProfile {
  id: CarrierId;
  name: string;
  /** National-form mobile prefixes (e.g. '096'), from ../shared/reference/vietnam.md. */
  prefixes: readonly string[];
  /** Defaults used when the carriers YAML does not say otherwise. */
  defaults: {
    tps: number;
    window: number;
    maxBinds: number;
    bindMode: BindMode;
    messageId: { submit: MessageIdFormat; receipt: MessageIdFormat };
  };
  /** Whether this carrier's brandname contract accepts UCS-2 (Vietnamese with diacritics). */
  ucs2WithBrandname: boolean;
  /** Meaning of a command_status, including this carrier's vendor codes (0x400–0x4FF). */
  errorMeaning(status: number): SmppErrorMeaning;
}
