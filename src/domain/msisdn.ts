/**
 * Vietnamese mobile number normalisation to E.164 digits without '+' (84XXXXXXXXX).
 * Hot path of audience import and compile (millions of rows): one pass over the characters,
 * no regular expressions, table look-ups by integer index.
 */
import { MOBILE_PREFIXES, PREFIX_CONVERSION_2018 } from './numbering-plan.js';

export type MsisdnInvalidReason =
  | 'empty'
  | 'too-short'
  | 'too-long'
  | 'letters'
  | 'scientific-notation'
  | 'bad-character'
  | 'not-vietnamese'
  | 'landline'
  | 'unknown-prefix';

export const MSISDN_INVALID_REASONS: readonly MsisdnInvalidReason[] = [
  'empty',
  'too-short',
  'too-long',
  'letters',
  'scientific-notation',
  'bad-character',
  'not-vietnamese',
  'landline',
  'unknown-prefix',
];

export type MsisdnResult =
  | {
      ok: true;
      /** E.164 digits without '+', e.g. 84912345678. */
      msisdn: string;
      /** True when a pre-2018 11-digit number was converted (0169… → 039…). */
      converted: boolean;
    }
  | { ok: false; reason: MsisdnInvalidReason; message: string };

const MESSAGES: Readonly<Record<MsisdnInvalidReason, string>> = {
  empty: 'no phone number',
  'too-short': 'too few digits for a Vietnamese mobile number (0XXXXXXXXX, 10 digits)',
  'too-long': 'too many digits for a Vietnamese mobile number (0XXXXXXXXX, 10 digits)',
  letters: 'contains letters',
  'scientific-notation': 'the spreadsheet turned this number into scientific notation; format the column as text and export again',
  'bad-character': 'contains characters other than digits, spaces, dots, dashes, parentheses and a leading +',
  'not-vietnamese': 'not a Vietnamese number (country code is not 84)',
  landline: 'a landline number (area code 02x); SMS needs a mobile number',
  'unknown-prefix': 'not an allocated Vietnamese mobile prefix',
};

function invalid(reason: MsisdnInvalidReason, detail?: string): MsisdnResult {
  return { ok: false, reason, message: detail ? `${MESSAGES[reason]}: ${detail}` : MESSAGES[reason] };
}

// Index = the two digits after the trunk 0 (e.g. 91 for 091); true when an allocated mobile prefix.
const MOBILE = new Uint8Array(100);
for (const prefix of Object.keys(MOBILE_PREFIXES)) MOBILE[Number(prefix.slice(1))] = 1;
// Index = the three digits after the trunk 0 of an old 11-digit number (e.g. 169 for 0169) → new 2 digits + 1, 0 when none.
const CONVERSION = new Uint8Array(1000);
for (const [old, now] of Object.entries(PREFIX_CONVERSION_2018)) CONVERSION[Number(old.slice(1))] = Number(now.slice(1)) + 1;

const MAX_DIGITS = 15; // E.164 maximum; anything longer is rejected without reading further.

/** Digits as char codes; `+` allowed only before the first digit. */
function isSeparator(code: number): boolean {
  // space, tab, CR (a CSV with mixed line endings), LF (a line break inside a quoted spreadsheet cell), NBSP, '.', '-', '(', ')',
  // '/', the apostrophe spreadsheets use to keep a leading 0, and the dash look-alikes word processors produce.
  return (
    code === 0x20 ||
    code === 0x09 ||
    code === 0x0d ||
    code === 0x0a ||
    code === 0xa0 ||
    code === 0x2e ||
    code === 0x2d ||
    code === 0x28 ||
    code === 0x29 ||
    code === 0x2f ||
    code === 0x27 ||
    code === 0x2010 ||
    code === 0x2013
  );
}

const LETTER = /\p{L}/u;
// 8.4912E+10, 8,4912E+10 (a Vietnamese decimal comma), 8.49123E10: a number column a spreadsheet
// stored as a float and exported in its display format. The digits after the first few are lost.
const SCIENTIFIC = /^\s*\d+(?:[.,]\d+)?[eE]\+?\d+\s*$/;

/**
 * Normalise `0912345678`, `84912345678`, `+84 91 234 5678`, `(091) 234-5678`, `091.234.5678`,
 * `0084…`, `+84 (0) 91…`, a 9-digit number whose leading 0 a spreadsheet dropped, and a pre-2018
 * 11-digit national number (converted by the 2018 table, also with its leading 0 dropped) to `84XXXXXXXXX`.
 */
export function normalizeMsisdn(input: string): MsisdnResult {
  let digits = '';
  let plus = false;
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) {
      if (digits.length === MAX_DIGITS) return invalid('too-long');
      digits += input[i];
    } else if (code === 0x2b && digits.length === 0 && !plus) {
      plus = true;
    } else if (!isSeparator(code)) {
      // Only on the way out, so the regular expression costs nothing for valid numbers.
      if (SCIENTIFIC.test(input)) {
        return { ok: false, reason: 'scientific-notation', message: `the spreadsheet turned this number into ${input.trim()}; format the column as text and export again` };
      }
      return invalid(LETTER.test(String.fromCodePoint(input.codePointAt(i) ?? code)) ? 'letters' : 'bad-character');
    }
  }
  const length = digits.length;
  if (length === 0) return invalid('empty');
  if (length < 9) return invalid('too-short');

  // Reduce to the national significant number (9 digits for today's mobiles, 10 for pre-2018).
  let national: string;
  let convertible = false;
  if (plus || digits.startsWith('00')) {
    const international = plus ? digits : digits.slice(2);
    if (!international.startsWith('84')) return invalid('not-vietnamese');
    national = international.slice(2);
    // "+84 (0) 91 …": the trunk 0 written after the country code.
    if (national.length === 10 && national.charCodeAt(0) === 0x30) national = national.slice(1);
  } else if (digits.charCodeAt(0) === 0x30) {
    national = digits.slice(1);
    convertible = national.length === 10;
  } else if (length >= 11 && digits.startsWith('84')) {
    national = digits.slice(2);
    if (national.length === 10 && national.charCodeAt(0) === 0x30) national = national.slice(1);
  } else if (length === 9) {
    // A spreadsheet read the number as an integer and dropped the trunk 0.
    national = digits;
  } else if (length === 10 && digits.charCodeAt(0) === 0x31) {
    // The same for a pre-2018 11-digit number: 1699876543 was 01699876543, still converted.
    national = digits;
    convertible = true;
  } else if (length === 10 && digits.startsWith('84')) {
    return invalid('too-short', 'country code 84 followed by only 8 digits');
  } else {
    return invalid(length > 12 ? 'too-long' : 'not-vietnamese');
  }

  const first = national.charCodeAt(0);
  if (first === 0x32) return invalid('landline'); // 02x area codes since 2017
  let converted = false;
  if (national.length === 10) {
    if (first === 0x31) {
      if (!convertible) return invalid('unknown-prefix', 'a pre-2018 11-digit number is converted only from national form (01xx…)');
      const mapped = CONVERSION[Number(national.slice(0, 3))] ?? 0;
      if (mapped === 0) return invalid('unknown-prefix', `no 2018 conversion for 0${national.slice(0, 3)}`);
      national = String(mapped - 1).padStart(2, '0') + national.slice(3);
      converted = true;
    } else {
      return invalid('too-long');
    }
  } else if (national.length < 9) {
    return invalid('too-short');
  } else if (national.length > 9) {
    return invalid('too-long');
  }
  if (MOBILE[Number(national.slice(0, 2))] !== 1) {
    return invalid('unknown-prefix', `0${national.slice(0, 2)} is not allocated to any Vietnamese mobile network (Viettel, VNPT, Mobifone, Vietnamobile, Gmobile, Reddi, iTel)`);
  }
  return { ok: true, msisdn: `84${national}`, converted };
}

/** The 9 national digits of a normalised MSISDN as a number (< 1e9): a compact dedupe key. */
export function msisdnKey(msisdn: string): number {
  return Number(msisdn.slice(2));
}

/** `84912345678` → `0912345678`. */
export function toNationalForm(msisdn: string): string {
  return `0${msisdn.slice(2)}`;
}
