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

/** SMPP 3.4 §4.4.1 command_id of submit_sm. */
const SUBMIT_SM_ID = 0x00000004;

function checkOctet(name: string, value: number | undefined): number {
  const v = value || 0;
  if (!(v >= 0 && v <= 0xff)) throw new RangeError(`The value of "${name}" is out of range. It must be >= 0 and <= 255. Received ${v}`);
  return v;
}

/** SMPP 3.4 §4.4.1: the longest each C-octet string field may be, its NUL not counted. */
const MAX_FIELD_CHARACTERS = { service_type: 5, source_addr: 20, destination_addr: 20, validity_period: 16 } as const;

function checkLength(name: keyof typeof MAX_FIELD_CHARACTERS, value: string): string {
  const max = MAX_FIELD_CHARACTERS[name];
  // The package writes longer strings as they are, and the SMSC refuses or truncates them.
  if (value.length > max) throw new RangeError(`"${name}" is ${value.length} characters long; SMPP 3.4 allows at most ${max}.`);
  return value;
}

/** The package's time filter on a string: up to 12 characters become a relative time (`…000R`). */
function timeField(value: string): string {
  if (value.length === 0 || value.length > 12) return value;
  return ('000000000000' + value).slice(-12) + '000R';
}

/**
 * submit_sm for `message` with `sequence`, encoded straight into one Buffer, octet for octet what
 * `submitSmPdu(message)` with that sequence_number gives from the package's toBuffer() (the
 * package's PDU object, filters and per-field loops cost more CPU than the rest of a submit).
 * Throws a RangeError, as the package does, when an integer field does not fit its octet, and
 * also (where the package does not) when a string field is longer than SMPP 3.4 allows.
 */
export function encodeSubmitSm(message: SubmitSm, sequence: number): Buffer {
  const serviceType = checkLength('service_type', message.serviceType ?? '');
  const sourceAddr = checkLength('source_addr', String(message.sourceAddr));
  const destinationAddr = checkLength('destination_addr', String(message.destinationAddr));
  const validity = checkLength('validity_period', timeField(message.validityPeriod ?? ''));
  const shortMessage = message.shortMessage;
  const sourceTon = checkOctet('source_addr_ton', message.sourceAddrTon);
  const sourceNpi = checkOctet('source_addr_npi', message.sourceAddrNpi);
  const destTon = checkOctet('dest_addr_ton', message.destAddrTon);
  const destNpi = checkOctet('dest_addr_npi', message.destAddrNpi);
  const esmClass = checkOctet('esm_class', message.esmClass);
  const protocolId = checkOctet('protocol_id', message.protocolId);
  const priorityFlag = checkOctet('priority_flag', message.priorityFlag);
  const registeredDelivery = checkOctet('registered_delivery', message.registeredDelivery);
  const dataCoding = checkOctet('data_coding', message.dataCoding);
  const smLength = checkOctet('sm_length', shortMessage.length);
  // Header 16, three int8 + cstring service_type, ..., 12 fixed int8 octets in all, 5 NULs.
  const length =
    16 + serviceType.length + sourceAddr.length + destinationAddr.length + validity.length + 5 + 12 + smLength;
  const buffer = Buffer.allocUnsafe(length);
  buffer.writeUInt32BE(length, 0);
  buffer.writeUInt32BE(SUBMIT_SM_ID, 4);
  buffer.writeUInt32BE(0, 8);
  buffer.writeUInt32BE(sequence, 12);
  let offset = 16;
  offset += buffer.write(serviceType, offset, 'ascii');
  buffer[offset++] = 0;
  buffer[offset++] = sourceTon;
  buffer[offset++] = sourceNpi;
  offset += buffer.write(sourceAddr, offset, 'ascii');
  buffer[offset++] = 0;
  buffer[offset++] = destTon;
  buffer[offset++] = destNpi;
  offset += buffer.write(destinationAddr, offset, 'ascii');
  buffer[offset++] = 0;
  buffer[offset++] = esmClass;
  buffer[offset++] = protocolId;
  buffer[offset++] = priorityFlag;
  buffer[offset++] = 0; // schedule_delivery_time: empty
  offset += buffer.write(validity, offset, 'ascii');
  buffer[offset++] = 0;
  buffer[offset++] = registeredDelivery;
  buffer[offset++] = 0; // replace_if_present_flag
  buffer[offset++] = dataCoding;
  buffer[offset++] = 0; // sm_default_msg_id
  buffer[offset++] = smLength;
  shortMessage.copy(buffer, offset);
  return buffer;
}

/**
 * deliver_sm_resp answering sequence number `sequence` with `status`, as the package's
 * `pdu.response({ command_status: status }).toBuffer()` encodes it: header and an empty
 * message_id on success, the bare 16-octet header on an error status.
 */
export function encodeDeliverSmResp(sequence: number, status: number): Buffer {
  const length = status ? 16 : 17;
  const buffer = Buffer.allocUnsafe(length);
  buffer.writeUInt32BE(length, 0);
  buffer.writeUInt32BE(0x80000005, 4);
  buffer.writeUInt32BE(status, 8);
  buffer.writeUInt32BE(sequence, 12);
  if (!status) buffer[16] = 0;
  return buffer;
}

/**
 * submit_sm_resp accepting sequence number `sequence` as `messageId` (ASCII, as the package's
 * C-octet string encodes it): what `pdu.response({ message_id })` gives, without the PDU object.
 */
export function encodeSubmitSmResp(sequence: number, messageId: string): Buffer {
  const length = 16 + messageId.length + 1;
  const buffer = Buffer.allocUnsafe(length);
  buffer.writeUInt32BE(length, 0);
  buffer.writeUInt32BE(0x80000004, 4);
  buffer.writeUInt32BE(0, 8);
  buffer.writeUInt32BE(sequence, 12);
  buffer.write(messageId, 16, 'ascii');
  buffer[length - 1] = 0;
  return buffer;
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
