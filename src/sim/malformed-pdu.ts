import type { MalformedPduKind } from './simulator-types.js';

/** A 16-octet SMPP header (command_length, command_id, command_status 0, sequence_number). */
function header(commandLength: number, commandId: number, sequence: number): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt32BE(commandLength, 0);
  bytes.writeUInt32BE(commandId, 4);
  bytes.writeUInt32BE(sequence, 12);
  return bytes;
}

/** The raw bytes of a broken PDU, written straight to the socket to test the ESME's reader. */
export function malformedPdu(kind: MalformedPduKind): Buffer {
  switch (kind) {
    case 'oversized': {
      // command_length far above the package's 16384 limit: its reader throws and freezes.
      return header(0x00100000, 0x00000005, 0x7ffffff0);
    }
    case 'short-header': {
      // command_length 12 < the 16-octet header.
      return header(12, 0x00000005, 0).subarray(0, 12);
    }
    case 'tiny-length': {
      // A full 16-octet header whose command_length says 4: the package's reader would ask the
      // socket for 0 octets, get null and wait for ever without an error (see wire.ts).
      return header(4, 0x80000004, 0x7ffffff2);
    }
    case 'bad-tlv': {
      // A deliver_sm whose message_state TLV announces one octet that is not there.
      const fields = Buffer.from([0, 1, 1, ...Buffer.from('84900000001'), 0, 5, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const tlv = Buffer.from([0x04, 0x27, 0x00, 0x01]);
      return Buffer.concat([header(16 + fields.length + tlv.length, 0x00000005, 0x7ffffff1), fields, tlv]);
    }
  }
}
