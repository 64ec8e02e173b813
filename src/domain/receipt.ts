/**
 * Delivery receipts (deliver_sm with a receipt message type), SMPP 3.4 §5.2.12 and Appendix B.
 * TLVs are preferred; the `id:… stat:… err:…` text is the fallback and fills in the rest.
 * See ../shared/reference/smpp.md "Receipts".
 */
import type { MessageIdFormat } from './carrier.js';
import { DomainError } from './errors.js';
import type { MessageState } from './message-state.js';
import { DEFAULT_TIME_ZONE, wallTimeToUtc } from './time-zone.js';

export interface ReceiptInput {
  esmClass: number;
  shortMessage: Buffer | string | undefined;
  /** TLV receipted_message_id (0x001E). */
  receiptedMessageId?: string;
  /** TLV message_state (0x0427), 1–8. */
  messageState?: number;
  /** TLV network_error_code (0x0423): network type (1 octet) + error code (2 octets). */
  networkErrorCode?: Buffer;
}

export interface ParsedReceipt {
  /** Normalised (see normalizeMessageId) so it compares equal to the normalised submit_sm_resp id. */
  messageId: string;
  state: MessageState;
  /** The carrier's error code (`err:` or network_error_code), null when it reports none (all zeros). */
  error: string | null;
  doneAt: Date | null;
  /** The raw `stat:` word as sent, upper case; null when only the TLV said. */
  stat: string | null;
  submittedParts?: number;
  deliveredParts?: number;
  /** An intermediate delivery notification (esm_class type 0x20): the message is not final yet. */
  intermediate: boolean;
}

export class ReceiptParseError extends DomainError {
  override name = 'ReceiptParseError';
  constructor(
    message: string,
    readonly text: string,
  ) {
    super('bad-receipt', message);
  }
}

// esm_class bits 5–2 are the message type (SMPP 3.4 §5.2.12); bits 7–6 (UDHI, reply path) must not matter.
const MESSAGE_TYPE_MASK = 0x3c;
const TYPE_SMSC_RECEIPT = 0x04;
const TYPE_INTERMEDIATE = 0x20;

/** Whether a deliver_sm is a receipt (SMSC delivery receipt, or intermediate delivery notification) rather than a mobile-originated message. */
export function isDeliveryReceipt(esmClass: number): boolean {
  const type = esmClass & MESSAGE_TYPE_MASK;
  return type === TYPE_SMSC_RECEIPT || type === TYPE_INTERMEDIATE;
}

export function isIntermediateNotification(esmClass: number): boolean {
  return (esmClass & MESSAGE_TYPE_MASK) === TYPE_INTERMEDIATE;
}

/** message_state TLV values, SMPP 3.4 §5.2.28. */
export const MESSAGE_STATE_VALUES: Readonly<Record<number, MessageState>> = {
  1: 'enroute',
  2: 'delivered',
  3: 'expired',
  4: 'deleted',
  5: 'undeliverable',
  6: 'accepted',
  7: 'unknown',
  8: 'rejected',
};

/** `stat:` words of Appendix B, plus the full state names some SMSCs write instead. */
export const RECEIPT_STATS: Readonly<Record<string, MessageState>> = {
  DELIVRD: 'delivered',
  EXPIRED: 'expired',
  DELETED: 'deleted',
  UNDELIV: 'undeliverable',
  ACCEPTD: 'accepted',
  UNKNOWN: 'unknown',
  REJECTD: 'rejected',
  ENROUTE: 'enroute',
  DELIVERED: 'delivered',
  UNDELIVERABLE: 'undeliverable',
  ACCEPTED: 'accepted',
  REJECTED: 'rejected',
};

const HEX = /^[0-9a-f]+$/i;
const DEC = /^[0-9]+$/;

/**
 * The form both sides of the (carrier, message id) match compare: a numeric id in the declared
 * format becomes the decimal string of its value, so hex `1A2B` in submit_sm_resp matches
 * decimal `6699` in the receipt; anything else is lower-cased with leading zeros trimmed.
 */
export function normalizeMessageId(id: string, format: MessageIdFormat): string {
  // eslint-disable-next-line no-control-regex -- C-Octet strings arrive with their NUL terminator.
  const trimmed = id.replace(/\u0000+$/, '').trim();
  if (trimmed.length === 0) return '';
  if (format === 'hex' && HEX.test(trimmed)) return BigInt(`0x${trimmed}`).toString(10);
  if (format === 'dec' && DEC.test(trimmed)) return BigInt(trimmed).toString(10);
  const lower = trimmed.toLowerCase().replace(/^0+/, '');
  return lower.length === 0 ? '0' : lower;
}

interface ReceiptText {
  id?: string;
  sub?: number;
  dlvrd?: number;
  submitDate?: string;
  doneDate?: string;
  stat?: string;
  err?: string;
}

// Keys are matched case-insensitively; `submit date` is also seen as `submit_date` or `submitdate`.
const KEY = /(?:^|\s)(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:/gi;

/**
 * Appendix B puts `text:` last, but some SMSCs write it earlier (`… text:abc stat:DELIVRD err:000`),
 * so keys are read wherever they are. The first occurrence of each key counts; a key seen again is
 * part of the user's text (which may itself say `id:` or `stat:`). `text:` runs until the next
 * counted key or the end; every other value is the one word after its colon (empty when the
 * next key follows at once, as in `id: sub:001`).
 */
function parseReceiptText(raw: string): ReceiptText {
  const keys: Array<{ key: string; at: number; valueAt: number }> = [];
  const seen = new Set<string>();
  for (const match of raw.matchAll(KEY)) {
    const key = (match[1] ?? '').toLowerCase().replace(/[ _]/g, '');
    if (seen.has(key)) continue;
    seen.add(key);
    keys.push({ key, at: match.index, valueAt: match.index + match[0].length });
  }
  const fields: ReceiptText = {};
  keys.forEach(({ key, valueAt }, i) => {
    const value = /^\s*(\S*)/.exec(raw.slice(valueAt, keys[i + 1]?.at ?? raw.length))?.[1] ?? '';
    switch (key) {
      case 'id':
        fields.id = value;
        break;
      case 'sub':
        if (DEC.test(value)) fields.sub = Number(value);
        break;
      case 'dlvrd':
        if (DEC.test(value)) fields.dlvrd = Number(value);
        break;
      case 'submitdate':
        fields.submitDate = value;
        break;
      case 'donedate':
        fields.doneDate = value;
        break;
      case 'stat':
        fields.stat = value.toUpperCase();
        break;
      case 'err':
        fields.err = value;
        break;
      // text: the user's message; nothing of it is needed, but its extent keeps its words out of the fields.
    }
  });
  return fields;
}

/** `YYMMDDhhmm` or `YYMMDDhhmmss`, SMSC local time (Vietnam). Null when absent or impossible. */
export function parseReceiptDate(value: string | undefined, timeZone = DEFAULT_TIME_ZONE): Date | null {
  if (!value || !DEC.test(value) || (value.length !== 10 && value.length !== 12)) return null;
  const n = (from: number): number => Number(value.slice(from, from + 2));
  const wall = { year: 2000 + n(0), month: n(2), day: n(4), hour: n(6), minute: n(8), second: value.length === 12 ? n(10) : 0 };
  if (wall.month < 1 || wall.month > 12 || wall.day < 1 || wall.hour > 23 || wall.minute > 59 || wall.second > 59) return null;
  const daysInMonth = new Date(Date.UTC(wall.year, wall.month, 0)).getUTCDate();
  if (wall.day > daysInMonth) return null;
  return wallTimeToUtc(wall, timeZone);
}

function errorFrom(err: string | undefined, networkErrorCode: Buffer | undefined): string | null {
  if (err !== undefined && err !== '' && !/^0+$/.test(err)) return err;
  if (networkErrorCode && networkErrorCode.length >= 3) {
    const code = networkErrorCode.readUInt16BE(1);
    if (code !== 0) return `network:${networkErrorCode[0]}:${code}`;
  }
  return null;
}

const UDHI = 0x40;

/**
 * The length of a user data header at the start of a receipt body whose esm_class has UDHI set
 * (some SMSCs copy the concatenation UDH of the part into its receipt), or 0. The first octet is
 * the UDH length (UDHL); a body whose first character is printable has no UDH left (the SMPP
 * layer already took it off), since a UDHL is at most a few dozen.
 */
function udhLength(esmClass: number, body: Buffer | string): number {
  if ((esmClass & UDHI) === 0 || body.length === 0) return 0;
  const udhl = typeof body === 'string' ? body.charCodeAt(0) : (body[0] ?? 0);
  if (udhl >= 0x20 || 1 + udhl > body.length) return 0;
  return 1 + udhl;
}

function decodeText(esmClass: number, shortMessage: Buffer | string | undefined): string {
  if (shortMessage === undefined) return '';
  const skip = udhLength(esmClass, shortMessage);
  // Latin-1 from the raw bytes: SMSCs label ASCII receipts with any data_coding, including UCS-2.
  const raw = typeof shortMessage === 'string' ? shortMessage.slice(skip) : shortMessage.subarray(skip).toString('latin1');
  // eslint-disable-next-line no-control-regex -- NUL padding from C-Octet strings
  return raw.replace(/\u0000/g, ' ');
}

/**
 * Read a receipt. Returns null when the deliver_sm is not a receipt (a mobile-originated message);
 * throws ReceiptParseError when it is one but gives no message id or no readable state.
 */
export function parseReceipt(input: ReceiptInput, receiptIdFormat: MessageIdFormat): ParsedReceipt | null {
  if (!isDeliveryReceipt(input.esmClass)) return null;
  const raw = decodeText(input.esmClass, input.shortMessage);
  const text = parseReceiptText(raw);

  const rawId = input.receiptedMessageId !== undefined && input.receiptedMessageId.trim() !== '' ? input.receiptedMessageId : text.id;
  const messageId = rawId === undefined ? '' : normalizeMessageId(rawId, receiptIdFormat);
  if (messageId === '') throw new ReceiptParseError('receipt has no message id (neither receipted_message_id nor id:)', raw);

  let state: MessageState | undefined;
  if (input.messageState !== undefined) {
    state = MESSAGE_STATE_VALUES[input.messageState];
    if (state === undefined && text.stat === undefined) {
      throw new ReceiptParseError(`receipt has message_state ${input.messageState}, outside 1–8`, raw);
    }
  }
  if (state === undefined && text.stat !== undefined) {
    state = RECEIPT_STATS[text.stat];
    if (state === undefined) throw new ReceiptParseError(`receipt has an unknown stat '${text.stat}'`, raw);
  }
  if (state === undefined) throw new ReceiptParseError('receipt has no state (neither message_state nor stat:)', raw);

  const receipt: ParsedReceipt = {
    messageId,
    state,
    error: errorFrom(text.err, input.networkErrorCode),
    doneAt: parseReceiptDate(text.doneDate),
    stat: text.stat ?? null,
    intermediate: isIntermediateNotification(input.esmClass),
  };
  if (text.sub !== undefined) receipt.submittedParts = text.sub;
  if (text.dlvrd !== undefined) receipt.deliveredParts = text.dlvrd;
  return receipt;
}
