import { en } from './en.js';
import { vi, type MessageKey } from './vi.js';

export type { MessageKey } from './vi.js';
export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

export const CATALOGUES: Readonly<Record<Language, Readonly<Record<MessageKey, string>>>> = { vi, en };

export type Params = Readonly<Record<string, string | number>>;
export type Translate = (key: MessageKey, params?: Params) => string;

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

export function translator(language: Language): Translate {
  const catalogue = CATALOGUES[language];
  return (key, params) => format(catalogue[key], params);
}
