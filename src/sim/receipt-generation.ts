import type { MessageIdFormat } from '../domain/carrier.js';
import { smpp, type SmppPdu } from '../smpp/wire.js';
import type { ReceiptBehaviour, ReceiptOutcome } from './simulator-types.js';

/** An accepted part whose receipt is still to be written (or to be written again). */
export interface PendingReceipt {
  messageNumber: bigint;
  source: string;
  destination: string;
  outcome: ReceiptOutcome;
  submittedAt: Date;
  text: string;
}

const MESSAGE_STATE: Record<ReceiptOutcome, number> = { delivered: 2, expired: 3, undeliverable: 5, rejected: 8 };
const STAT: Record<ReceiptOutcome, string> = { delivered: 'DELIVRD', expired: 'EXPIRED', undeliverable: 'UNDELIV', rejected: 'REJECTD' };
const ERR: Record<ReceiptOutcome, string> = { delivered: '000', expired: '000', undeliverable: '001', rejected: '011' };

export const DEFAULT_RECEIPTS: ReceiptBehaviour = {
  outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 },
  delayMs: { min: 5, max: 50 },
  earlyProbability: 0,
  style: 'tlv+text',
  dataCoding: 0,
};

/** The defaults under `overrides`; outcome ratios given at all replace the default ones (a missing one is 0). */
export function receiptBehaviourFrom(overrides: Partial<ReceiptBehaviour> | undefined): ReceiptBehaviour {
  return {
    ...DEFAULT_RECEIPTS,
    ...overrides,
    outcomes: { ...(overrides?.outcomes ? { delivered: 0, undeliverable: 0, expired: 0, rejected: 0 } : DEFAULT_RECEIPTS.outcomes), ...overrides?.outcomes },
  };
}

/** The final outcome of an accepted part by the configured ratios, or null when no receipt is wanted. */
export function pickOutcome(registeredDelivery: number, outcomes: ReceiptBehaviour['outcomes'], random: () => number): ReceiptOutcome | null {
  const wanted = registeredDelivery & 0x03;
  if (wanted === 0) return null;
  const total = outcomes.delivered + outcomes.undeliverable + outcomes.expired + outcomes.rejected;
  let r = random() * (total > 0 ? total : 1);
  let outcome: ReceiptOutcome = 'delivered';
  for (const candidate of ['delivered', 'undeliverable', 'expired', 'rejected'] as const) {
    if (r < outcomes[candidate]) {
      outcome = candidate;
      break;
    }
    r -= outcomes[candidate];
  }
  // registered_delivery 2: a receipt on failure only (SMPP 3.4 §5.2.17).
  if (wanted === 2 && outcome === 'delivered') return null;
  return outcome;
}

/** The deliver_sm carrying `receipt`: Appendix B text, plus the TLVs when the style asks for them. */
export function receiptPdu(receipt: PendingReceipt, idFormat: MessageIdFormat, behaviour: ReceiptBehaviour): SmppPdu {
  const id = formatId(receipt.messageNumber, idFormat, 'receipt');
  const delivered = receipt.outcome === 'delivered' ? '001' : '000';
  const text =
    `id:${id} sub:001 dlvrd:${delivered} submit date:${smscDate(receipt.submittedAt)} done date:${smscDate(new Date())} ` +
    `stat:${STAT[receipt.outcome]} err:${ERR[receipt.outcome]} text:${asciiPreview(receipt.text)}`;
  const fields: Record<string, unknown> = {
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: receipt.destination,
    dest_addr_ton: 5,
    dest_addr_npi: 0,
    destination_addr: receipt.source,
    esm_class: 0x04,
    data_coding: behaviour.dataCoding,
    short_message: Buffer.from(text, 'latin1'),
  };
  if (behaviour.style === 'tlv+text') {
    fields.receipted_message_id = id;
    fields.message_state = MESSAGE_STATE[receipt.outcome];
    if (receipt.outcome !== 'delivered') fields.network_error_code = Buffer.from([0x03, 0x00, Number(ERR[receipt.outcome])]);
  }
  return new smpp.PDU('deliver_sm', fields);
}

export function formatId(number: bigint, format: MessageIdFormat, where: 'submit' | 'receipt'): string {
  // Different spellings on each side on purpose: upper-case hex in responses, lower-case padded
  // hex or zero-padded decimal in receipts, as real SMSCs do; Loa must normalise both.
  if (format === 'hex') return where === 'submit' ? number.toString(16).toUpperCase() : number.toString(16).padStart(10, '0');
  return where === 'submit' ? number.toString(10) : number.toString(10).padStart(12, '0');
}

/** `YYMMDDhhmm` in Vietnam time (UTC+7, no DST), as the carriers' SMSCs write it. */
function smscDate(date: Date): string {
  const local = new Date(date.getTime() + 7 * 3600_000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(local.getUTCFullYear() % 100)}${two(local.getUTCMonth() + 1)}${two(local.getUTCDate())}${two(local.getUTCHours())}${two(local.getUTCMinutes())}`;
}

function asciiPreview(text: string): string {
  return text
    .slice(0, 20)
    .normalize('NFD')
    .replace(/[^\x20-\x7e]/g, '');
}
