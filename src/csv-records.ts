import { createReadStream } from 'node:fs';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';

/**
 * The one CSV reader of Loa: `loa preview` reads audience and portability files with it, and the
 * API reads every import body (audience, opt-outs, portability) with it, so a file that previews
 * cleanly imports the same way. It accepts what officers' spreadsheets export: a UTF-8 BOM, CRLF,
 * and `,`, `;` or a tab as separator (taken from the header line).
 */

/** The file is not valid CSV (an unclosed quote, …): everything after it would be misread. */
export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  constructor(
    readonly path: string,
    readonly line: number,
    readonly reason: string,
    /** `quote-not-closed`, or csv-parse's code (CSV_INVALID_CLOSING_QUOTE, …): what a translation keys on. */
    readonly code = 'syntax',
  ) {
    super(`${path}:${line}: ${reason}`);
  }
}

export type CsvDelimiter = ',' | ';' | '\t';
const DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t'];

/**
 * The separator of a file from its header line: the candidate that occurs most often outside
 * quotes; a comma when none does (a one-column file). Vietnamese Excel exports use `;` because
 * the comma is the decimal separator there.
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best: CsvDelimiter = ',';
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}

/**
 * Watches the raw bytes for quotes so that an unclosed one is reported where it opened: csv-parse
 * only notices at the end of the input and names the last line (issue 7, item 5). A quote toggles
 * the quoted state; `""` inside a quoted field is an escaped quote and does not move the opening.
 * Bytes are scanned with indexOf, so a file without quotes costs one memchr per line.
 */
class QuoteTracker extends Transform {
  /** Line of the quote that opened the field still open, when one is. */
  openedAt = 0;
  private line = 1;
  private quoted = false;
  /** Absolute offset just after the last closing quote: a quote there is an escape (`""`). */
  private closedAt = -1;
  private offset = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let position = 0;
    for (;;) {
      const quote = chunk.indexOf(0x22, position);
      const end = quote < 0 ? chunk.length : quote;
      // Count line breaks up to the quote (or the end of the chunk).
      for (let nl = chunk.indexOf(0x0a, position); nl >= 0 && nl < end; nl = chunk.indexOf(0x0a, nl + 1)) this.line++;
      if (quote < 0) break;
      const absolute = this.offset + quote;
      if (this.quoted) {
        this.quoted = false;
        this.closedAt = absolute + 1;
      } else {
        this.quoted = true;
        if (absolute !== this.closedAt) this.openedAt = this.line;
      }
      position = quote + 1;
    }
    this.offset += chunk.length;
    done(null, chunk);
  }
}

const HEADER_PEEK_BYTES = 64 * 1024;

const toBuffer = (chunk: Buffer | string): Buffer => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);

/**
 * Reads chunks until the first line is complete, so the separator is known before parsing starts;
 * returns that line and every byte (the peeked ones first) as one stream.
 */
async function peekHeader(input: AsyncIterable<Buffer | string>): Promise<{ header: string; bytes: Readable }> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let ended = false;
  let peeked = 0;
  try {
    // A header is short: past HEADER_PEEK_BYTES without a line break, the first 64 KiB decide.
    while (peeked < HEADER_PEEK_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = toBuffer(next.value);
      head.push(chunk);
      peeked += chunk.length;
      if (chunk.includes(0x0a)) break;
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  const first = Buffer.concat(head);
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      while (!ended) {
        const next = await iterator.next();
        if (next.done) return;
        yield toBuffer(next.value);
      }
    } finally {
      // Stopped early (an error downstream): let the source clean up (a file is closed).
      if (!ended) await iterator.return?.();
    }
  }
  return { header: firstLine(first), bytes: Readable.from(all(), { objectMode: false }) };
}

function firstLine(buffer: Buffer): string {
  const nl = buffer.indexOf(0x0a);
  return buffer
    .subarray(0, nl < 0 ? Math.min(buffer.length, HEADER_PEEK_BYTES) : nl)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
}

export interface CsvReadOptions {
  /** How errors name the input: the file path, or e.g. `request body`. */
  name?: string;
}

/** A file path, or the bytes themselves (an HTTP request body). */
export type CsvSource = string | Readable | AsyncIterable<Buffer | string>;

/**
 * Streams CSV records with the line each starts on; empty lines are skipped. `visit` may return
 * a promise (back-pressure: the next record waits for it). Memory stays flat: one chunk and one
 * record at a time.
 *
 * csv-parse's per-record info (on_record, info, skip_* options) doubles the parse time on
 * millions of rows, so lines are counted here: one per record plus its embedded newlines.
 */
export async function forEachCsvRecord(
  source: CsvSource,
  visit: (record: string[], line: number) => void | Promise<void>,
  options: CsvReadOptions = {},
): Promise<{ delimiter: CsvDelimiter }> {
  const name = options.name ?? (typeof source === 'string' ? source : 'input');
  const input: AsyncIterable<Buffer | string> = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  let nextLine = 1;
  const quotes = new QuoteTracker();
  const { header, bytes } = await peekHeader(input);
  const delimiter = detectDelimiter(header);
  // A Writable rather than `for await`: one callback per record, no promise unless visit returns one.
  const records = new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(record: string[], _encoding, done) {
      const line = nextLine;
      nextLine++;
      for (const field of record) if (field.length > 0 && field.includes('\n')) nextLine += field.split('\n').length - 1;
      if (record.length === 1 && (record[0] === '' || record[0] === '\r')) {
        done();
        return;
      }
      let pending: void | Promise<void>;
      try {
        pending = visit(record, line);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (pending) pending.then(() => done(), done);
      else done();
    },
  });
  try {
    await pipeline(bytes, quotes, parse({ bom: true, relax_column_count: true, delimiter }), records);
  } catch (error) {
    const csvError = error as CsvError;
    // Not every csv-parse code starts with CSV_ (INVALID_OPENING_QUOTE does not): a bad file, not a bug.
    if (error instanceof CsvError || (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_'))) {
      if (csvError.code === 'CSV_QUOTE_NOT_CLOSED' && quotes.openedAt > 0) {
        throw new CsvSyntaxError(name, quotes.openedAt, 'Quote Not Closed: a quote opened on this line is never closed (everything after it would be read as one field)', 'quote-not-closed');
      }
      throw new CsvSyntaxError(name, typeof csvError.lines === 'number' ? csvError.lines : nextLine, csvError.message, csvError.code);
    }
    throw error;
  }
  return { delimiter };
}
