import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { CARRIER_PROFILES } from '../../../adapters/carriers/index.js';
import { loadCampaignRules, loadLanguage } from '../../config.js';
import { campaignWarnings, type CampaignWarning } from '../../domain/campaign-warnings.js';
import { campaignOperators, CampaignValidationError, contentHash, parseCampaign, sniffCampaignBytes, type Campaign, type CampaignIssue } from '../../domain/campaign.js';
import { CARRIER_IDS, type CarrierId } from '../../domain/carrier.js';
import { encodeMessage, EncodingError } from '../../domain/encoding.js';
import { DomainError } from '../../domain/errors.js';
import { expandOccurrences, formatLocalTime } from '../../domain/schedule.js';
import { DEFAULT_TIME_ZONE } from '../../domain/time-zone.js';
import { translator, type Translate } from '../../i18n/index.js';
import { EspeakEngine } from '../../loudspeakers/speech-engine.js';
import { SpeechRenderer } from '../../loudspeakers/speech-renderer.js';
import { loudspeakerLines } from '../../loudspeakers/validate-lines.js';

/** `FILE:line:column: path: message`, the shape editors and CI annotate; worded by `t` when given. */
export function formatIssue(file: string, issue: CampaignIssue, t?: Translate): string {
  const where = issue.line !== undefined ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
  const message = t && issue.key ? t(`campaign.${issue.key}`, issue.params) : issue.message;
  return `${where}: ${issue.path || '(document)'}: ${message}`;
}

const defaultTranslate = (): Translate => translator(loadLanguage());

/** Read and parse a campaign file; on failure print every issue and return null (exit code 1 is set). */
export async function loadCampaignFile(file: string, t: Translate = defaultTranslate()): Promise<Campaign | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    process.stderr.write(`${t('validate.cannotRead', { file, reason: (error as Error).message })}\n`);
    process.exitCode = 1;
    return null;
  }
  const kind = sniffCampaignBytes(bytes);
  if (kind) {
    process.stderr.write(`${file}: (document): ${t(`validate.notText.${kind}`)}\n`);
    process.exitCode = 1;
    return null;
  }
  try {
    return parseCampaign(bytes.toString('utf8'), { format: extname(file).toLowerCase() === '.json' ? 'json' : 'yaml' });
  } catch (error) {
    if (!(error instanceof CampaignValidationError)) throw error;
    for (const issue of error.issues) process.stderr.write(`${formatIssue(file, issue, t)}\n`);
    process.stderr.write(`${t('validate.problems', { file, count: error.issues.length })}\n`);
    process.exitCode = 1;
    return null;
  }
}

function labelled(rows: Array<[label: string, value: string]>): string[] {
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `  ${(label ? `${label}:` : '').padEnd(width)} ${value}`.trimEnd());
}

function summary(file: string, campaign: Campaign, t: Translate): string {
  const rows: Array<[string, string]> = [
    [t('validate.label.id'), campaign.id],
    [t('validate.label.name'), campaign.name],
    [t('validate.label.version'), `sha256:${contentHash(campaign)}`],
    [t('validate.label.priority'), campaign.priority],
    [t('validate.label.audience'), t('validate.lists', { lists: campaign.audience.lists.join(', ') })],
  ];
  const { province, commune } = campaign.audience.areas;
  if (province.length > 0) rows.push(['', t('validate.provinces', { codes: province.join(', ') })]);
  if (commune.length > 0) rows.push(['', t('validate.communes', { codes: commune.join(', ') })]);
  if (campaign.audience.exclude.length > 0) rows.push(['', t('validate.minus', { lists: campaign.audience.exclude.join(', ') })]);
  rows.push([t('validate.label.sms'), '']);
  const sms: string[] = [];
  for (const carrier of campaignOperators(campaign)) {
    const profile = CARRIER_PROFILES[carrier];
    const encoded = encodeMessage(campaign.message.text, { policy: campaign.message.encoding, ucs2Allowed: profile.ucs2WithBrandname, reference: 0 });
    const details = [encoded.encoding === 'gsm7' ? 'GSM' : 'UCS-2', t('validate.parts', { count: encoded.parts.length })];
    if (encoded.stripped) details.push(t('validate.withoutDiacritics'));
    if (campaign.throttle[carrier] !== undefined) details.push(t('validate.throttle', { tps: campaign.throttle[carrier] }));
    sms.push(`    ${carrier.padEnd(9)} ${t('validate.from', { sender: campaign.message.sender[carrier] ?? '?' })}: ${details.join(', ')}`);
  }
  const after: Array<[string, string]> = [[t('validate.label.validity'), campaign.validity]];
  const schedule = campaign.schedule;
  if (!schedule) {
    after.push([t('validate.label.schedule'), t('validate.scheduleNone')]);
  } else {
    const zone = schedule.timezone ?? DEFAULT_TIME_ZONE;
    const quiet = campaign.priority === 'urgent' ? t('validate.quietUrgent') : schedule.quietHours ? `${schedule.quietHours.from}–${schedule.quietHours.to}` : t('validate.quietNone');
    after.push([
      t('validate.label.schedule'),
      `${schedule.start}${schedule.rrule ? `, ${schedule.rrule}` : ''}${schedule.end ? ` ${t('validate.until', { end: schedule.end })}` : ''} (${zone}), ${t('validate.quietHours', { quiet })}`,
    ]);
    const occurrences = expandOccurrences(campaign, { from: new Date(0), to: new Date(Date.UTC(2200, 0, 1)), limit: 1001 });
    const shown = occurrences.slice(0, 3).map((o) => `${formatLocalTime(o.launchAt, zone)}${o.deferred ? ` ${t('validate.deferred')}` : ''}`);
    const count = occurrences.length > 1000 ? t('validate.moreThan', { count: 1000 }) : String(occurrences.length);
    after.push([t('validate.label.occurrences'), t('validate.occurrencesLine', { count, zone, first: shown.join(', ') })]);
    const collapsed = occurrences.slice(0, 1000).reduce((n, o) => n + o.skipped.length, 0);
    if (collapsed > 0) after.push([t('validate.label.skipped'), t('validate.skippedLine', { count: collapsed })]);
  }
  const screens: string[] = [];
  if (campaign.screens.length > 0) {
    after.push([t('validate.label.screens'), t('validate.screensCount', { count: campaign.screens.length })]);
    for (const item of campaign.screens) {
      const targets = Object.entries(item.targets)
        .map(([key, values]) => `${key} ${(values as string[]).join(',')}`)
        .join('; ');
      screens.push(`    ${targets}: ${Object.keys(item.text).join('+')}, ${item.duration}s`);
    }
  }
  const all = labelled([...rows, ...after]);
  const smsAt = rows.length;
  const lines = [t('validate.valid', { file }), ...all.slice(0, smsAt), ...sms, ...all.slice(smsAt), ...screens];
  return `${lines.join('\n')}\n`;
}

function describeWarning(warning: CampaignWarning, campaign: Campaign, t: Translate): string {
  switch (warning.kind) {
    case 'all-occurrences-past':
      return t('validate.warnPast', { last: formatLocalTime(warning.last, campaign.schedule?.timezone ?? DEFAULT_TIME_ZONE) });
    case 'unsendable-characters':
      return t('validate.warnCharacters', { carrier: warning.carrier, sender: campaign.message.sender[warning.carrier] ?? '?', characters: warning.characters.join(' ') });
    case 'too-many-parts':
      return t('validate.warnParts', { carrier: warning.carrier, parts: warning.parts, max: warning.maxParts });
  }
}

export interface ValidateOptions {
  /** Warnings fail the file too (exit 1). */
  strict?: boolean;
  /** The time `all-occurrences-past` compares with (tests); default now. */
  now?: Date;
}

/**
 * Validate each file and print its summary or its problems; one bad file does not stop the
 * others. Warnings go to stderr and, with `strict`, count as problems. Returns whether all passed
 * (the command exits 1 otherwise).
 */
export async function validateFiles(files: readonly string[], options: ValidateOptions = {}): Promise<boolean> {
  const t = defaultTranslate();
  const { maxParts } = loadCampaignRules();
  const ucs2Allowed = Object.fromEntries(CARRIER_IDS.map((id) => [id, CARRIER_PROFILES[id].ucs2WithBrandname])) as Record<CarrierId, boolean>;
  let passed = 0;
  for (const file of files) {
    const campaign = await loadCampaignFile(file, t);
    if (!campaign) continue;
    try {
      process.stdout.write(summary(file, campaign, t));
      const speakers = await loudspeakerLines(campaign, new SpeechRenderer(new EspeakEngine()), t);
      if (speakers.lines.length > 0) process.stdout.write(`${speakers.lines.join('\n')}\n`);
      if (speakers.problems.length > 0) {
        for (const problem of speakers.problems) process.stderr.write(`${file}: ${problem}\n`);
        continue;
      }
      const warnings = campaignWarnings(campaign, { now: options.now ?? new Date(), maxParts, ucs2Allowed });
      for (const warning of warnings) process.stderr.write(`${t('validate.warning', { file, message: describeWarning(warning, campaign, t) })}\n`);
      if (options.strict && warnings.length > 0) process.stderr.write(`${t('validate.strictFailed', { file, count: warnings.length })}\n`);
      else passed++;
    } catch (error) {
      // A rule beyond the schema that only encoding or expansion notices (e.g. text of combining marks only).
      if (!(error instanceof DomainError)) throw error;
      const message = error instanceof EncodingError ? t(`encoding.${error.problem}`, error.params) : error.message;
      process.stderr.write(`${file}: ${message}\n`);
    }
  }
  if (files.length > 1) process.stdout.write(`${t('validate.summary', { valid: passed, total: files.length })}\n`);
  if (passed < files.length) process.exitCode = 1;
  return passed === files.length;
}

export function register(program: Command, t: Translate = defaultTranslate()): void {
  program
    .command('validate')
    .description(t('validate.description'))
    .argument('<files...>', t('validate.filesArgument'))
    .option('--strict', t('validate.strictOption'))
    .action(async (files: string[], options: { strict?: boolean }) => {
      await validateFiles(files, { strict: options.strict ?? false });
    });
}
