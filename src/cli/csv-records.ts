import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse, type CsvError } from 'csv-parse';

/** The file is not valid CSV (an unclosed quote, …): everything after it would be misread. */
export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  constructor(
    readonly path: string,
    readonly line: number,
    message: string,
  ) {
    super(`${path}:${line}: ${message}`);
  }
}

/**
 * Streams a CSV file one record at a time with the line it starts on; empty lines are skipped.
 * csv-parse's per-record info (on_record, info, skip_* options) doubles the parse time on
 * millions of rows, so lines are counted here: one per record plus its embedded newlines.
 */
export async function forEachCsvRecord(csvPath: string, visit: (record: string[], line: number) => void): Promise<void> {
  let nextLine = 1;
  try {
    await pipeline(createReadStream(csvPath, { highWaterMark: 1 << 20 }), parse({ bom: true, relax_column_count: true }), async function* (records: AsyncIterable<string[]>) {
      for await (const record of records) {
        const line = nextLine;
        nextLine++;
        for (const field of record) if (field.length > 0 && field.includes('\n')) nextLine += field.split('\n').length - 1;
        if (record.length === 1 && (record[0] === '' || record[0] === '\r')) continue;
        visit(record, line);
      }
      yield;
    });
  } catch (error) {
    const csvError = error as CsvError;
    if (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_')) {
      throw new CsvSyntaxError(csvPath, typeof csvError.lines === 'number' ? csvError.lines : nextLine, csvError.message);
    }
    throw error;
  }
}
