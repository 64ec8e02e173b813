import { describe, expect, it } from 'vitest';
import type { MessageState } from '../../src/domain/message-state.js';
import {
  isDeliveryReceipt,
  isIntermediateNotification,
  normalizeMessageId,
  parseReceipt,
  parseReceiptDate,
  ReceiptParseError,
  type ReceiptInput,
} from '../../src/domain/receipt.js';

/** Vietnam wall time → UTC instant, computed independently of the code under test (UTC+7, no DST). */
const vn = (y: number, mo: number, d: number, h: number, mi: number, s = 0): Date => new Date(Date.UTC(y, mo - 1, d, h - 7, mi, s));

const receiptText = (fields: Record<string, string>): string =>
  Object.entries(fields)
    .map(([key, value]) => `${key}:${value}`)
    .join(' ');

const standard = (stat: string, extra: Partial<Record<string, string>> = {}): string =>
  receiptText({ id: '1234567890', sub: '001', dlvrd: '001', 'submit date': '2109230800', 'done date': '2109230801', stat, err: '000', text: 'Xet nghiem la then chot', ...extra } as Record<string, string>);

const receipt = (shortMessage: ReceiptInput['shortMessage'], extra: Partial<ReceiptInput> = {}): ReceiptInput => ({ esmClass: 0x04, shortMessage, ...extra });

describe(isDeliveryReceipt.name, () => {
  it.each(([
    [0x04, true, 'SMSC delivery receipt'],
    [0x44, true, 'receipt with UDHI set'],
    [0x84, true, 'receipt with reply path set'],
    [0xc4, true, 'receipt with both high bits'],
    [0x05, true, 'receipt with messaging mode bits'],
    [0x20, true, 'intermediate delivery notification'],
    [0x00, false, 'mobile-originated message'],
    [0x40, false, 'MO with UDH'],
    [0x08, false, 'SME delivery acknowledgement'],
    [0x10, false, 'SME manual/user acknowledgement'],
    [0x18, false, 'conversation abort'],
    [0x3c, false, 'all type bits set'],
    [0x24, false, 'receipt and intermediate bits both set'],
  ] as Array<[number, boolean, string]>).map(([esmClass, expected, label]) => [`0x${esmClass.toString(16)}`, label, esmClass, expected] as const))('esm_class %s (%s) → receipt %s', (_, __, esmClass, expected) => {
    expect(isDeliveryReceipt(esmClass)).toBe(expected);
  });

  it('tells an intermediate notification apart', () => {
    expect(isIntermediateNotification(0x20)).toBe(true);
    expect(isIntermediateNotification(0x04)).toBe(false);
  });
});

describe(normalizeMessageId.name, () => {
  const values = [0n, 1n, 9n, 10n, 255n, 6699n, 4294967295n, 4294967296n, 18446744073709551615n, 123456789012345678901234567890n];
  it.each(values)('hex and dec spellings of %s normalise to the same id', (value) => {
    const hex = value.toString(16);
    const fromHex = normalizeMessageId(hex, 'hex');
    expect(fromHex).toBe(normalizeMessageId(value.toString(10), 'dec'));
    expect(normalizeMessageId(hex.toUpperCase(), 'hex')).toBe(fromHex);
    expect(normalizeMessageId(`000${hex}`, 'hex')).toBe(fromHex);
    expect(normalizeMessageId(`00${value.toString(10)}`, 'dec')).toBe(fromHex);
    expect(normalizeMessageId(`${hex}\u0000`, 'hex')).toBe(fromHex);
    expect(normalizeMessageId(` ${hex} `, 'hex')).toBe(fromHex);
  });

  it.each([
    ['a non-hex id in hex format', 'msg-ABC-0001', 'hex', 'msg-abc-0001'],
    ['a non-decimal id in dec format', '0A1B', 'dec', 'a1b'],
    ['a UUID', '550E8400-E29B-41D4-A716-446655440000', 'hex', '550e8400-e29b-41d4-a716-446655440000'],
    ['all zeros, non-numeric path', '000x', 'dec', 'x'],
    ['empty', '', 'dec', ''],
  ] as const)('%s', (_, id, format, expected) => {
    expect(normalizeMessageId(id, format)).toBe(expected);
  });

  it('keeps hex and dec of different values apart', () => {
    expect(normalizeMessageId('10', 'hex')).not.toBe(normalizeMessageId('10', 'dec'));
  });
});

describe(parseReceiptDate.name, () => {
  it.each([
    ['2109230800', vn(2021, 9, 23, 8, 0)],
    ['210923080015', vn(2021, 9, 23, 8, 0, 15)],
    ['2001010000', vn(2020, 1, 1, 0, 0)],
    ['2402292359', vn(2024, 2, 29, 23, 59)],
    ['991231235959', vn(2099, 12, 31, 23, 59, 59)],
  ])('%s is Vietnam local time', (value, expected) => {
    expect(parseReceiptDate(value)).toEqual(expected);
  });

  it.each([undefined, '', '21092308', '21092308001', '2113010000', '2100010000', '2102300000', '2301292400', '2109230860', 'abcdefghij'])(
    '%j is not a date',
    (value) => {
      expect(parseReceiptDate(value)).toBeNull();
    },
  );
});

describe(parseReceipt.name, () => {
  it.each<[string, MessageState]>([
    ['DELIVRD', 'delivered'],
    ['EXPIRED', 'expired'],
    ['DELETED', 'deleted'],
    ['UNDELIV', 'undeliverable'],
    ['ACCEPTD', 'accepted'],
    ['UNKNOWN', 'unknown'],
    ['REJECTD', 'rejected'],
    ['ENROUTE', 'enroute'],
  ])('stat:%s → %s', (stat, state) => {
    const sut = parseReceipt(receipt(standard(stat)), 'dec');
    expect(sut?.state).toBe(state);
    expect(sut?.stat).toBe(stat);
    expect(parseReceipt(receipt(standard(stat.toLowerCase())), 'dec')?.state).toBe(state);
  });

  it.each<[number, MessageState]>([
    [1, 'enroute'],
    [2, 'delivered'],
    [3, 'expired'],
    [4, 'deleted'],
    [5, 'undeliverable'],
    [6, 'accepted'],
    [7, 'unknown'],
    [8, 'rejected'],
  ])('message_state %i → %s', (messageState, state) => {
    const sut = parseReceipt(receipt(undefined, { receiptedMessageId: '42', messageState }), 'dec');
    expect(sut).toMatchObject({ messageId: '42', state, stat: null, doneAt: null, error: null });
  });

  it('prefers the TLVs over the text', () => {
    const sut = parseReceipt(receipt(standard('UNDELIV', { id: '999' }), { receiptedMessageId: '7B', messageState: 2 }), 'hex');
    expect(sut?.messageId).toBe('123');
    expect(sut?.state).toBe('delivered');
    // What only the text carries is still read.
    expect(sut?.doneAt).toEqual(vn(2021, 9, 23, 8, 1));
    expect(sut?.submittedParts).toBe(1);
  });

  it('reads every field of a standard receipt', () => {
    const sut = parseReceipt(receipt(Buffer.from(standard('DELIVRD'), 'latin1')), 'dec');
    expect(sut).toEqual({
      messageId: '1234567890',
      state: 'delivered',
      error: null,
      doneAt: vn(2021, 9, 23, 8, 1),
      stat: 'DELIVRD',
      submittedParts: 1,
      deliveredParts: 1,
      intermediate: false,
    });
  });

  it('matches a hex submit id against the dec receipt id', () => {
    const sut = parseReceipt(receipt(standard('DELIVRD', { id: '6699' })), 'dec');
    expect(sut?.messageId).toBe(normalizeMessageId('1A2B', 'hex'));
  });

  const variations: Array<[string, string | Buffer, Partial<{ id: string; state: MessageState; error: string | null; doneAt: Date | null }>]> = [
    ['lower-case keys', 'id:77 sub:001 dlvrd:001 submit date:2109230800 done date:2109230801 stat:DELIVRD err:000 text:abc', { id: '77', state: 'delivered' }],
    ['upper-case keys', 'ID:77 SUB:001 DLVRD:001 SUBMIT DATE:2109230800 DONE DATE:2109230801 STAT:UNDELIV ERR:001 TEXT:abc', { id: '77', state: 'undeliverable', error: '001' }],
    ['mixed-case keys', 'Id:77 Sub:001 Dlvrd:000 Submit Date:2109230800 Done Date:2109230801 Stat:EXPIRED Err:027 Text:', { state: 'expired', error: '027' }],
    ['no text: field', 'id:77 sub:001 dlvrd:001 submit date:2109230800 done date:2109230801 stat:DELIVRD err:000', { id: '77', state: 'delivered', error: null }],
    ['12-digit dates', 'id:77 sub:001 dlvrd:001 submit date:210923080005 done date:210923080159 stat:DELIVRD err:000', { doneAt: vn(2021, 9, 23, 8, 1, 59) }],
    ['underscored date keys', 'id:77 sub:001 dlvrd:001 submit_date:2109230800 done_date:2109230802 stat:DELIVRD err:000', { doneAt: vn(2021, 9, 23, 8, 2) }],
    ['extra spaces', '  id:77   sub:001  dlvrd:001 submit date:2109230800  done date:2109230803   stat:DELIVRD  err:000  text:x  ', { id: '77', doneAt: vn(2021, 9, 23, 8, 3) }],
    ['space after colons', 'id: 77 sub: 001 dlvrd: 001 stat: REJECTD err: 00B', { id: '77', state: 'rejected', error: '00B' }],
    ['hex id with letters', 'id:0A1B2C3D sub:001 dlvrd:001 stat:DELIVRD err:000', { id: normalizeMessageId('A1B2C3D', 'hex') }],
    ['text containing receipt keys', 'id:77 sub:001 dlvrd:001 stat:DELIVRD err:000 text:id:999 stat:UNDELIV err:555', { id: '77', state: 'delivered', error: null }],
    ['NUL-terminated C string', Buffer.from('id:77 sub:001 dlvrd:001 stat:DELIVRD err:000 text:abc\u0000', 'latin1'), { id: '77', state: 'delivered' }],
    ['fields out of order', 'stat:UNDELIV err:069 id:77 dlvrd:000 sub:001', { id: '77', state: 'undeliverable', error: '069' }],
    ['full-word stat', 'id:77 stat:DELIVERED err:0', { state: 'delivered', error: null }],
    ['no err', 'id:77 stat:ACCEPTD', { state: 'accepted', error: null }],
    ['impossible done date', 'id:77 done date:2113450000 stat:DELIVRD', { state: 'delivered', doneAt: null }],
    ['latin-1 bytes in text', Buffer.from([...Buffer.from('id:77 stat:DELIVRD err:000 text:'), 0xe9, 0xff, 0x80]), { id: '77', state: 'delivered' }],
    ['ASCII labelled UCS-2 (raw bytes are still ASCII)', Buffer.from('id:77 stat:EXPIRED err:000', 'latin1'), { state: 'expired' }],
    ['tab-separated', 'id:77\tsub:001\tdlvrd:001\tstat:DELIVRD\terr:000', { id: '77', state: 'delivered' }],
  ];
  it.each(variations)('reads %s', (_, shortMessage, expected) => {
    const sut = parseReceipt(receipt(shortMessage), 'hex');
    expect(sut).not.toBeNull();
    if (expected.id !== undefined) expect(sut?.messageId).toBe(expected.id === '77' ? normalizeMessageId('77', 'hex') : expected.id);
    if (expected.state !== undefined) expect(sut?.state).toBe(expected.state);
    if (expected.error !== undefined) expect(sut?.error).toBe(expected.error);
    if (expected.doneAt !== undefined) expect(sut?.doneAt).toEqual(expected.doneAt);
  });

  it.each<[string, string, { id: string; state: MessageState; error: string | null; doneAt?: Date | null; sub?: number }]>([
    ['text: before stat:', 'id:77 sub:001 dlvrd:001 submit date:2109230800 done date:2109230801 text:Xet nghiem stat:UNDELIV err:069', { id: '77', state: 'undeliverable', error: '069', doneAt: vn(2021, 9, 23, 8, 1) }],
    ['text: first of all', 'text:Xet nghiem la then chot id:77 sub:001 dlvrd:001 stat:DELIVRD err:000', { id: '77', state: 'delivered', error: null, sub: 1 }],
    ['text: between the dates', 'id:77 submit date:2109230800 text:abc done date:2109230805 stat:EXPIRED err:027', { id: '77', state: 'expired', error: '027', doneAt: vn(2021, 9, 23, 8, 5) }],
    ['empty text: before stat:', 'id:77 text: stat:DELIVRD err:000', { id: '77', state: 'delivered', error: null }],
    ['text: before stat:, itself naming keys already read', 'id:77 sub:001 text:call id:999 now stat:REJECTD err:00B', { id: '77', state: 'rejected', error: '00B', sub: 1 }],
    ['text: last, naming keys already read', 'id:77 stat:DELIVRD err:000 text:stat:UNDELIV err:555 id:1', { id: '77', state: 'delivered', error: null }],
    ['upper-case TEXT: before STAT:', 'ID:77 TEXT:abc STAT:ACCEPTD ERR:000', { id: '77', state: 'accepted', error: null }],
  ])('reads %s', (_, text, expected) => {
    const sut = parseReceipt(receipt(text), 'dec');
    expect(sut).toMatchObject({ messageId: expected.id, state: expected.state, error: expected.error });
    if (expected.doneAt !== undefined) expect(sut?.doneAt).toEqual(expected.doneAt);
    if (expected.sub !== undefined) expect(sut?.submittedParts).toBe(expected.sub);
  });

  const BODY = 'id:77 sub:001 dlvrd:001 submit date:2109230800 done date:2109230801 stat:DELIVRD err:000 text:abc';
  it.each<[string, number, Buffer | string]>([
    ['a concatenation UDH (8-bit ref)', 0x44, Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]), Buffer.from(BODY)])],
    ['a concatenation UDH (16-bit ref)', 0x44, Buffer.concat([Buffer.from([0x06, 0x08, 0x04, 0x01, 0x2a, 0x02, 0x02]), Buffer.from(BODY)])],
    ['a UDH on an intermediate notification', 0x60, Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]), Buffer.from(BODY)])],
    ['a UDH in a decoded string', 0x44, `\u0005\u0000\u0003\u002a\u0002\u0001${BODY}`],
    ['UDHI set, string already without UDH', 0x44, BODY],
    ['UDHI set, bytes already without UDH', 0x44, Buffer.from(BODY)],
  ])('skips %s before id:', (_, esmClass, shortMessage) => {
    const sut = parseReceipt({ esmClass, shortMessage }, 'dec');
    expect(sut).toMatchObject({ messageId: '77', state: 'delivered', error: null, doneAt: vn(2021, 9, 23, 8, 1) });
  });

  it('does not skip leading bytes when UDHI is clear', () => {
    const body = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]), Buffer.from(BODY)]);
    expect(() => parseReceipt({ esmClass: 0x04, shortMessage: body }, 'dec')).toThrow(ReceiptParseError);
  });

  it('reports the network error code TLV when the text has none', () => {
    const sut = parseReceipt(receipt(undefined, { receiptedMessageId: '5', messageState: 5, networkErrorCode: Buffer.from([3, 0x00, 0x22]) }), 'dec');
    expect(sut?.error).toBe('network:3:34');
  });

  it('flags an intermediate notification', () => {
    const sut = parseReceipt({ esmClass: 0x20, shortMessage: 'id:5 stat:ENROUTE err:000' }, 'dec');
    expect(sut).toMatchObject({ intermediate: true, state: 'enroute' });
  });

  it.each([0x00, 0x40, 0x08])('returns null for a deliver_sm that is not a receipt (esm_class %#)', (esmClass) => {
    expect(parseReceipt({ esmClass, shortMessage: 'id:5 stat:DELIVRD' }, 'dec')).toBeNull();
  });

  it.each<[string, ReceiptInput]>([
    ['an empty body and no TLVs', receipt(undefined)],
    ['an empty string', receipt('')],
    ['no id', receipt('sub:001 dlvrd:001 stat:DELIVRD err:000')],
    ['an empty id', receipt('id: sub:001 stat:DELIVRD')],
    ['no stat and no message_state', receipt('id:77 sub:001 dlvrd:001 err:000')],
    ['an unknown stat', receipt('id:77 stat:BANANAS err:000')],
    ['a message_state outside 1–8', receipt(undefined, { receiptedMessageId: '5', messageState: 9 })],
    ['a TLV id but no state', receipt(undefined, { receiptedMessageId: '5' })],
    ['free text', receipt('Xin chao, day la tin nhan tu thue bao')],
    ['binary garbage', receipt(Buffer.from([0xff, 0x00, 0x13, 0x37]))],
    ['a huge body without fields', receipt('x'.repeat(100_000))],
  ])('throws ReceiptParseError for %s', (_, input) => {
    expect(() => parseReceipt(input, 'dec')).toThrow(ReceiptParseError);
  });

  it('falls back to stat when message_state is out of range', () => {
    expect(parseReceipt(receipt('id:5 stat:DELIVRD', { messageState: 42 }), 'dec')?.state).toBe('delivered');
  });
});
