import type { MalformedPduKind } from './simulator-types.js';

/** The raw bytes of a broken PDU, written straight to the socket to test the ESME's reader. */
export function malformedPdu(kind: MalformedPduKind): Buffer {
  switch (kind) {
    case 'oversized': {
      // command_length far above the package's 16384 limit: its reader throws and freezes.
      const header = Buffer.alloc(16);
      header.writeUInt32BE(0x00100000, 0);
      header.writeUInt32BE(0x00000005, 4);
      header.writeUInt32BE(0, 8);
      header.writeUInt32BE(0x7ffffff0, 12);
      return header;
    }
    case 'short-header': {
      // command_length 12 < the 16-octet header.
      const pdu = Buffer.alloc(12);
      pdu.writeUInt32BE(12, 0);
      pdu.writeUInt32BE(0x00000005, 4);
      pdu.writeUInt32BE(0, 8);
      return pdu;
    }
    case 'tiny-length': {
      // A full 16-octet header whose command_length says 4: the package's reader would ask the
      // socket for 0 octets, get null and wait for ever without an error (see wire.ts).
      const header = Buffer.alloc(16);
      header.writeUInt32BE(4, 0);
      header.writeUInt32BE(0x80000004, 4);
      header.writeUInt32BE(0, 8);
      header.writeUInt32BE(0x7ffffff2, 12);
      return header;
    }
    case 'bad-tlv': {
      // A deliver_sm whose message_state TLV announces one octet that is not there.
      const fields = Buffer.from([0, 1, 1, ...Buffer.from('84900000001'), 0, 5, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const tlv = Buffer.from([0x04, 0x27, 0x00, 0x01]);
      const length = 16 + fields.length + tlv.length;
      const header = Buffer.alloc(16);
      header.writeUInt32BE(length, 0);
      header.writeUInt32BE(0x00000005, 4);
      header.writeUInt32BE(0, 8);
      header.writeUInt32BE(0x7ffffff1, 12);
      return Buffer.concat([header, fields, tlv]);
    }
  }
}
