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
    ['a camelCase destination', { submit: { destinationAddr: '84912345678' } }, '84912345678'],
    ['numbers in an array', { msisdns: ['84912345678', '84387654321'] }, '84387654321'],
    ['a national number in an error detail', { err: { detail: 'Key (list_id, msisdn)=(l, 0912345678) already exists' } }, '0912345678'],
    ['an 11-digit pre-2018 number in a message', { note: 'row 3: 01699876543 converted' }, '01699876543'],
    ['a deeply nested password', { config: { carriers: { viettel: { binds: [{ password: 'S3cret!' }] } } } }, 'S3cret!'],
    ['a nested carrier password', { config: { carriers: { viettel: { password: 'S3cret!' } } } }, 'S3cret!'],
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

  it('leaves fields that are not secrets or numbers alone, including longer digit runs', () => {
    const { stream, lines } = capture();
    createLogger('info', stream).info({ bind: { host: 'smsc', port: 2775, systemId: 'sttt_ct' }, at: 1795296675805, messageId: '840912345678901' }, 'bound');
    expect(lines()[0]).toMatchObject({ bind: { host: 'smsc', port: 2775, systemId: 'sttt_ct' }, at: 1795296675805, messageId: '840912345678901' });
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

describe(`${createLogger.name} with LOG_FORMAT=pretty (issue 7, item 9)`, () => {
  it('writes one readable line in local time, still masking numbers and secrets', async () => {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const sut = createLogger('info', stream, 'pretty');
    sut.info({ msisdn: '84912345678', bind: { password: 'S3cret!' }, carrier: 'vnpt' }, 'submitted');
    await new Promise((resolve) => setImmediate(resolve));
    expect(text.startsWith('{')).toBe(false);
    expect(text).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{4}\] INFO.*submitted/);
    expect(text).toContain('********678');
    expect(text).not.toContain('S3cret!');
    expect(text).not.toContain('\u001b['); // no colour codes unless asked
  });
});
