import { en } from './en.js';
import { vi, type MessageKey } from './vi.js';

export type { MessageKey } from './vi.js';
export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

export const CATALOGUES: Readonly<Record<Language, Readonly<Record<MessageKey, string>>>> = { vi, en };

export type Params = Readonly<Record<string, string | number>>;

/**
 * A key said in plural forms: the catalogues hold `KEY.one` and `KEY.other` (Vietnamese has no
 * plural, so its two are the same text; English needs both), and `t(KEY, { count })` picks the
 * form by the language's plural rule (Intl.PluralRules). `count` may be a formatted number
 * ("1,234"): its digits decide.
 */
export type PluralKey = MessageKey extends infer K ? (K extends `${infer Base}.other` ? Base : never) : never;
export const PLURAL_FORMS = ['one', 'other'] as const;
export type Translate = (key: MessageKey | PluralKey, params?: Params) => string;

/**
 * The language a person reads: LOA_LANG wins, else LANG when it starts with vi or en, else
 * Vietnamese (the officers who run Loa read Vietnamese first). The caller passes the values
 * (src/config.ts reads the environment).
 */
export function pickLanguage(settings: { LOA_LANG?: string | undefined; LANG?: string | undefined }): Language {
  for (const value of [settings.LOA_LANG, settings.LANG]) {
    const code = value?.trim().toLowerCase().slice(0, 2);
    if (code === 'vi' || code === 'en') return code;
  }
  return 'vi';
}

/** `{name}` → params.name; a missing parameter stays visible as `{name}` rather than vanishing. */
export function format(template: string, params: Params = {}): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The count a plural form is chosen by: a number, or the digits of a formatted one. */
function countOf(params: Params | undefined): number {
  const count = params?.count;
  if (typeof count === 'number') return count;
  const digits = String(count ?? '').replace(/[^0-9.-]/g, '');
  return digits === '' ? Number.NaN : Number(digits);
}

export function translator(language: Language): Translate {
  const catalogue: Readonly<Record<string, string>> = CATALOGUES[language];
  const rules = new Intl.PluralRules(language);
  return (key, params) => {
    const template = catalogue[key] ?? catalogue[`${key}.${rules.select(countOf(params))}`] ?? catalogue[`${key}.other`] ?? key;
    return format(template, params);
  };
}
