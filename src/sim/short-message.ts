import { decodeGsm7, decodeUcs2 } from '../domain/encoding.js';

/** The concatenation header of one part (3GPP TS 23.040 §9.2.3.24.1 / .8: 8- or 16-bit reference). */
export interface Concatenation {
  reference: number;
  partNumber: number;
  partCount: number;
}

export interface DecodedShortMessage {
  text: string;
  udh: Concatenation | null;
}

/**
 * Decodes a short_message as a handset would: UDH first (when esm_class has UDHI, 0x40), then
 * the payload by data_coding: 8 UCS-2 (UTF-16BE), 3 Latin-1, otherwise GSM 03.38 one septet per
 * octet (SMPP carries the default alphabet unpacked).
 */
export function decodeShortMessage(octets: Buffer, dataCoding: number, esmClass: number): DecodedShortMessage {
  let body = octets;
  let udh: Concatenation | null = null;
  if ((esmClass & 0x40) !== 0 && octets.length > 0) {
    const headerLength = octets[0] as number;
    udh = concatenationOf(octets.subarray(1, 1 + headerLength));
    body = octets.subarray(1 + headerLength);
  }
  return { text: decodeText(body, dataCoding), udh };
}

function concatenationOf(header: Buffer): Concatenation | null {
  let offset = 0;
  while (offset + 2 <= header.length) {
    const id = header[offset] as number;
    const length = header[offset + 1] as number;
    const data = header.subarray(offset + 2, offset + 2 + length);
    if (id === 0x00 && data.length === 3) return { reference: data[0] as number, partCount: data[1] as number, partNumber: data[2] as number };
    if (id === 0x08 && data.length === 4) return { reference: data.readUInt16BE(0), partCount: data[2] as number, partNumber: data[3] as number };
    offset += 2 + length;
  }
  return null;
}

function decodeText(body: Buffer, dataCoding: number): string {
  switch (dataCoding & 0x0f) {
    case 0x08:
      return decodeUcs2(body);
    case 0x03:
      return body.toString('latin1');
    default:
      return decodeGsm7(body);
  }
}
