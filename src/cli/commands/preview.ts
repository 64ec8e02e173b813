import type { Command } from 'commander';
import { CARRIER_PROFILES } from '../../../adapters/carriers/index.js';
import { ConfigError, loadCarriersConfig, loadLanguage } from '../../config.js';
import { AudiencePreview, previewNoteKey, type PreviewReport } from '../../domain/audience-preview.js';
import type { Campaign } from '../../domain/campaign.js';
import { CARRIER_IDS, type CarrierId } from '../../domain/carrier.js';
import { readHeader as readColumns } from '../../domain/csv-columns.js';
import { validatePortabilityEntry } from '../../domain/portability.js';
import { Router } from '../../domain/routing.js';
import { EspeakEngine } from '../../loudspeakers/speech-engine.js';
import { SpeechRenderer } from '../../loudspeakers/speech-renderer.js';
import { loudspeakerLines } from '../../loudspeakers/validate-lines.js';
import { translator, type MessageKey, type PluralKey, type Translate } from '../../i18n/index.js';
import { CsvSyntaxError, forEachCsvRecord } from '../../csv-records.js';
import { loadCampaignFile } from './validate.js';

/**
 * One line of what is wrong with a file: a catalogue key and its parameters; a parameter may
 * itself be a problem (a reason translated inside the line).
 */
export interface FileProblem {
  key: MessageKey | PluralKey;
  params: Readonly<Record<string, string | number | FileProblem>>;
}

/** A file problem in the reader's language. */
export function describeProblem(problem: FileProblem, t: Translate): string {
  const params = Object.fromEntries(Object.entries(problem.params).map(([name, value]) => [name, typeof value === 'object' ? describeProblem(value, t) : value]));
  return t(problem.key, params);
}

const english = translator('en');

/** A file `loa preview` cannot use: `problems` for the reader's language, the message in English. */
export class PreviewFileError extends Error {
  constructor(readonly problems: readonly FileProblem[]) {
    super(problems.map((problem) => describeProblem(problem, english)).join('\n'));
  }
}

/** The audience file cannot be previewed at all (no header, no msisdn column). */
export class AudienceFileError extends PreviewFileError {
  override name = 'AudienceFileError';
}

/** The portability file has rows that cannot be used; the message names each by line. */
export class PortabilityFileError extends PreviewFileError {
  override name = 'PortabilityFileError';
}

/** Broken CSV syntax, for the reader's language. */
function csvProblem(error: CsvSyntaxError): FileProblem {
  const params = { file: error.path, line: error.line };
  return error.code === 'quote-not-closed' ? { key: 'preview.csv.quoteNotClosed', params } : { key: 'preview.csv.syntax', params: { ...params, detail: error.reason } };
}

export interface PreviewFileOptions {
  /** Granted TPS per carrier (the carriers config); caps the campaign throttle for the ETA. */
  grantedTps?: Partial<Record<CarrierId, number>>;
  /** Number (84XXXXXXXXX) → carrier name, from loadPortabilityFile. */
  portability?: ReadonlyMap<string, string>;
}

/** How many bad portability rows the error lists before it only counts. */
const PORTABILITY_ERRORS_SHOWN = 10;

/**
 * Read a portability CSV (`msisdn,carrier`, header optional) into number → carrier. Every row is
 * checked with validatePortabilityEntry; any bad row fails the load, naming its line, because a
 * carrier name we do not know would otherwise make its numbers silently unroutable.
 */
export async function loadPortabilityFile(csvPath: string): Promise<Map<string, string>> {
  const table = new Map<string, string>();
  const problems: FileProblem[] = [];
  let problemCount = 0;
  let columns: { msisdn: number; carrier: number } | null = null;
  try {
    await forEachCsvRecord(csvPath, (record, line) => {
      if (!columns) {
        const { index } = readColumns(record);
        if (index.msisdn !== undefined && index.carrier !== undefined) {
          columns = { msisdn: index.msisdn, carrier: index.carrier };
          return;
        }
        columns = { msisdn: 0, carrier: 1 };
      }
      const msisdn = record[columns.msisdn];
      const carrier = record[columns.carrier];
      const where = { file: csvPath, line };
      if (msisdn === undefined || carrier === undefined) {
        problemCount++;
        if (problems.length < PORTABILITY_ERRORS_SHOWN) problems.push({ key: 'preview.portability.fieldCount', params: { ...where, count: record.length } });
        return;
      }
      const result = validatePortabilityEntry(msisdn, carrier);
      if (result.ok) {
        table.set(result.msisdn, result.target.carrier ?? result.target.carrierName);
        return;
      }
      problemCount++;
      if (problems.length >= PORTABILITY_ERRORS_SHOWN) return;
      if (result.code === 'msisdn') {
        const reason: FileProblem = { key: `import.reason.${result.msisdnReason}`, params: { value: result.value } };
        problems.push({ key: 'preview.portability.badMsisdn', params: { ...where, value: result.value, reason } });
      } else {
        problems.push({ key: result.code === 'no-carrier' ? 'preview.portability.noCarrier' : 'preview.portability.unknownCarrier', params: { ...where, value: result.value } });
      }
    });
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new PortabilityFileError([csvProblem(error)]);
    throw error;
  }
  if (problemCount > 0) {
    const more: FileProblem[] = problemCount > problems.length ? [{ key: 'preview.portability.more', params: { file: csvPath, count: problemCount - problems.length } }] : [];
    throw new PortabilityFileError([...problems, ...more, { key: 'preview.portability.unusable', params: { file: csvPath, count: problemCount } }]);
  }
  return table;
}

/**
 * Stream an audience CSV (`msisdn,province,commune[,…]`, header required) through the preview.
 * Memory: one row at a time plus the dedupe set (see MsisdnSet). A row with the wrong number of
 * fields is counted and skipped; broken quoting stops the preview with its line number, since
 * everything after an unclosed quote would be misread.
 */
export async function previewAudienceFile(campaign: Campaign, csvPath: string, options: PreviewFileOptions = {}): Promise<PreviewReport> {
  const preview = new AudiencePreview({
    campaign,
    profiles: CARRIER_PROFILES,
    router: new Router(CARRIER_PROFILES, options.portability),
    ...(options.grantedTps ? { grantedTps: options.grantedTps } : {}),
  });
  let header: { msisdn: number; province: number; commune: number; count: number } | null = null;

  const readHeader = (record: string[], line: number): void => {
    // Column names and their Vietnamese aliases (số điện thoại, tỉnh, xã/phường): src/domain/csv-columns.ts.
    const columns = readColumns(record).index;
    const index = (name: 'msisdn' | 'province' | 'commune'): number => columns[name] ?? -1;
    if (index('msisdn') < 0) {
      throw new AudienceFileError([{ key: 'preview.file.noMsisdn', params: { file: csvPath, line, header: record.join(',') } }]);
    }
    if (preview.filtersByArea && (index('province') < 0 || index('commune') < 0)) {
      throw new AudienceFileError([{ key: 'preview.file.needsArea', params: { file: csvPath, line } }]);
    }
    header = { msisdn: index('msisdn'), province: index('province'), commune: index('commune'), count: record.length };
  };

  try {
    await forEachCsvRecord(csvPath, (record, line) => {
      if (!header) {
        readHeader(record, line);
        return;
      }
      if (record.length !== header.count) {
        preview.rowError(line, header.count, record.length);
        return;
      }
      preview.add(line, record[header.msisdn] ?? '', header.province >= 0 ? record[header.province] : '', header.commune >= 0 ? record[header.commune] : '');
    });
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new AudienceFileError([csvProblem(error)]);
    throw error;
  }
  if (!header) throw new AudienceFileError([{ key: 'preview.file.empty', params: { file: csvPath } }]);
  return preview.report();
}

const number = (n: number): string => n.toLocaleString('en-US');

export function formatDuration(seconds: number): string {
  if (seconds < 1) return seconds === 0 ? '0s' : '<1s';
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', rest || (!h && !m) ? `${rest}s` : ''].filter(Boolean).join(' ');
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '));
}

export function formatPreview(report: PreviewReport, csvPath: string, t: Translate = translator('en')): string {
  const lines = [t('preview.header', { campaign: report.campaignId, file: csvPath, count: number(report.rows) }), ''];
  const encoding = (c: PreviewReport['carriers'][number]): string => (c.encoding === 'gsm7' ? 'GSM' : 'UCS-2');
  lines.push(
    ...table([
      ['carrier', 'sends', 'recipients', 'ported', 'sender', 'encoding', 'parts', 'segments', 'tps', 'eta'].map((column) => t(`preview.column.${column}` as MessageKey)),
      ...report.carriers.map((c) => [
        c.carrier,
        c.sends ? t('preview.yes') : t('preview.no'),
        number(c.recipients),
        number(c.ported),
        c.sender ?? '-',
        `${encoding(c)}${c.stripped ? '*' : ''}`,
        String(c.partsPerMessage),
        number(c.segments),
        number(c.tps),
        formatDuration(c.etaSeconds),
      ]),
    ]).map((line) => `  ${line}`),
  );
  if (report.carriers.some((c) => c.stripped)) lines.push(`  ${t('preview.strippedNote')}`);
  lines.push('');
  lines.push(t('preview.total', { count: number(report.recipients), segments: number(report.segments), eta: formatDuration(report.etaSeconds) }));
  const unroutable = Object.entries(report.unroutable).map(([name, count]) => `${name} ${number(count)}`);
  lines.push(t('preview.unroutable', { count: number(report.unroutableTotal), detail: unroutable.length ? ` (${unroutable.join(', ')})` : '' }));
  lines.push(t('preview.invalid', { count: number(report.invalidTotal) }));
  for (const [reason, sample] of Object.entries(report.invalid)) {
    lines.push(`  ${reason}: ${number(sample.count)} (${t(sample.lines.length === 1 ? 'preview.line' : 'preview.lines', { lines: `${sample.lines.join(', ')}${sample.count > sample.lines.length ? ', …' : ''}` })})`);
  }
  if (report.rowErrorTotal > 0) {
    lines.push(t('preview.unreadable', { count: number(report.rowErrorTotal) }));
    for (const error of report.rowErrors) lines.push(`  ${csvPath}:${error.line}: ${t('preview.rowFields', { expected: error.expected, count: error.got })}`);
  }
  lines.push(t('preview.duplicates', { count: number(report.duplicates) }));
  lines.push(t('preview.outsideArea', { count: number(report.outsideArea) }));
  lines.push('', t('preview.textPerCarrier'));
  for (const c of report.carriers.filter((carrier) => carrier.sends)) {
    lines.push(`  ${c.carrier} (${c.sender ?? '-'}, ${encoding(c)}, ${t('validate.parts', { count: c.partsPerMessage })}): ${c.text}`);
  }
  if (report.notes.length > 0) lines.push('', t('preview.notes'), ...report.notes.map((note) => `  - ${t(previewNoteKey(note.code), note.params)}`));
  return `${lines.join('\n')}\n`;
}

export function register(program: Command, t: Translate = translator(loadLanguage())): void {
  program
    .command('preview')
    .description(t('preview.description'))
    .argument('<file>', t('preview.fileArgument'))
    .requiredOption('--audience <csv>', t('preview.audienceOption'))
    .option('--portability <csv>', t('preview.portabilityOption'))
    .option('--json', t('preview.jsonOption'))
    .action(async (file: string, options: { audience: string; portability?: string; json?: boolean }) => {
      const campaign = await loadCampaignFile(file, t);
      if (!campaign) return;
      let grantedTps: Record<CarrierId, number> | undefined;
      try {
        // The TPS each carrier granted (LOA_CARRIERS, or the simulator's defaults): the ETA cannot beat it.
        const { carriers } = loadCarriersConfig();
        grantedTps = Object.fromEntries(CARRIER_IDS.map((id) => [id, carriers[id].tps])) as Record<CarrierId, number>;
      } catch (error) {
        // The preview is offline and needs the carriers only for the ETA: say so, and go on with the profiles' defaults.
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${t('preview.carriersIgnored', { message: error.message })}\n`);
      }
      let report: PreviewReport;
      try {
        const portability = options.portability ? await loadPortabilityFile(options.portability) : undefined;
        report = await previewAudienceFile(campaign, options.audience, { ...(grantedTps ? { grantedTps } : {}), ...(portability ? { portability } : {}) });
      } catch (error) {
        const message =
          error instanceof PreviewFileError
            ? error.problems.map((problem) => describeProblem(problem, t)).join('\n')
            : t('preview.file.unreadable', { file: (error as NodeJS.ErrnoException).path ?? options.audience, reason: (error as Error).message });
        process.stderr.write(`${message}\n`);
        process.exitCode = 1;
        return;
      }
      // Loudspeaker items (issue 11): each clip's length and daily airtime, rendered as the service will.
      const speakers = await loudspeakerLines(campaign, new SpeechRenderer(new EspeakEngine()), t);
      for (const problem of speakers.problems) process.stderr.write(`${file}: ${problem}\n`);
      if (speakers.problems.length > 0) process.exitCode = 1;
      if (options.json) process.stdout.write(`${JSON.stringify(speakers.items.length > 0 ? { ...report, loudspeakers: speakers.items } : report, null, 2)}\n`);
      else process.stdout.write(formatPreview(report, options.audience, t) + (speakers.lines.length > 0 ? `${speakers.lines.join('\n')}\n` : ''));
    });
}
