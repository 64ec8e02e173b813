import { describe, expect, it } from 'vitest';
import {
  decodeGsm7,
  decodeUcs2,
  encodeMessage,
  EncodingError,
  gsmSeptets,
  stripDiacritics,
  type EncodedMessage,
  type EncodingPolicy,
} from '../../src/domain/encoding.js';

// GSM 03.38 default alphabet transcribed from the spec (3GPP TS 23.038 §6.2.1), independent of the implementation.
const GSM_BASIC: ReadonlyArray<[number, string]> = [
  [0x00, '@'], [0x01, '£'], [0x02, '$'], [0x03, '¥'], [0x04, 'è'], [0x05, 'é'], [0x06, 'ù'], [0x07, 'ì'],
  [0x08, 'ò'], [0x09, 'Ç'], [0x0a, '\n'], [0x0b, 'Ø'], [0x0c, 'ø'], [0x0d, '\r'], [0x0e, 'Å'], [0x0f, 'å'],
  [0x10, 'Δ'], [0x11, '_'], [0x12, 'Φ'], [0x13, 'Γ'], [0x14, 'Λ'], [0x15, 'Ω'], [0x16, 'Π'], [0x17, 'Ψ'],
  [0x18, 'Σ'], [0x19, 'Θ'], [0x1a, 'Ξ'], [0x1c, 'Æ'], [0x1d, 'æ'], [0x1e, 'ß'], [0x1f, 'É'],
  [0x20, ' '], [0x21, '!'], [0x22, '"'], [0x23, '#'], [0x24, '¤'], [0x25, '%'], [0x26, '&'], [0x27, "'"],
  [0x28, '('], [0x29, ')'], [0x2a, '*'], [0x2b, '+'], [0x2c, ','], [0x2d, '-'], [0x2e, '.'], [0x2f, '/'],
  ...[...'0123456789'].map((c, i): [number, string] => [0x30 + i, c]),
  [0x3a, ':'], [0x3b, ';'], [0x3c, '<'], [0x3d, '='], [0x3e, '>'], [0x3f, '?'], [0x40, '¡'],
  ...[...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((c, i): [number, string] => [0x41 + i, c]),
  [0x5b, 'Ä'], [0x5c, 'Ö'], [0x5d, 'Ñ'], [0x5e, 'Ü'], [0x5f, '§'], [0x60, '¿'],
  ...[...'abcdefghijklmnopqrstuvwxyz'].map((c, i): [number, string] => [0x61 + i, c]),
  [0x7b, 'ä'], [0x7c, 'ö'], [0x7d, 'ñ'], [0x7e, 'ü'], [0x7f, 'à'],
];
const GSM_EXTENSION: ReadonlyArray<[number, string]> = [
  [0x0a, '\f'], [0x14, '^'], [0x28, '{'], [0x29, '}'], [0x2f, '\\'], [0x3c, '['], [0x3d, '~'], [0x3e, ']'], [0x40, '|'], [0x65, '€'],
];

const gsm = (text: string, reference = 0): EncodedMessage => encodeMessage(text, { policy: 'gsm7', ucs2Allowed: true, reference });
const ucs2 = (text: string, reference = 0): EncodedMessage => encodeMessage(text, { policy: 'ucs2', ucs2Allowed: true, reference });

function payloadOf(message: EncodedMessage, index: number): Buffer {
  const part = message.parts[index]!;
  return part.udh ? part.shortMessage.subarray(part.udh.length) : part.shortMessage;
}

function reassemble(message: EncodedMessage): string {
  return message.parts.map((_, i) => (message.encoding === 'gsm7' ? decodeGsm7(payloadOf(message, i)) : decodeUcs2(payloadOf(message, i)))).join('');
}

/** Septets a GSM payload holds, counting from the bytes (an ESC and its character are 2). */
const septetsOf = (payload: Buffer): number => payload.length;

// Deterministic pseudo-random texts, so a failure reproduces.
function* randomTexts(alphabet: string[], count: number, maxLength: number): Generator<string> {
  let seed = 42;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let n = 0; n < count; n++) {
    const length = 1 + (next() % maxLength);
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[next() % alphabet.length];
    yield text;
  }
}

const VIETNAMESE_TONES = ['', '\u0301', '\u0300', '\u0309', '\u0303', '\u0323'];
const VIETNAMESE_VOWELS: ReadonlyArray<[string, string]> = [
  ['a', 'a'], ['a\u0306', 'a'], ['a\u0302', 'a'], ['e', 'e'], ['e\u0302', 'e'], ['i', 'i'], ['o', 'o'], ['o\u0302', 'o'],
  ['o\u031b', 'o'], ['u', 'u'], ['u\u031b', 'u'], ['y', 'y'],
];
/** Every Vietnamese vowel with every tone, both cases, precomposed (NFC) as keyboards produce them. */
const VIETNAMESE_LETTERS: ReadonlyArray<[string, string]> = VIETNAMESE_VOWELS.flatMap(([vowel, base]) =>
  VIETNAMESE_TONES.flatMap((tone): Array<[string, string]> => [
    [(vowel + tone).normalize('NFC'), base],
    [(vowel.toUpperCase() + tone).normalize('NFC'), base.toUpperCase()],
  ]),
);

describe(stripDiacritics.name, () => {
  it.each(VIETNAMESE_LETTERS)('strips %s to %s', (letter, base) => {
    expect(letter.length).toBe(1);
    expect(stripDiacritics(letter)).toBe(base);
  });

  it.each([
    ['đ', 'd'],
    ['Đ', 'D'],
    ['Đường dây nóng', 'Duong day nong'],
    ['Sở Thông tin và Truyền thông Cần Thơ', 'So Thong tin va Truyen thong Can Tho'],
    ['Xét nghiệm là then chốt, vắc-xin là căn cơ', 'Xet nghiem la then chot, vac-xin la can co'],
    ['ĐỘC LẬP - TỰ DO - HẠNH PHÚC', 'DOC LAP - TU DO - HANH PHUC'],
    // Decomposed input (NFD, as some Mac keyboards send it) must strip the same way.
    ['Ca\u0300n Tho\u031b', 'Can Tho'],
    ['plain ASCII 123', 'plain ASCII 123'],
    ['emoji 😷 stays', 'emoji 😷 stays'],
  ])('%s → %s', (input, expected) => {
    expect(stripDiacritics(input)).toBe(expected);
  });
});

describe(encodeMessage.name, () => {
  describe('GSM 03.38 tables', () => {
    it.each(GSM_BASIC)('basic 0x%s %j is one septet', (code, char) => {
      const sut = gsm(char);
      expect(sut.encoding).toBe('gsm7');
      expect([...sut.parts[0]!.shortMessage]).toEqual([code]);
      expect(sut.septetsOrUnits).toBe(1);
      expect(gsmSeptets(char)).toBe(1);
    });

    it.each(GSM_EXTENSION)('extension 0x%s %j is ESC + code, two septets', (code, char) => {
      const sut = gsm(char);
      expect(sut.encoding).toBe('gsm7');
      expect([...sut.parts[0]!.shortMessage]).toEqual([0x1b, code]);
      expect(sut.septetsOrUnits).toBe(2);
      expect(gsmSeptets(char)).toBe(2);
    });

    it('does not treat a literal ESC character as encodable', () => {
      expect(gsmSeptets('\u001b')).toBe(0);
    });
  });

  describe('policy', () => {
    const VI = 'Sở TTTT Cần Thơ: Xét nghiệm là then chốt';
    const VI_STRIPPED = 'So TTTT Can Tho: Xet nghiem la then chot';
    const ASCII = 'So TTTT Can Tho: hotline 1900 9095';
    it.each<[EncodingPolicy, boolean, string, 'gsm7' | 'ucs2', string]>([
      ['auto', true, ASCII, 'gsm7', ASCII],
      ['auto', false, ASCII, 'gsm7', ASCII],
      ['auto', true, VI, 'ucs2', VI],
      ['auto', false, VI, 'gsm7', VI_STRIPPED],
      ['auto', true, 'Café à Düsseldorf', 'gsm7', 'Café à Düsseldorf'],
      ['unaccented', true, VI, 'gsm7', VI_STRIPPED],
      ['unaccented', true, 'Café', 'gsm7', 'Cafe'],
      ['unaccented', false, ASCII, 'gsm7', ASCII],
      ['gsm7', true, VI, 'gsm7', VI_STRIPPED],
      ['gsm7', true, 'Café', 'gsm7', 'Café'],
      ['ucs2', true, ASCII, 'ucs2', ASCII],
      ['ucs2', true, VI, 'ucs2', VI],
      ['ucs2', false, VI, 'gsm7', VI_STRIPPED],
      ['ucs2', false, ASCII, 'gsm7', ASCII],
    ])('%s (ucs2Allowed=%s) %j → %s %j', (policy, ucs2Allowed, text, encoding, sent) => {
      const sut = encodeMessage(text, { policy, ucs2Allowed, reference: 1 });
      expect(sut.encoding).toBe(encoding);
      expect(sut.text).toBe(sent);
      expect(sut.stripped).toBe(sent !== text);
      expect(reassemble(sut)).toBe(sent);
      for (const part of sut.parts) expect(part.dataCoding).toBe(encoding === 'gsm7' ? 0 : 8);
    });
  });

  describe('characters no GSM table holds', () => {
    it.each([
      ['emoji', 'Tiêm vắc-xin 💉 ngay', 'Tiem vac-xin ? ngay', ['💉']],
      ['two emoji, one reported', '😷😷 đeo khẩu trang', '?? deo khau trang', ['😷']],
      ['Chinese', '核酸检测 Xét nghiệm', '???? Xet nghiem', ['核', '酸', '检', '测']],
      ['Cyrillic', 'Привет', '??????', ['П', 'р', 'и', 'в', 'е', 'т']],
      ['curly quotes and dash map to ASCII', '“Khẩn” – ‘gấp’…', '"Khan" - \'gap\'...', []],
      ['tab and no-break space become spaces', 'a\tb\u00a0c', 'a b c', []],
    ])('%s: sent as %j and reported', (_, text, sent, replaced) => {
      const sut = encodeMessage(text, { policy: 'auto', ucs2Allowed: false, reference: 0 });
      expect(sut.encoding).toBe('gsm7');
      expect(sut.text).toBe(sent);
      expect(sut.stripped).toBe(true);
      expect(sut.replaced).toEqual(replaced);
      expect(reassemble(sut)).toBe(sent);
    });

    it('keeps emoji intact in UCS-2', () => {
      const sut = encodeMessage('Tiêm 💉', { policy: 'auto', ucs2Allowed: true, reference: 0 });
      expect(sut.encoding).toBe('ucs2');
      expect(sut.septetsOrUnits).toBe('Tiêm 💉'.length);
      expect(reassemble(sut)).toBe('Tiêm 💉');
    });
  });

  describe('segmentation', () => {
    it.each([
      { encoding: 'gsm7', label: 'a', text: 'a', count: 1, sizes: [1] },
      { encoding: 'gsm7', label: 'a.repeat(160)', text: 'a'.repeat(160), count: 1, sizes: [160] },
      { encoding: 'gsm7', label: 'a.repeat(161)', text: 'a'.repeat(161), count: 2, sizes: [153, 8] },
      { encoding: 'gsm7', label: 'a.repeat(306)', text: 'a'.repeat(306), count: 2, sizes: [153, 153] },
      { encoding: 'gsm7', label: 'a.repeat(307)', text: 'a'.repeat(307), count: 3, sizes: [153, 153, 1] },
      { encoding: 'gsm7', label: '€.repeat(80)', text: '€'.repeat(80), count: 1, sizes: [160] },
      { encoding: 'gsm7', label: '€.repeat(81)', text: '€'.repeat(81), count: 2, sizes: [152, 10] },
      { encoding: 'ucs2', label: 'ạ', text: 'ạ', count: 1, sizes: [1] },
      { encoding: 'ucs2', label: 'ạ.repeat(70)', text: 'ạ'.repeat(70), count: 1, sizes: [70] },
      { encoding: 'ucs2', label: 'ạ.repeat(71)', text: 'ạ'.repeat(71), count: 2, sizes: [67, 4] },
      { encoding: 'ucs2', label: 'ạ.repeat(134)', text: 'ạ'.repeat(134), count: 2, sizes: [67, 67] },
      { encoding: 'ucs2', label: 'ạ.repeat(135)', text: 'ạ'.repeat(135), count: 3, sizes: [67, 67, 1] },
    ] as const)('$encoding $label → $count parts $sizes', ({ encoding, text, count, sizes }) => {
      const sut = encoding === 'gsm7' ? gsm(text) : ucs2(text);
      expect(sut.parts).toHaveLength(count);
      const unit = encoding === 'gsm7' ? 1 : 2;
      expect(sut.parts.map((_, i) => payloadOf(sut, i).length / unit)).toEqual(sizes);
    });

    it.each([
      // 152 plain septets, then an escape pair that would straddle the 153-septet boundary.
      ['escape pair at the GSM part boundary', 'a'.repeat(152) + '€' + 'b'.repeat(20), 152],
      ['escape pair exactly fitting the part', 'a'.repeat(151) + '[' + 'b'.repeat(20), 153],
      ['run of escapes', '{}'.repeat(100), 152],
    ])('never splits an %s', (_, text, firstPartSeptets) => {
      const sut = gsm(text);
      const first = payloadOf(sut, 0);
      expect(septetsOf(first)).toBe(firstPartSeptets);
      for (let i = 0; i < sut.parts.length; i++) {
        const payload = payloadOf(sut, i);
        expect(payload[payload.length - 1]).not.toBe(0x1b);
        expect(payload.length).toBeLessThanOrEqual(153);
      }
      expect(reassemble(sut)).toBe(text);
    });

    it.each([
      ['surrogate pair at the UCS-2 part boundary', 'ạ'.repeat(66) + '😷' + 'b'.repeat(10), 66],
      ['surrogate pair exactly fitting the part', 'ạ'.repeat(65) + '😷' + 'b'.repeat(10), 67],
      ['run of emoji', '😷'.repeat(50), 66],
    ])('never splits a %s', (_, text, firstPartUnits) => {
      const sut = ucs2(text);
      expect(payloadOf(sut, 0).length / 2).toBe(firstPartUnits);
      for (let i = 0; i < sut.parts.length; i++) {
        const payload = payloadOf(sut, i);
        const lastUnit = payload.readUInt16BE(payload.length - 2);
        expect(lastUnit >= 0xd800 && lastUnit <= 0xdbff).toBe(false);
      }
      expect(reassemble(sut)).toBe(text);
    });

    it('builds a consistent UDH and esm_class on every part', () => {
      const sut = encodeMessage('Xét nghiệm là then chốt. '.repeat(10), { policy: 'auto', ucs2Allowed: true, reference: 201 });
      expect(sut.parts.length).toBeGreaterThan(1);
      sut.parts.forEach((part, i) => {
        expect([...part.udh!]).toEqual([0x05, 0x00, 0x03, 201, sut.parts.length, i + 1]);
        expect(part.shortMessage.subarray(0, 6).equals(part.udh!)).toBe(true);
        expect(part.esmClass).toBe(0x40);
        expect(part.partNumber).toBe(i + 1);
        expect(part.partCount).toBe(sut.parts.length);
        expect(part.reference).toBe(201);
      });
    });

    it('sends a single part without UDH', () => {
      const sut = gsm('Hello');
      expect(sut.parts).toHaveLength(1);
      expect(sut.parts[0]!.udh).toBeNull();
      expect(sut.parts[0]!.esmClass).toBe(0);
      expect(sut.parts[0]!.shortMessage.toString('latin1')).toBe('Hello');
    });

    const gsmAlphabet = [...GSM_BASIC.map(([, c]) => c), ...GSM_EXTENSION.map(([, c]) => c)];
    const ucsAlphabet = [...gsmAlphabet, 'ạ', 'Đ', 'ữ', '😷', '💉', '核'];
    it.each([
      ['GSM', [...randomTexts(gsmAlphabet, 300, 700)]],
      ['UCS-2', [...randomTexts(ucsAlphabet, 300, 400)]],
    ])('round-trips random %s texts within the 140-octet air limit', (_, texts) => {
      for (const text of texts) {
        const sut = encodeMessage(text, { policy: 'auto', ucs2Allowed: true, reference: 9 });
        expect(reassemble(sut)).toBe(text);
        for (const part of sut.parts) {
          const udhOctets = part.udh?.length ?? 0;
          const payloadOctets = part.shortMessage.length - udhOctets;
          // On the air GSM is packed 7 bits per septet (after the UDH, padded to a septet boundary).
          const airBits = sut.encoding === 'gsm7' ? Math.ceil((udhOctets * 8) / 7) * 7 + payloadOctets * 7 : (udhOctets + payloadOctets) * 8;
          expect(airBits).toBeLessThanOrEqual(140 * 8);
          expect(part.shortMessage.length).toBeLessThanOrEqual(254);
        }
        expect(sut.septetsOrUnits).toBe(
          sut.encoding === 'gsm7' ? sut.parts.reduce((n, _, i) => n + septetsOf(payloadOf(sut, i)), 0) : text.length,
        );
      }
    });
  });

  describe('NFC before encoding', () => {
    const VI = 'Sở TTTT Cần Thơ: Xét nghiệm là then chốt, vắc-xin là căn cơ. Đường dây nóng 1900 9095';
    it.each<[string, EncodingPolicy, boolean, string, 'gsm7' | 'ucs2', string]>([
      ['decomposed Vietnamese costs what composed does', 'auto', true, VI.normalize('NFD'), 'ucs2', VI],
      ['decomposed "café" is GSM (é is in the table)', 'auto', true, 'cafe\u0301', 'gsm7', 'café'],
      ['decomposed "Ça va" is GSM', 'gsm7', true, 'C\u0327a va', 'gsm7', 'Ça va'],
      ['decomposed Vietnamese stripped for a carrier refusing UCS-2', 'auto', false, 'Ca\u0300\u0302n Tho\u031b', 'gsm7', 'Can Tho'],
      ['decomposed text under ucs2', 'ucs2', true, 'Vie\u0323\u0302t', 'ucs2', 'Việt'],
    ])('%s', (_, policy, ucs2Allowed, text, encoding, sent) => {
      const sut = encodeMessage(text, { policy, ucs2Allowed, reference: 0 });
      const composed = encodeMessage(text.normalize('NFC'), { policy, ucs2Allowed, reference: 0 });
      expect(sut.encoding).toBe(encoding);
      expect(sut.text).toBe(sent);
      expect(reassemble(sut)).toBe(sent);
      expect(sut.parts).toHaveLength(composed.parts.length);
      expect(sut.septetsOrUnits).toBe(composed.septetsOrUnits);
      // Composing is not a change the preview should flag as "without diacritics".
      expect(sut.stripped).toBe(composed.stripped);
    });
  });

  describe('GSM fallback keeps what GSM can carry', () => {
    it.each<[string, EncodingPolicy, string, string]>([
      ['Ç in a Vietnamese text (ç, not in GSM, is stripped)', 'auto', 'François Ç: Xét nghiệm', 'Francois Ç: Xet nghiem'],
      ['German letters next to Vietnamese', 'gsm7', 'Düsseldorf Ñ ø Å – Cần Thơ', 'Düsseldorf Ñ ø Å - Can Tho'],
      ['Vietnamese letters that GSM has are stripped with the rest', 'auto', 'Xét nghiệm là then chốt', 'Xet nghiem la then chot'],
      ['ç (not in GSM) loses its cedilla', 'gsm7', 'façade Cần', 'facade Can'],
      ['unaccented strips everything on request', 'unaccented', 'François Ç: Xét nghiệm', 'Francois C: Xet nghiem'],
    ])('%s', (_, policy, text, sent) => {
      const sut = encodeMessage(text, { policy, ucs2Allowed: false, reference: 0 });
      expect(sut.encoding).toBe('gsm7');
      expect(sut.text).toBe(sent);
      expect(reassemble(sut)).toBe(sent);
      expect(sut.replaced).toEqual([]);
    });
  });

  describe('errors', () => {
    it.each([
      ['empty text', 'empty', '', 0],
      ['a lone combining mark', 'empty', '\u0301', 0],
      ['only combining marks', 'empty', '\u0300\u0301\u0323\u0309', 0],
      ['reference below 0', 'bad-reference', 'x', -1],
      ['reference above 255', 'bad-reference', 'x', 256],
      ['fractional reference', 'bad-reference', 'x', 1.5],
      ['more than 255 GSM parts', 'too-long', 'a'.repeat(153 * 255 + 1), 0],
      ['more than 255 UCS-2 parts', 'too-long', 'ạ'.repeat(67 * 255 + 1), 0],
    ])('%s throws EncodingError(%s)', (_, code, text, reference) => {
      const act = (): EncodedMessage => encodeMessage(text, { policy: 'auto', ucs2Allowed: true, reference });
      expect(act).toThrow(EncodingError);
      expect(act).toThrow(expect.objectContaining({ code }));
    });

    it.each([
      ['GSM', 'a'.repeat(153 * 255)],
      ['UCS-2', 'ạ'.repeat(67 * 255)],
    ])('accepts exactly 255 %s parts', (_, text) => {
      expect(encodeMessage(text, { policy: 'auto', ucs2Allowed: true, reference: 0 }).parts).toHaveLength(255);
    });
  });
});
