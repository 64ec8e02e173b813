import { describe, expect, it } from 'vitest';
import { encodeDeliverSmResp, encodeSubmitSmResp, encodeSubmitSm, submitSmPdu, type SubmitSm } from '../../src/smpp/link-pdus.js';
import { smpp } from '../../src/smpp/wire.js';

function packageBytes(message: SubmitSm, sequence: number): Buffer {
  const pdu = submitSmPdu(message);
  pdu.sequence_number = sequence;
  return pdu.toBuffer();
}

function packageError(message: SubmitSm): Error | null {
  try {
    packageBytes(message, 1);
    return null;
  } catch (error) {
    return error as Error;
  }
}

const base: SubmitSm = {
  sourceAddr: 'Loa',
  sourceAddrTon: 5,
  sourceAddrNpi: 0,
  destinationAddr: '31612345678',
  destAddrTon: 1,
  destAddrNpi: 1,
  esmClass: 0,
  registeredDelivery: 1,
  dataCoding: 0,
  shortMessage: Buffer.from('hello', 'ascii'),
};

const udh = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]);
const ucs2 = Buffer.from('Привет, мир! 你好', 'utf16le').swap16();

const variants: Array<Partial<SubmitSm>> = [
  {},
  { shortMessage: Buffer.alloc(0) },
  { shortMessage: Buffer.alloc(254, 0x41) },
  { dataCoding: 8, shortMessage: ucs2 },
  { dataCoding: 8, esmClass: 0x40, shortMessage: Buffer.concat([udh, ucs2]) },
  { esmClass: 0x40, shortMessage: Buffer.concat([udh, Buffer.alloc(147, 0x61)]) },
  { validityPeriod: '' },
  { validityPeriod: '000001000000000R' },
  { validityPeriod: '261126151800000+' },
  { validityPeriod: '000001000000' },
  { validityPeriod: '3600' },
  { serviceType: 'CMT' },
  { serviceType: '' },
  { sourceAddr: '12345678901234567890', destinationAddr: '98765432109876543210' },
  { sourceAddr: '', destinationAddr: '1' },
  { protocolId: 0x7f, priorityFlag: 3, registeredDelivery: 0 },
  { sourceAddrTon: 0xff, sourceAddrNpi: 0xff, destAddrTon: 0xff, destAddrNpi: 0xff, esmClass: 0xff, dataCoding: 0xff },
  { dataCoding: 4, shortMessage: Buffer.from([0x00, 0xff, 0x80, 0x7f]) },
];

describe('encodeSubmitSm', () => {
  it('gives the package encoding octet for octet over many field combinations and sequence numbers', () => {
    let cases = 0;
    for (const variant of variants) {
      for (const sequence of [1, 2, 255, 65_536, 0x7fffffff]) {
        const message = { ...base, ...variant };
        expect(encodeSubmitSm(message, sequence).equals(packageBytes(message, sequence)), JSON.stringify(variant)).toBe(true);
        cases++;
      }
    }
    expect(cases).toBe(variants.length * 5);
  });

  it('matches random combinations of fields', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed % n;
    };
    const digits = (n: number): string => Array.from({ length: n }, () => String(random(10))).join('');
    for (let i = 0; i < 500; i++) {
      const message: SubmitSm = {
        serviceType: random(3) === 0 ? 'CMT' : undefined,
        sourceAddr: random(2) === 0 ? digits(random(21)) : 'Brand'.slice(0, random(6)),
        sourceAddrTon: random(7),
        sourceAddrNpi: random(2),
        destinationAddr: digits(1 + random(20)),
        destAddrTon: random(2),
        destAddrNpi: random(2),
        esmClass: random(2) * 0x40,
        protocolId: random(2) === 0 ? undefined : random(256),
        priorityFlag: random(2) === 0 ? undefined : random(4),
        validityPeriod: ['', undefined, '000001000000000R', '261231235959000+', '120'][random(5)],
        registeredDelivery: random(2),
        dataCoding: random(2) * 8,
        shortMessage: Buffer.from(Array.from({ length: random(255) }, () => random(256))),
      };
      const sequence = 1 + random(0x7fffffff);
      expect(encodeSubmitSm(message, sequence).equals(packageBytes(message, sequence))).toBe(true);
    }
  });

  it('throws where the package throws: an integer field that does not fit its octet', () => {
    for (const variant of [{ sourceAddrTon: 256 }, { destAddrNpi: -1 }, { esmClass: 1000 }, { dataCoding: 300 }, { shortMessage: Buffer.alloc(256) }] as Array<Partial<SubmitSm>>) {
      const message = { ...base, ...variant };
      expect(packageError(message)).toBeInstanceOf(RangeError);
      expect(() => encodeSubmitSm(message, 1)).toThrow(RangeError);
    }
  });

  it('refuses a string field longer than SMPP 3.4 allows, which the package would write as it is', () => {
    const tooLong: Array<[Partial<SubmitSm>, string]> = [
      [{ sourceAddr: 'A'.repeat(21) }, 'source_addr'],
      [{ destinationAddr: '8'.repeat(21) }, 'destination_addr'],
      [{ serviceType: 'CMTXYZ' }, 'service_type'],
      [{ validityPeriod: '261231235959000+X' }, 'validity_period'],
    ];
    for (const [variant, field] of tooLong) {
      expect(() => encodeSubmitSm({ ...base, ...variant }, 1)).toThrow(new RegExp(field));
    }
    const longest = { ...base, sourceAddr: 'A'.repeat(20), destinationAddr: '8'.repeat(20), serviceType: 'CMTXY', validityPeriod: '261231235959000+' };
    expect(encodeSubmitSm(longest, 1).equals(packageBytes(longest, 1))).toBe(true);
  });
});

describe('encodeDeliverSmResp', () => {
  it('gives the package encoding of a deliver_sm response, on success and on error', () => {
    for (const sequence of [1, 7, 65_536, 0x7fffffff]) {
      for (const status of [0, 0x08, 0x14, 0x45, 0x58]) {
        const deliver = new smpp.PDU('deliver_sm', { sequence_number: sequence, short_message: Buffer.from('id:1') });
        const expected = deliver.response({ command_status: status }).toBuffer();
        expect(encodeDeliverSmResp(sequence, status).equals(expected)).toBe(true);
      }
    }
  });
});

describe('encodeSubmitSmResp', () => {
  it('gives the package encoding of an accepting submit_sm response', () => {
    for (const sequence of [1, 7, 65_536, 0x7fffffff]) {
      for (const messageId of ['', '0', '1a2b3c', '12345678901234567890', 'SIM-ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff0']) {
        const submit = new smpp.PDU('submit_sm', { sequence_number: sequence, destination_addr: '84912345678', short_message: Buffer.from('x') });
        const expected = submit.response({ message_id: messageId }).toBuffer();
        expect(encodeSubmitSmResp(sequence, messageId).equals(expected)).toBe(true);
      }
    }
  });
});
