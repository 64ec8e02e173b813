/**
 * SMS text encoding and segmentation (GSM 03.38 / UCS-2, 8-bit concatenation UDH).
 * See ../shared/reference/smpp.md "Long messages" and vietnam.md "Sender names".
 */
import { DomainError } from './errors.js';

export type EncodingPolicy = 'auto' | 'gsm7' | 'ucs2' | 'unaccented';
export const ENCODING_POLICIES: readonly EncodingPolicy[] = ['auto', 'gsm7', 'ucs2', 'unaccented'];

export interface MessagePart {
  /** submit_sm short_message: UDH (if any) + payload. GSM 03.38 unpacked (one septet per octet, data_coding 0); UCS-2 as UTF-16BE. */
  shortMessage: Buffer;
  /** 0 for GSM 03.38 (SMSC default alphabet), 8 for UCS-2. */
  dataCoding: number;
  /** 0x40 (UDHI) when a UDH is present, else 0. */
  esmClass: number;
  /** `05 00 03 ref total seq`, or null for a single-part message. */
  udh: Buffer | null;
  /** 1-based. */
  partNumber: number;
  partCount: number;
  /** 8-bit concatenation reference (0–255). */
  reference: number;
}

export interface EncodedMessage {
  encoding: 'gsm7' | 'ucs2';
  /** The text actually sent, after any stripping or replacement. */
  text: string;
  /** True when the text sent differs from the text given (diacritics stripped or characters replaced). */
  stripped: boolean;
  /** Characters (code points) that no GSM 03.38 table holds even after stripping; each was sent as '?'. */
  replaced: string[];
  parts: MessagePart[];
  /** Total GSM septets (extension characters count 2) or UTF-16 code units. */
  septetsOrUnits: number;
}

export interface EncodeOptions {
  policy: EncodingPolicy;
  /** Whether the carrier accepts UCS-2 on the brandname (CarrierProfile.ucs2WithBrandname). */
  ucs2Allowed: boolean;
  /** 8-bit concatenation reference shared by all parts. */
  reference: number;
}

export type EncodingErrorCode = 'empty' | 'too-long' | 'bad-reference';

/** Which message a person reads (`encoding.<problem>` in the catalogues), with `params`. */
export type EncodingProblem = 'empty' | 'onlyMarks' | 'tooLong' | 'badReference';

export class EncodingError extends DomainError {
  override name = 'EncodingError';
  constructor(
    override readonly code: EncodingErrorCode,
    message: string,
    readonly problem: EncodingProblem = code === 'too-long' ? 'tooLong' : code === 'bad-reference' ? 'badReference' : 'empty',
    readonly params: Readonly<Record<string, string | number>> = {},
  ) {
    super(code, message);
  }
}

export const GSM7_SINGLE = 160;
export const GSM7_PART = 153;
export const UCS2_SINGLE = 70;
export const UCS2_PART = 67;
/** The UDH's total/sequence fields are one octet. */
export const MAX_PARTS = 255;

const ESC = 0x1b;
const EXTENDED = 0x100;

// GSM 03.38 default alphabet, index = septet value. 0x1B is the escape to the extension table, not a character.
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// GSM 03.38 extension table (after ESC): form feed, ^ { } \ [ ~ ] | €.
const EXTENSION: ReadonlyArray<readonly [string, number]> = [
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
];

/** UTF-16 code unit → septet (0–127), EXTENDED|septet for the extension table, -1 when not encodable. Every GSM character is in the BMP. */
const SEPTET = new Int16Array(0x10000).fill(-1);
for (let i = 0; i < BASIC.length; i++) if (i !== ESC) SEPTET[BASIC.charCodeAt(i)] = i;
for (const [char, code] of EXTENSION) SEPTET[char.charCodeAt(0)] = EXTENDED | code;

/** Septets a character costs in GSM 03.38 (1 or 2), or 0 when it has no GSM encoding. */
export function gsmSeptets(char: string): number {
  if (char.length !== 1) return 0;
  const septet = SEPTET[char.charCodeAt(0)] ?? -1;
  return septet < 0 ? 0 : septet & EXTENDED ? 2 : 1;
}

export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) if ((SEPTET[text.charCodeAt(i)] ?? -1) < 0) return false;
  return true;
}

// Punctuation that word processors put into texts and that has a plain GSM equivalent; without
// this, a curly quote in an otherwise ASCII text would force UCS-2 or become '?'.
const LOOKALIKES: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u00a0': ' ',
  '\u2007': ' ',
  '\u202f': ' ',
  '\t': ' ',
  '\u00ab': '"',
  '\u00bb': '"',
};

const COMBINING_MARKS = /[\u0300-\u036f]/g;
const ONLY_MARKS = /^\p{M}+$/u;

/**
 * Vietnamese without diacritics ("không dấu"): all tone and vowel marks removed, đ→d and Đ→D
 * (NFD does not decompose đ, it is a distinct letter, not d + a mark).
 */
export function stripDiacritics(text: string): string {
  return text.normalize('NFD').replace(COMBINING_MARKS, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').normalize('NFC');
}

interface GsmText {
  text: string;
  replaced: string[];
}

// GSM letters that are also Vietnamese toned vowels. The fallback strips them with the rest of the
// Vietnamese, or "Xét nghiệm là" would go out as "Xét nghiem là": tone marks on some words only.
const VIETNAMESE_IN_GSM = new Set(['à', 'è', 'é', 'ì', 'ò', 'ù', 'É']);

/**
 * Strip the diacritics GSM cannot carry, map look-alike punctuation, and replace whatever is still
 * not GSM with '?'. Letters GSM has (Ç, Ä, ñ, ø …) are kept: stripping them would lose what the
 * alphabet could send, except the Vietnamese ones above.
 */
function toGsmText(original: string): GsmText {
  let text = '';
  const replaced = new Set<string>();
  // for…of walks code points, so an emoji (surrogate pair) becomes one '?', not two.
  for (const char of original) {
    if (char.length === 1 && (SEPTET[char.charCodeAt(0)] ?? -1) >= 0 && !VIETNAMESE_IN_GSM.has(char)) {
      text += char;
      continue;
    }
    const bare = stripDiacritics(char);
    if (bare !== char && isGsm7(bare)) text += bare;
    else if (LOOKALIKES[char] !== undefined) text += LOOKALIKES[char];
    else {
      text += '?';
      replaced.add(char);
    }
  }
  return { text, replaced: [...replaced] };
}

/**
 * Octets for a part: a Buffer under Node (the smpp library writes only Buffers), a plain
 * Uint8Array in the console's browser bundle, which runs this module to count parts as one types.
 * Nothing below uses a Buffer-only method, so both behave the same.
 */
const allocBytes: (length: number) => Buffer = typeof Buffer === 'function' ? (length) => Buffer.allocUnsafe(length) : (length) => new Uint8Array(length) as Buffer;

function bytesOf(values: readonly number[]): Buffer {
  const bytes = allocBytes(values.length);
  bytes.set(values);
  return bytes;
}

function concatBytes(first: Uint8Array, second: Uint8Array): Buffer {
  const bytes = allocBytes(first.length + second.length);
  bytes.set(first, 0);
  bytes.set(second, first.length);
  return bytes;
}

function udhFor(reference: number, total: number, sequence: number): Buffer {
  return bytesOf([0x05, 0x00, 0x03, reference, total, sequence]);
}

function assemble(payloads: Buffer[], dataCoding: number, reference: number): MessagePart[] {
  if (payloads.length > MAX_PARTS) {
    throw new EncodingError('too-long', `message needs ${payloads.length} parts; a concatenated SMS has at most ${MAX_PARTS}`, 'tooLong', { count: payloads.length, max: MAX_PARTS });
  }
  const partCount = payloads.length;
  return payloads.map((payload, index) => {
    const udh = partCount > 1 ? udhFor(reference, partCount, index + 1) : null;
    return {
      shortMessage: udh ? concatBytes(udh, payload) : payload,
      dataCoding,
      esmClass: udh ? 0x40 : 0,
      udh,
      partNumber: index + 1,
      partCount,
      reference,
    };
  });
}

function gsmSeptetCount(text: string): number {
  let septets = 0;
  for (let i = 0; i < text.length; i++) septets += (SEPTET[text.charCodeAt(i)] ?? 0) & EXTENDED ? 2 : 1;
  return septets;
}

/** Split into GSM payloads; an escape pair always stays within one part. `text` must be GSM-encodable. */
function gsmPayloads(text: string, total: number): Buffer[] {
  const limit = total <= GSM7_SINGLE ? GSM7_SINGLE : GSM7_PART;
  const payloads: Buffer[] = [];
  let current = allocBytes(limit);
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    const septet = SEPTET[text.charCodeAt(i)] ?? -1;
    const cost = septet & EXTENDED ? 2 : 1;
    if (used + cost > limit) {
      payloads.push(current.subarray(0, used));
      current = allocBytes(limit);
      used = 0;
    }
    if (cost === 2) current[used++] = ESC;
    current[used++] = septet & 0x7f;
  }
  payloads.push(current.subarray(0, used));
  return payloads;
}

/** Split into UTF-16BE payloads; a surrogate pair always stays within one part. */
function ucs2Payloads(text: string): Buffer[] {
  const limit = text.length <= UCS2_SINGLE ? UCS2_SINGLE : UCS2_PART;
  const payloads: Buffer[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + limit, text.length);
    const last = text.charCodeAt(end - 1);
    // A high surrogate as the last unit of a part would orphan its low surrogate in the next one.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const payload = allocBytes((end - start) * 2);
    for (let i = start; i < end; i++) {
      const unit = text.charCodeAt(i);
      payload[(i - start) * 2] = unit >> 8;
      payload[(i - start) * 2 + 1] = unit & 0xff;
    }
    payloads.push(payload);
    start = end;
  }
  return payloads;
}

function encodeGsm(original: string, text: string, replaced: string[], reference: number): EncodedMessage {
  const septets = gsmSeptetCount(text);
  return {
    encoding: 'gsm7',
    text,
    stripped: text !== original,
    replaced,
    parts: assemble(gsmPayloads(text, septets), 0, reference),
    septetsOrUnits: septets,
  };
}

function encodeUcs2(text: string, reference: number): EncodedMessage {
  return {
    encoding: 'ucs2',
    text,
    stripped: false,
    replaced: [],
    parts: assemble(ucs2Payloads(text), 8, reference),
    septetsOrUnits: text.length,
  };
}

/**
 * Encode and split a message for submit_sm.
 * - auto: GSM 03.38 when every character is in it; else UCS-2 when the carrier allows it on
 *   the brandname; else diacritics are stripped and the rest is GSM (unencodable → '?').
 * - unaccented: always stripped, then GSM.
 * - gsm7: GSM, stripping only when the text is not already GSM.
 * - ucs2: UCS-2; when the carrier refuses UCS-2 on the brandname, stripped to GSM instead.
 */
export function encodeMessage(input: string, options: EncodeOptions): EncodedMessage {
  const { policy, ucs2Allowed, reference } = options;
  // Composed form first: decomposed Vietnamese (macOS files, some IMEs) is ~26 % longer in UCS-2
  // and hides GSM letters (NFD "café" is 'e' + U+0301, which GSM lacks). What we measure, split
  // and send is the NFC text, so it is also what `text` reports and `stripped` compares against.
  const text = input.normalize('NFC');
  if (text.length === 0) throw new EncodingError('empty', 'message text is empty');
  // Nothing but combining marks would strip to nothing and go out as an empty part.
  if (ONLY_MARKS.test(text)) throw new EncodingError('empty', 'message text has only combining marks, no letters', 'onlyMarks');
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) {
    throw new EncodingError('bad-reference', `concatenation reference must be an integer 0–255, got ${reference}`, 'badReference', { value: String(reference) });
  }
  if (policy === 'ucs2' && ucs2Allowed) return encodeUcs2(text, reference);
  if ((policy === 'auto' || policy === 'gsm7') && isGsm7(text)) return encodeGsm(text, text, [], reference);
  if (policy === 'auto' && ucs2Allowed) return encodeUcs2(text, reference);
  // unaccented is "không dấu" on request: every diacritic goes, even those GSM could carry.
  const gsm = toGsmText(policy === 'unaccented' ? stripDiacritics(text) : text);
  return encodeGsm(text, gsm.text, gsm.replaced, reference);
}

/** Decode an unpacked GSM 03.38 payload (one septet per octet) back to text; used by the simulator and tests. */
export function decodeGsm7(payload: Uint8Array): string {
  let text = '';
  for (let i = 0; i < payload.length; i++) {
    const septet = payload[i] ?? 0;
    if (septet === ESC && i + 1 < payload.length) {
      const code = payload[++i] ?? 0;
      const entry = EXTENSION.find(([, value]) => value === code);
      text += entry ? entry[0] : ' ';
    } else {
      text += BASIC[septet & 0x7f] ?? '?';
    }
  }
  return text;
}

/** Decode a UCS-2 (UTF-16BE) payload. */
export function decodeUcs2(payload: Uint8Array): string {
  let text = '';
  for (let i = 0; i + 1 < payload.length; i += 2) text += String.fromCharCode(((payload[i] ?? 0) << 8) | (payload[i + 1] ?? 0));
  return text;
}
