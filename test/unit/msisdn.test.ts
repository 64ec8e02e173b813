import { describe, expect, it } from 'vitest';
import { msisdnKey, normalizeMsisdn, toNationalForm, type MsisdnInvalidReason } from '../../src/domain/msisdn.js';

// ../shared/reference/vietnam.md "Mobile prefixes": every prefix of every carrier.
const MOBILE_PREFIXES = [
  '086', '096', '097', '098', '032', '033', '034', '035', '036', '037', '038', '039',
  '081', '082', '083', '084', '085', '088', '091', '094', '087',
  '089', '090', '093', '070', '076', '077', '078', '079',
  '092', '052', '056', '058', '059', '099', '055',
];

// ../shared/reference/vietnam.md "2018 conversion of 11-digit numbers": every row.
const CONVERSIONS: Array<[string, string]> = [
  ['0120', '070'], ['0121', '079'], ['0122', '077'], ['0126', '076'], ['0128', '078'],
  ['0123', '083'], ['0124', '084'], ['0125', '085'], ['0127', '081'], ['0129', '082'],
  ['0162', '032'], ['0163', '033'], ['0164', '034'], ['0165', '035'], ['0166', '036'], ['0167', '037'], ['0168', '038'], ['0169', '039'],
  ['0186', '056'], ['0188', '058'],
  ['0199', '059'],
];

const SUBSCRIBER = '1234567';

/** The ways people write one national number 0PPSSSSSSS. */
function spellings(national: string): string[] {
  const [p, a, b, c] = [national.slice(1, 3), national.slice(3, 6), national.slice(6, 8), national.slice(8)];
  return [
    national,
    `84${national.slice(1)}`,
    `+84${national.slice(1)}`,
    `+84 ${p} ${a} ${b}${c}`,
    `+84 (0) ${p} ${a} ${b} ${c}`,
    `0084${national.slice(1)}`,
    `(0${p}) ${a}-${b}${c}`,
    `0${p}.${a}.${b}${c}`,
    `0${p}-${a}-${b}-${c}`,
    ` 0${p} ${a} ${b} ${c} `,
    `\t0${p}\u00a0${a}${b}${c}`,
    `'${national}`,
    national.slice(1), // leading 0 dropped by a spreadsheet
  ];
}

describe(normalizeMsisdn.name, () => {
  it.each(MOBILE_PREFIXES.flatMap((prefix) => spellings(`${prefix}${SUBSCRIBER}`).map((input) => [prefix, input] as const)))(
    'prefix %s: %j',
    (prefix, input) => {
      const sut = normalizeMsisdn(input);
      expect(sut).toEqual({ ok: true, msisdn: `84${prefix.slice(1)}${SUBSCRIBER}`, converted: false });
    },
  );

  it.each(CONVERSIONS.flatMap(([old, now]) => [`${old}${SUBSCRIBER}`, `${old} ${SUBSCRIBER.slice(0, 3)} ${SUBSCRIBER.slice(3)}`, `(${old}) ${SUBSCRIBER}`].map((input) => [old, now, input] as const)))(
    '2018 conversion %s → %s: %j',
    (_, now, input) => {
      const sut = normalizeMsisdn(input);
      expect(sut).toEqual({ ok: true, msisdn: `84${now.slice(1)}${SUBSCRIBER}`, converted: true });
    },
  );

  it.each<[string, string, boolean]>([
    ['a line break inside the number (a wrapped spreadsheet cell)', '0912 345\n678', false],
    ['CRLF inside the number', '091\r\n2345678', false],
    ['a line break after the number', '0912345678\n', false],
    ['an old 11-digit number without its leading 0', '1699876543', true],
    ['the same with separators', '169 987 6543', true],
    ['an old Vinaphone number without its leading 0', '1239876543', true],
  ])('reads %s', (_, input, converted) => {
    const sut = normalizeMsisdn(input);
    expect(sut.ok).toBe(true);
    expect(sut).toMatchObject({ converted });
  });

  it.each<[string, string]>([
    ['1699876543', '84399876543'],
    ['1209876543', '84709876543'],
    ['1869876543', '84569876543'],
  ])('converts %s (01… with its 0 dropped) → %s', (input, expected) => {
    expect(normalizeMsisdn(input)).toEqual({ ok: true, msisdn: expected, converted: true });
  });

  it.each<[string, MsisdnInvalidReason]>([
    ['1309876543', 'unknown-prefix'],
    ['2025550143', 'not-vietnamese'],
  ])('still refuses %s (%s)', (input, reason) => {
    expect(normalizeMsisdn(input)).toMatchObject({ ok: false, reason });
  });

  it.each(CONVERSIONS.map(([old]) => [old, `84${old.slice(1)}${SUBSCRIBER}`] as const))(
    'does not convert %s in international form (%s): the table applies to national input only',
    (_, input) => {
      const sut = normalizeMsisdn(input);
      expect(sut.ok).toBe(false);
    },
  );

  it.each<[string, MsisdnInvalidReason]>([
    ['', 'empty'],
    ['   ', 'empty'],
    ['+', 'empty'],
    ['()-. ', 'empty'],
    ['091234', 'too-short'],
    ['091234567', 'too-short'],
    ['12345', 'too-short'],
    ['8491234567', 'too-short'],
    ['+8491234567', 'too-short'],
    ['091234567890', 'too-long'],
    ['84912345678901', 'too-long'],
    ['0'.repeat(40), 'too-long'],
    ['9'.repeat(10_000), 'too-long'],
    ['09123456ab', 'letters'],
    ['abc', 'letters'],
    ['không có', 'letters'],
    ['9.12345678E+8', 'scientific-notation'],
    ['8.4912E+10', 'scientific-notation'],
    ['8,4912E+10', 'scientific-notation'],
    ['8.49123E10', 'scientific-notation'],
    ['0912E3abc', 'letters'],
    ['091#2345678', 'bad-character'],
    ['0912345678;0987654321', 'bad-character'],
    ['09123+45678', 'bad-character'],
    ['++84912345678', 'bad-character'],
    ['📱0912345678', 'bad-character'],
    ['+1 202 555 0143', 'not-vietnamese'],
    ['+855 12 345 678', 'not-vietnamese'],
    ['0033612345678', 'not-vietnamese'],
    ['12025550143', 'not-vietnamese'],
    ['02923812345', 'landline'],
    ['024 3823 4567', 'landline'],
    ['+84 28 3823 4567', 'landline'],
    ['0801234567', 'unknown-prefix'],
    ['0311234567', 'unknown-prefix'],
    ['0101234567', 'unknown-prefix'],
    ['0501234567', 'unknown-prefix'],
    ['01301234567', 'unknown-prefix'],
    ['01991234567'.replace('0199', '0190'), 'unknown-prefix'],
    ['1900 9095', 'too-short'],
  ])('%j is invalid: %s', (input, reason) => {
    const sut = normalizeMsisdn(input);
    expect(sut.ok).toBe(false);
    if (!sut.ok) {
      expect(sut.reason).toBe(reason);
      expect(sut.message.length).toBeGreaterThan(5);
    }
  });

  it('says an unknown prefix belongs to no Vietnamese mobile network', () => {
    expect(normalizeMsisdn('0801234567')).toMatchObject({ reason: 'unknown-prefix', message: expect.stringMatching(/080 is not allocated to any Vietnamese mobile network/) as unknown });
  });

  it('gives every valid result exactly 11 digits starting with 84', () => {
    for (const prefix of MOBILE_PREFIXES) {
      const sut = normalizeMsisdn(`${prefix}9999999`);
      expect(sut.ok && sut.msisdn).toMatch(/^84[35789]\d{8}$/);
    }
  });
});

describe(msisdnKey.name, () => {
  it('is a distinct integer below 1e9 per number', () => {
    const keys = MOBILE_PREFIXES.map((prefix) => msisdnKey(`84${prefix.slice(1)}${SUBSCRIBER}`));
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) {
      expect(Number.isInteger(key)).toBe(true);
      expect(key).toBeLessThan(1e9);
    }
  });
});

describe(toNationalForm.name, () => {
  it('round-trips through normalizeMsisdn', () => {
    const sut = toNationalForm('84912345678');
    expect(sut).toBe('0912345678');
    expect(normalizeMsisdn(sut)).toMatchObject({ msisdn: '84912345678' });
  });
});
