import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * COPY … FROM STDIN in PostgreSQL's text format, streamed: rows are turned into lines as the
 * source yields them and written in ~64 KiB chunks with back-pressure, so memory stays flat
 * however many rows there are (DESIGN.md: 10 M recipients under 512 MB).
 */

const CHUNK_BYTES = 64 * 1024;

/** One field of a text-format COPY line (PostgreSQL docs, COPY, "Text Format"). */
export function copyField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

export function copyLine(fields: ReadonlyArray<string | number | null | undefined>): string {
  return `${fields.map(copyField).join('\t')}\n`;
}

async function* chunked(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  let chunk = '';
  for await (const line of lines) {
    chunk += line;
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * Runs `COPY <target> FROM STDIN` on `client` with the given lines (from copyLine) and returns
 * the number of rows PostgreSQL stored. COPY is one statement: it stores all rows or none.
 * If the source throws, the COPY is aborted and the error rethrown; the caller should then
 * release the client with the error (the connection is discarded).
 */
export async function copyInto(
  client: pg.ClientBase,
  target: string,
  lines: AsyncIterable<string> | Iterable<string>,
): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${target} FROM STDIN`));
  await pipeline(Readable.from(chunked(lines), { objectMode: false }), stream);
  return stream.rowCount;
}
