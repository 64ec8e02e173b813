import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { ImportReport } from '../../api/audience-import.js';
import { CATALOGUES, type MessageKey, type Translate } from '../../i18n/index.js';
import { CliError, EXIT } from '../exit-codes.js';
import { cliContext, printJson, printLines, type CliContext } from '../output.js';

/**
 * `loa audience import`, `loa lists [delete]`, `loa optout import|remove`, `loa portability import`:
 * every one goes through the service (LOA_URL + LOA_TOKEN) so the audit log knows who did it. A
 * file is streamed to the API as it is read (never held in memory), with a progress bar of the
 * bytes sent when stderr is a terminal.
 */

/** Runs a command body with the service's client; failures propagate to runCli (describeFailure: message and exit code). */
async function withContext(body: (ctx: CliContext) => Promise<void>): Promise<void> {
  await body(cliContext());
}

/** The file as a stream for the request body, counting bytes into a progress bar on a terminal. */
function upload(file: string, ctx: CliContext, showProgress: boolean): { body: NodeJS.ReadableStream; done(): void } {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new CliError(ctx.t('import.fileUnreadable', { file, reason: ctx.t('import.notAFile') }), EXIT.invalidInput);
    size = stat.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(ctx.t('import.fileUnreadable', { file, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message }), EXIT.invalidInput);
  }
  const bar = showProgress
    ? new SingleBar({ stream: process.stderr, format: ctx.t('import.progress', { file: basename(file) }), hideCursor: true, clearOnComplete: true, etaBuffer: 20 })
    : undefined;
  bar?.start(size, 0);
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      bar?.update(sent);
      done(null, chunk);
    },
  });
  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  source.on('error', (error) => counter.destroy(error));
  return {
    body: source.pipe(counter),
    done: () => bar?.stop(),
  };
}

async function sendFile<T>(ctx: CliContext, path: string, file: string, options: { json?: boolean; query?: Record<string, string | boolean | undefined> }): Promise<T> {
  const { body, done } = upload(file, ctx, !options.json && process.stderr.isTTY === true);
  try {
    return await ctx.api.post<T>(path, { body, contentType: 'text/csv', ...(options.query ? { query: options.query } : {}) });
  } finally {
    done();
  }
}

const DELIMITER_CHARACTER: Record<ImportReport['delimiter'], string> = { comma: '","', semicolon: '";"', tab: 'tab' };

/** The human summary after the first line: columns, repeats, rejections by reason and the first rejected lines. */
function describeReport(report: ImportReport, file: string, t: Translate): string[] {
  const lines: string[] = [];
  const columns = Object.entries(report.columns).map(([column, cell]) => (column === cell ? column : `${column}=${cell}`));
  if (columns.length > 0 || report.attributes.length > 0) {
    lines.push(t('import.columns', { columns: [...columns, ...report.attributes.map((a) => `+${a}`)].join(', '), delimiter: DELIMITER_CHARACTER[report.delimiter] }));
  }
  if (report.duplicates > 0) lines.push(t('import.duplicates', { count: report.duplicates }));
  if (report.rejected > 0) {
    lines.push(t('import.byReason'));
    for (const [reason, count] of Object.entries(report.rejectedByReason)) lines.push(t('import.reasonCount', { reason, count }));
    lines.push(t('import.firstLines'));
    for (const rejected of report.rejectedLines) {
      const key = `import.reason.${rejected.reason}` as MessageKey;
      const known = key in CATALOGUE_KEYS;
      const message = known ? t(key, { value: rejected.value ?? '' }) : rejected.message;
      lines.push(t('import.line', { file, line: rejected.line, message: `${rejected.reason}: ${message}${rejected.value && rejected.reason !== 'scientific-notation' ? ` ('${rejected.value}')` : ''}` }));
    }
    if (report.rejected > report.rejectedLines.length) lines.push(t('import.more', { count: report.rejected - report.rejectedLines.length }));
  }
  return lines;
}

// Which reason keys the catalogue has (the same in every language: test/unit/i18n.test.ts).
const CATALOGUE_KEYS: Readonly<Record<string, unknown>> = CATALOGUES.vi;

function print(json: boolean | undefined, document: unknown, human: () => string[]): void {
  if (json) printJson(document);
  else printLines(human());
}

export function register(program: Command, t: Translate): void {
  const audience = program.command('audience').description(t('audience.description'));
  audience
    .command('import')
    .description(t('audience.import.description'))
    .argument('<list>', t('audience.import.list'))
    .argument('<file>', t('audience.import.file'))
    .option('--replace', t('audience.import.replace'))
    .option('--name <name>', t('audience.import.name'))
    .option('--json', t('option.json'))
    .action(async (list: string, file: string, options: { replace?: boolean; name?: string; json?: boolean }) =>
      withContext(async (ctx) => {
        const report = await sendFile<ImportReport & { list: { id: string; subscribers: number } }>(ctx, `/v1/lists/${encodeURIComponent(list)}/import`, file, {
          ...(options.json ? { json: true } : {}),
          query: { replace: options.replace ? true : undefined, name: options.name },
        });
        print(options.json, report, () => [
          ctx.t('import.summary.list', { file, list: report.list.id, rows: report.rows, loaded: report.loaded, rejected: report.rejected, inserted: report.inserted, updated: report.updated, unchanged: report.unchanged, removed: report.removed, subscribers: report.list.subscribers }),
          ...describeReport(report, file, ctx.t),
        ]);
      }),
    );

  const lists = program
    .command('lists')
    .description(t('lists.description'))
    .option('--json', t('option.json'))
    .action(async (options: { json?: boolean }) =>
      withContext(async (ctx) => {
        const answer = await ctx.api.get<{ lists: Array<{ id: string; name: string; createdAt: string; subscribers: number }>; optOuts: number }>('/v1/lists');
        print(options.json, answer, () => [
          ...(answer.lists.length === 0 ? [ctx.t('lists.none')] : answer.lists.map((l) => ctx.t('lists.row', { id: l.id, name: l.name, count: l.subscribers.toLocaleString('en-US') }))),
          ctx.t('lists.optOuts', { count: answer.optOuts.toLocaleString('en-US') }),
        ]);
      }),
    );
  lists
    .command('delete')
    .description(t('lists.delete.description'))
    .argument('<list>', t('audience.import.list'))
    .option('--json', t('option.json'))
    // `loa lists` has its own --json: commander gives it to the parent, so read both.
    .action(async (list: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ json?: boolean }>();
      return withContext(async (ctx) => {
        const answer = await ctx.api.delete<{ id: string; deleted: boolean; subscribers: number }>(`/v1/lists/${encodeURIComponent(list)}`);
        print(options.json, answer, () => [ctx.t('lists.deleted', { list: answer.id, count: answer.subscribers })]);
      });
    });

  const optout = program.command('optout').description(t('optout.description'));
  optout
    .command('import')
    .description(t('optout.import.description'))
    .argument('<file>', 'CSV')
    .option('--json', t('option.json'))
    .action(async (file: string, options: { json?: boolean }) =>
      withContext(async (ctx) => {
        const report = await sendFile<ImportReport & { optOuts: number }>(ctx, '/v1/optouts/import', file, options.json ? { json: true } : {});
        print(options.json, report, () => [
          ctx.t('import.summary.optout', { file, rows: report.rows, loaded: report.loaded, rejected: report.rejected, inserted: report.inserted, updated: report.updated, unchanged: report.unchanged, total: report.optOuts }),
          ...describeReport(report, file, ctx.t),
        ]);
      }),
    );
  optout
    .command('remove')
    .description(t('optout.remove.description'))
    .argument('<number>', 'msisdn')
    .option('--json', t('option.json'))
    .action(async (number: string, options: { json?: boolean }) =>
      withContext(async (ctx) => {
        const answer = await ctx.api.delete<{ msisdn: string; removed: boolean }>(`/v1/optouts/${encodeURIComponent(number)}`);
        print(options.json, answer, () => [ctx.t('optout.removed', { msisdn: answer.msisdn })]);
      }),
    );

  program
    .command('portability')
    .description(t('portability.description'))
    .command('import')
    .description(t('portability.import.description'))
    .argument('<file>', 'CSV')
    .option('--replace', t('portability.import.replace'))
    .option('--json', t('option.json'))
    .action(async (file: string, options: { replace?: boolean; json?: boolean }) =>
      withContext(async (ctx) => {
        const report = await sendFile<ImportReport & { entries: number }>(ctx, '/v1/portability/import', file, {
          ...(options.json ? { json: true } : {}),
          query: { replace: options.replace ? true : undefined },
        });
        print(options.json, report, () => [
          ctx.t('import.summary.portability', { file, rows: report.rows, loaded: report.loaded, rejected: report.rejected, inserted: report.inserted, updated: report.updated, unchanged: report.unchanged, removed: report.removed, total: report.entries }),
          ...describeReport(report, file, ctx.t),
        ]);
      }),
    );
}
