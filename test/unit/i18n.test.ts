import { describe, expect, it } from 'vitest';
import { PREVIEW_NOTE_CODES, previewNoteKey } from '../../src/domain/audience-preview.js';
import { CAMPAIGN_ISSUE_KEYS } from '../../src/domain/campaign.js';
import { CATALOGUES, format, pickLanguage, translator } from '../../src/i18n/index.js';

describe('catalogues', () => {
  it('have the same keys in every language, none empty', () => {
    const vi = Object.keys(CATALOGUES.vi).sort();
    expect(Object.keys(CATALOGUES.en).sort()).toEqual(vi);
    for (const catalogue of Object.values(CATALOGUES)) for (const text of Object.values(catalogue)) expect(text.trim()).not.toBe('');
  });

  it('use the same parameters in every language', () => {
    const params = (text: string) => [...text.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(CATALOGUES.vi) as Array<keyof typeof CATALOGUES.vi>) {
      expect(params(CATALOGUES.en[key]), key).toEqual(params(CATALOGUES.vi[key]));
    }
  });
});

describe('campaign issues', () => {
  it('have an entry in every catalogue for every kind of problem', () => {
    for (const catalogue of Object.values(CATALOGUES)) for (const key of CAMPAIGN_ISSUE_KEYS) expect(catalogue, key).toHaveProperty([`campaign.${key}`]);
  });
});

describe('preview notes', () => {
  it('have an entry (or plural forms) in every catalogue for every code', () => {
    for (const catalogue of Object.values(CATALOGUES)) {
      for (const code of PREVIEW_NOTE_CODES) expect(previewNoteKey(code) in catalogue || `${previewNoteKey(code)}.other` in catalogue, code).toBe(true);
    }
  });
});

describe(pickLanguage.name, () => {
  it.each([
    [{}, 'vi'],
    [{ LANG: 'en_US.UTF-8' }, 'en'],
    [{ LANG: 'vi_VN.UTF-8' }, 'vi'],
    [{ LANG: 'fr_FR.UTF-8' }, 'vi'],
    [{ LANG: 'C.UTF-8' }, 'vi'],
    [{ LOA_LANG: 'en', LANG: 'vi_VN.UTF-8' }, 'en'],
    [{ LOA_LANG: 'vi', LANG: 'en_US.UTF-8' }, 'vi'],
    [{ LOA_LANG: 'xx', LANG: 'en_GB' }, 'en'],
  ])('%o → %s', (env, expected) => {
    expect(pickLanguage(env)).toBe(expected);
  });
});

describe(format.name, () => {
  it('fills parameters and leaves unknown ones visible', () => {
    expect(format('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it('translates by language', () => {
    expect(translator('en')('error.http', { status: 404, message: 'x' })).toBe('the service answered 404: x');
    expect(translator('vi')('error.http', { status: 404, message: 'x' })).toBe('dịch vụ trả lời 404: x');
  });
});

describe('plural forms', () => {
  it('every KEY.one has a KEY.other in every catalogue', () => {
    for (const catalogue of Object.values(CATALOGUES)) {
      for (const key of Object.keys(catalogue).filter((k) => k.endsWith('.one'))) expect(catalogue, key).toHaveProperty([key.replace(/\.one$/, '.other')]);
    }
  });

  it.each([
    [1, '1 row repeats a number from an earlier row (the last one counts).'],
    [2, '2 rows repeat a number from an earlier row (the last one counts).'],
    [0, '0 rows repeat a number from an earlier row (the last one counts).'],
    ['1,234', '1,234 rows repeat a number from an earlier row (the last one counts).'],
  ])('English picks the form by count: %s', (count, expected) => {
    expect(translator('en')('import.duplicates', { count })).toBe(expected);
  });

  it('Vietnamese has one form', () => {
    const t = translator('vi');
    expect(t('import.duplicates', { count: 1 })).toBe('1 dòng lặp lại một số đã có ở dòng trước (dòng sau cùng được dùng).');
    expect(t('validate.parts', { count: 3 })).toBe('3 phần');
  });

  it('a plain key still wins over plural forms', () => {
    expect(translator('en')('validate.parts', { count: 1 })).toBe('1 part');
    expect(translator('en')('preview.notes')).toBe('Notes:');
  });
});
