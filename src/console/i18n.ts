/// <reference lib="dom" />
import { translator, type Language, type MessageKey, type Params, type PluralKey } from '../i18n/index.js';

/**
 * The console's language: Vietnamese unless the person switched to English (kept in localStorage).
 * Strings come from the same catalogues as the CLI (src/i18n, keys under `console.`).
 */
const STORAGE_KEY = 'loa.language';
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';

let language: Language = localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'vi';
let translate = translator(language);

export function currentLanguage(): Language {
  return language;
}

export function setLanguage(next: Language): void {
  language = next;
  translate = translator(next);
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

export function t(key: MessageKey | PluralKey, params?: Params): string {
  return translate(key, params);
}

/** A catalogue key made at run time (a state, a campaign issue): the key if the catalogue has it, else the fallback. */
export function tOr(key: string, fallback: string, params?: Params): string {
  const text = translate(key as MessageKey, params);
  return text === key ? fallback : text;
}

function locale(): string {
  return language === 'vi' ? 'vi-VN' : 'en-GB';
}

export function formatNumber(value: number, digits = 0): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

/** Dates and times in Vietnam's zone, whatever the browser's zone is. */
export function formatTime(value: string | Date | null | undefined): string {
  if (!value) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium', timeZone: TIME_ZONE }).format(new Date(value));
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} ph` : m > 0 ? `${m} ph ${s % 60} s` : `${s} s`;
}
