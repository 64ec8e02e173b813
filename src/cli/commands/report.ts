import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { LANGUAGES, type Language, type Translate } from '../../i18n/index.js';
import type { DailyReport } from '../../reports/daily-report.js';
import { dailyReportText, REPORT_FORMATS, runReportText } from '../../reports/render.js';
import type { RunReport } from '../../reports/run-report.js';
import { CliError, EXIT } from '../exit-codes.js';
import { cliContext, printJson, printLines } from '../output.js';
import { parseRunId } from './status.js';

interface RenderOptions {
  format?: string;
  out?: string;
  lang?: Language;
}

/** The API's answer (JSON parsed, CSV and HTML as text) to stdout or --out; without --format a text summary. */
function output(body: unknown, options: RenderOptions, text: () => string, t: Translate): void {
  const content = options.format === undefined ? text() : typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  if (options.out) {
    try {
      writeFileSync(options.out, content);
    } catch (error) {
      throw new CliError(t('report.cannotWrite', { file: options.out, reason: (error as Error).message }), EXIT.invalidInput);
    }
    printLines([t('report.written', { file: options.out })]);
  } else if (options.format === 'json') printJson(body);
  else process.stdout.write(content);
}

function renderOptions(command: Command, t: Translate): Command {
  return command
    .addOption(new Option('--format <format>', t('report.formatOption')).choices(REPORT_FORMATS))
    .option('--out <file>', t('report.outOption'))
    .addOption(new Option('--lang <lang>', t('report.langOption')).choices(LANGUAGES));
}

function nonNegative(option: string, value: string, t: Translate, integer: boolean): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || (integer && !Number.isInteger(number))) throw new CliError(t('report.badNumber', { option, value }), EXIT.usage);
  return number;
}

/** `loa report run|daily|note`: through the API (LOA_URL, LOA_TOKEN), exit codes from the one table. */
export function register(program: Command, t: Translate): void {
  const report = program.command('report').description(t('report.description'));

  renderOptions(report.command('run').description(t('report.run.description')).argument('<run>', t('report.run.runArgument')), t).action(
    async (value: string, options: RenderOptions) => {
      const { api, t: tr, settings } = cliContext();
      const language = options.lang ?? settings.language;
      const body = await api.get<RunReport | string>(`/v1/reports/runs/${parseRunId(value, tr)}`, { query: { format: options.format ?? 'json', lang: language } });
      output(body, options, () => runReportText(body as RunReport, language), tr);
    },
  );

  renderOptions(
    report
      .command('daily')
      .description(t('report.daily.description'))
      .requiredOption('--date <date>', t('report.daily.dateOption'))
      .option('--area <area>', t('report.daily.areaOption'))
      .option('--compiler <name>', t('report.daily.compilerOption'))
      .option('--phone <phone>', t('report.daily.phoneOption')),
    t,
  ).action(async (options: RenderOptions & { date: string; area?: string; compiler?: string; phone?: string }) => {
    const { api, t: tr, settings } = cliContext();
    const language = options.lang ?? settings.language;
    const body = await api.get<DailyReport | string>('/v1/reports/daily', {
      query: { date: options.date, area: options.area, format: options.format ?? 'json', lang: language, compiler: options.compiler, phone: options.phone },
    });
    output(body, options, () => dailyReportText(body as DailyReport, language), tr);
  });

  report
    .command('note')
    .description(t('report.note.description'))
    .requiredOption('--date <date>', t('report.daily.dateOption'))
    .option('--area <area>', t('report.daily.areaOption'))
    .addOption(new Option('--channel <channel>', t('report.note.channelOption')).choices(['web', 'newspaper', 'radio', 'television', 'loudspeaker', 'screen', 'other']).makeOptionMandatory())
    .requiredOption('--count <n>', t('report.note.countOption'))
    .option('--minutes <m>', t('report.note.minutesOption'))
    .requiredOption('--text <text>', t('report.note.textOption'))
    .option('--json', t('option.json'))
    .action(async (options: { date: string; area?: string; channel: string; count: string; minutes?: string; text: string; json?: boolean }) => {
      const { api, t: tr } = cliContext();
      const body = {
        date: options.date,
        channel: options.channel,
        count: nonNegative('--count', options.count, tr, true),
        text: options.text,
        ...(options.area !== undefined ? { area: options.area } : {}),
        ...(options.minutes !== undefined ? { minutes: nonNegative('--minutes', options.minutes, tr, false) } : {}),
      };
      const entry = await api.post<{ id: number; day: string; area: string }>('/v1/reports/entries', { body });
      if (options.json) printJson(entry);
      else printLines([tr('report.note.added', { id: entry.id, day: entry.day, area: entry.area })]);
    });

  report
    .command('areas')
    .description(t('report.areas.description'))
    .option('--json', t('option.json'))
    .action(async (options: { json?: boolean }) => {
      const { api } = cliContext();
      const groups = await api.get<AreaGroupView[]>('/v1/reports/areas');
      if (options.json) return printJson(groups);
      printLines(groups.map((g) => `group:${g.id}  ${g.name}  (${g.province ? `${g.province}: ` : ''}${g.communes.join(', ')})`));
    });

  report
    .command('area')
    .description(t('report.area.description'))
    .argument('<id>', t('report.area.idArgument'))
    .requiredOption('--name <name>', t('report.area.nameOption'))
    .requiredOption('--communes <codes>', t('report.area.communesOption'))
    .option('--province <code>', t('report.area.provinceOption'))
    .option('--organisation <name>', t('report.area.organisationOption'))
    .option('--compiler <name>', t('report.daily.compilerOption'))
    .option('--phone <phone>', t('report.daily.phoneOption'))
    .option('--json', t('option.json'))
    .action(async (id: string, options: { name: string; communes: string; province?: string; organisation?: string; compiler?: string; phone?: string; json?: boolean }) => {
      const { api, t: tr } = cliContext();
      const group = await api.put<AreaGroupView>(`/v1/reports/areas/${encodeURIComponent(id)}`, {
        body: {
          name: options.name,
          communes: options.communes.split(',').map((code) => code.trim()).filter(Boolean),
          province: options.province ?? null,
          organisation: options.organisation ?? null,
          compilerName: options.compiler ?? null,
          compilerPhone: options.phone ?? null,
        },
      });
      if (options.json) printJson(group);
      else printLines([tr('report.area.saved', { id: group.id, name: group.name, count: group.communes.length })]);
    });
}

interface AreaGroupView {
  id: string;
  name: string;
  province: string | null;
  communes: string[];
}
