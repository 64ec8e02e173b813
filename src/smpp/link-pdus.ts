import { smpp, type SmppPdu } from './wire.js';

/** One submit_sm, field by field (SMPP 3.4 §4.4.1). Addresses are strings: a number throws in the package. */
export interface SubmitSm {
  serviceType?: string;
  sourceAddr: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  destinationAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  /** 0x40 when shortMessage starts with a UDH. */
  esmClass: number;
  protocolId?: number;
  priorityFlag?: number;
  /** Absolute `YYMMDDhhmmss000+` or relative `000001000000000R`; empty for the SMSC default. */
  validityPeriod?: string;
  /** 1: a receipt on success and failure. */
  registeredDelivery: number;
  /** Always explicit: 0 GSM 03.38, 8 UCS-2. The package must never pick one. */
  dataCoding: number;
  /** At most 254 octets, UDH included. */
  shortMessage: Buffer;
}

/**
 * What became of one submit_sm on one connection.
 * - ok / error: the SMSC answered (error responses carry no message_id).
 * - ambiguous: the PDU was written and no answer will come (socket dropped, response timed out):
 *   it may have reached the SMSC. Never resend it silently.
 * - unsent: nothing was written; safe to send again.
 */
export type SubmitResult =
  | { kind: 'ok'; messageId: string }
  | { kind: 'error'; status: number }
  | { kind: 'ambiguous'; reason: 'connection-lost' }
  /** `connection` and `sequence` identify the PDU if its response turns up late (see LateResponse). */
  | { kind: 'ambiguous'; reason: 'response-timeout'; connection: number; sequence: number }
  | { kind: 'unsent'; reason: 'not-bound' | 'window-full' | 'not-writable' | 'invalid'; detail?: string };

/**
 * A submit_sm_resp that arrived after its submit was reported ambiguous (response-timeout) on the
 * same connection: `connection` and `sequence` are those of that ambiguous result. Kept for
 * LATE_RESPONSE_TTL_MS after the timeout, for at most LATE_RESPONSE_MAX PDUs per connection.
 */
export interface LateResponse {
  connection: number;
  sequence: number;
  /** Null when the SMSC refused it (error responses carry no message_id). */
  messageId: string | null;
  status: number;
}

/**
 * Answers one deliver_sm (deliver_sm_resp with `status`, ESME_ROK by default). Call it once the
 * receipt is durable: what is never answered, the SMSC delivers again (smpp.md, Receipts).
 * Calling it twice, or after the connection closed, does nothing.
 */
export type DeliverAck = (status?: number) => void;

/** A deliver_sm as received; shortMessage holds the octets as on the wire (see wire.ts). */
export interface DeliverSm {
  sourceAddr: string;
  destinationAddr: string;
  esmClass: number;
  dataCoding: number;
  shortMessage: Buffer;
  receiptedMessageId?: string;
  messageState?: number;
  networkErrorCode?: Buffer;
}

/** The package's submit_sm for `message`; throws when a field is out of range (nothing is written then). */
export function submitSmPdu(message: SubmitSm): SmppPdu {
  return new smpp.PDU('submit_sm', {
    service_type: message.serviceType ?? '',
    source_addr_ton: message.sourceAddrTon,
    source_addr_npi: message.sourceAddrNpi,
    source_addr: String(message.sourceAddr),
    dest_addr_ton: message.destAddrTon,
    dest_addr_npi: message.destAddrNpi,
    destination_addr: String(message.destinationAddr),
    esm_class: message.esmClass,
    protocol_id: message.protocolId ?? 0,
    priority_flag: message.priorityFlag ?? 0,
    schedule_delivery_time: '',
    validity_period: message.validityPeriod ?? '',
    registered_delivery: message.registeredDelivery,
    replace_if_present_flag: 0,
    data_coding: message.dataCoding,
    sm_default_msg_id: 0,
    short_message: message.shortMessage,
  });
}

export function toDeliverSm(pdu: SmppPdu): DeliverSm {
  const shortMessage = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
  const payload = Buffer.isBuffer(pdu.message_payload) ? pdu.message_payload : null;
  return {
    sourceAddr: typeof pdu.source_addr === 'string' ? pdu.source_addr : '',
    destinationAddr: typeof pdu.destination_addr === 'string' ? pdu.destination_addr : '',
    esmClass: typeof pdu.esm_class === 'number' ? pdu.esm_class : 0,
    dataCoding: typeof pdu.data_coding === 'number' ? pdu.data_coding : 0,
    // SMPP 3.4 §5.3.2.32: message_payload replaces an empty short_message.
    shortMessage: shortMessage.length === 0 && payload ? payload : shortMessage,
    receiptedMessageId: typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : undefined,
    messageState: typeof pdu.message_state === 'number' ? pdu.message_state : undefined,
    networkErrorCode: Buffer.isBuffer(pdu.network_error_code) ? pdu.network_error_code : undefined,
  };
}
