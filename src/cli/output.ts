import { loadCliSettings, type CliSettings } from '../config.js';
import { DEFAULT_TIME_ZONE } from '../domain/time-zone.js';
import { translator, type Language, type MessageKey, type Translate } from '../i18n/index.js';
import type { CarrierProgress } from '../jobs/engine-contract.js';
import type { RunState } from '../store/database.js';
import { ApiClient } from './api-client.js';

/** What a command that talks to the service needs: settings, the catalogue, the API client. */
export interface CliContext {
  settings: CliSettings;
  t: Translate;
  api: ApiClient;
}

export function cliContext(): CliContext {
  const settings = loadCliSettings();
  const t = translator(settings.language);
  return { settings, t, api: new ApiClient(settings, t) };
}

/** `--json`: exactly one document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

/** Officers read Vietnamese wall-clock time whatever the machine's zone; output says so once (time.zoneNote). */
export function formatTime(iso: string | null | undefined, language: Language, t: Translate): string {
  if (!iso) return t('time.none');
  return new Intl.DateTimeFormat(language === 'vi' ? 'vi-VN' : 'en-GB', {
    timeZone: DEFAULT_TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** `1:02:03` or `2:03`: digits read the same in both languages. */
export function formatEta(seconds: number | null, t: Translate): string {
  if (seconds === null || !Number.isFinite(seconds)) return t('eta.unknown');
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

export function stateLabel(state: RunState, t: Translate): string {
  return t(`state.${state}` as MessageKey);
}

export const FINAL_RUN_STATES: ReadonlySet<RunState> = new Set<RunState>(['completed', 'failed', 'cancelled']);
/** A run that ended like this makes `loa status` and `loa launch --wait` exit EXIT.runFailed. */
export const FAILED_RUN_STATES: ReadonlySet<RunState> = new Set<RunState>(['failed', 'cancelled']);

/** Sent (left the queue), delivered, and failed (the states that say it did not arrive) for one carrier. */
export function carrierFigures(progress: CarrierProgress): { sent: number; delivered: number; failed: number } {
  const c = progress.counts;
  const sent = progress.total - c.queued - c.submitting;
  // ambiguous and unknown may still have reached the handset: not counted as failed.
  const failed = c.expired + c.deleted + c.undeliverable + c.rejected + c.failed;
  return { sent, delivered: c.delivered, failed };
}
