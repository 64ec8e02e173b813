import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskPhone } from '../../src/logger.js';

function capture(): { lines: () => Array<Record<string, unknown>>; stream: Writable } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, lines: () => text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe(createLogger.name, () => {
  it.each([
    ['a bind password', { bind: { host: 'smsc', password: 'S3cret!' } }, 'S3cret!'],
    ['a top-level password', { password: 'S3cret!' }, 'S3cret!'],
    ['a screen token', { screen: { token: 'tok-123456' } }, 'tok-123456'],
    ['an API key', { apiKey: 'loa_live_abcdef' }, 'loa_live_abcdef'],
    ['an Authorization header', { req: { headers: { authorization: 'Bearer loa_live_abcdef' } } }, 'loa_live_abcdef'],
    ['a subscriber number', { msisdn: '84912345678' }, '84912345678'],
    ['a PDU destination', { pdu: { destination_addr: '84912345678' } }, '84912345678'],
  ])('never writes %s', (_what, fields, secret) => {
    const { stream, lines } = capture();
    createLogger('info', stream).info(fields, 'event');
    expect(JSON.stringify(lines()[0])).not.toContain(secret);
  });

  it('keeps the last three digits of a phone number so support can still tell numbers apart', () => {
    const { stream, lines } = capture();
    createLogger('info', stream).info({ msisdn: '84912345678', carrier: 'vnpt' }, 'submitted');
    expect(lines()[0]).toMatchObject({ msisdn: '********678', carrier: 'vnpt' });
  });

  it('leaves fields that are not secrets alone', () => {
    const { stream, lines } = capture();
    createLogger('info', stream).info({ bind: { host: 'smsc', port: 2775, systemId: 'sttt_ct' } }, 'bound');
    expect(lines()[0]).toMatchObject({ bind: { host: 'smsc', port: 2775, systemId: 'sttt_ct' } });
  });
});

describe(maskPhone.name, () => {
  it.each([
    ['84912345678', '********678'],
    ['123', '***'],
    ['', '***'],
  ])('%j → %j', (input, expected) => {
    expect(maskPhone(input)).toBe(expected);
  });
});
