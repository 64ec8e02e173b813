import type { Command } from 'commander';
import type { Language, Translate } from '../../i18n/index.js';
import type { RunStatus } from '../../jobs/engine-contract.js';
import { pausedByMessage } from '../../domain/pause-codes.js';
import { CliError, EXIT } from '../exit-codes.js';
import { carrierFigures, cliContext, FAILED_RUN_STATES, formatEta, formatTime, printJson, printLines, stateLabel } from '../output.js';

/** A run's status as lines a person reads: state, times (Vietnam time), one line per carrier. */
export function describeStatus(status: RunStatus, language: Language, t: Translate): string[] {
  const time = (iso: string | null) => formatTime(iso, language, t);
  const lines = [
    t('status.header', { run: status.runId, campaign: status.campaignId, version: status.campaignVersionId, hash: status.contentHash.slice(0, 12) }),
    t('status.state', { state: stateLabel(status.state, t) }),
  ];
  if (status.pausedReason) {
    const message = pausedByMessage(status.pausedReason);
    lines.push(t('status.pausedBy', { who: message ? t(message.key, 'params' in message ? message.params : undefined) : status.pausedReason }));
  }
  if (status.error) lines.push(t('status.reason', { error: status.error }));
  lines.push(t('status.times', { scheduled: time(status.scheduledFor), started: time(status.startedAt), finished: time(status.finishedAt) }));
  lines.push(status.audienceSize === null ? t('status.audienceUnknown') : t('status.audience', { count: status.audienceSize }));
  for (const carrier of status.carriers) {
    const { sent, delivered, failed } = carrierFigures(carrier);
    lines.push(`  ${t('status.carrier', { carrier: carrier.carrier, sent, total: carrier.total, delivered, failed, rate: Math.round(carrier.submitRate), eta: formatEta(carrier.etaSeconds, t) })}`);
  }
  if (status.unroutable > 0) lines.push(`  ${t('status.unroutable', { count: status.unroutable })}`);
  if (status.screens.campaignPlays > 0) {
    const { plays, seconds, campaignPlays, byScreen } = status.screens;
    lines.push(t('status.screens', { plays, screens: byScreen.length, minutes: Math.round(seconds / 60), campaignPlays }));
  }
  if (status.loudspeakers && status.loudspeakers.broadcasts > 0) {
    lines.push(t('loudspeakers.status.total', { broadcasts: status.loudspeakers.broadcasts, communes: status.loudspeakers.byCommune.length, minutes: status.loudspeakers.minutes.toFixed(1) }));
    for (const row of status.loudspeakers.byCommune) {
      lines.push(`  ${t('loudspeakers.status.commune', { commune: row.commune ?? '?', broadcasts: row.broadcasts, minutes: row.minutes.toFixed(1) })}`);
    }
  }
  lines.push(t('status.asOf', { at: time(status.asOf) }), t('time.zoneNote'));
  return lines;
}

/** A run id as typed: `12`, or `run-12` as some output shows it. */
export function parseRunId(value: string, t: Translate): number {
  const digits = /^(?:run-)?(\d+)$/.exec(value.trim())?.[1];
  const id = Number(digits);
  if (digits === undefined || !Number.isSafeInteger(id) || id < 1) throw new CliError(t('status.badRunId', { value }), EXIT.invalidInput);
  return id;
}

export function register(program: Command, t: Translate): void {
  program
    .command('status')
    .description(t('status.description'))
    .argument('<run>', t('status.runArgument'))
    .option('--json', t('status.jsonOption'))
    .action(async (value: string, options: { json?: boolean }) => {
      const { api, t, settings } = cliContext();
      const status = await api.get<RunStatus>(`/v1/runs/${parseRunId(value, t)}`);
      if (options.json) printJson(status);
      else printLines(describeStatus(status, settings.language, t));
      if (FAILED_RUN_STATES.has(status.state)) process.exitCode = EXIT.runFailed;
    });
}
