/**
 * CSV imports behind `POST /v1/lists/:id/import`, `POST /v1/optouts/import` and
 * `POST /v1/portability/import`: the body is read with the one CSV reader (src/csv-records.ts,
 * the same as `loa preview`), every number normalised by src/domain with the preview's reasons,
 * good rows streamed into the store's staging COPY while bad ones are counted by reason and the
 * first few listed by line. Nothing holds the file in memory.
 */
import { CsvSyntaxError, forEachCsvRecord, type CsvDelimiter, type CsvSource } from '../csv-records.js';
import { readHeader, type CsvColumn, type HeaderColumns } from '../domain/csv-columns.js';
import { normalizeMsisdn } from '../domain/msisdn.js';
import { resolveCarrierName } from '../domain/portability.js';
import { DomainError, ValidationError } from '../errors.js';
import type { AudienceRepository, MergeCounts, RowFeed } from '../store/audience.repository.js';
import type { NewAuditEntry } from '../store/audit.repository.js';

/** How many rejected lines an answer lists; all of them are counted by reason. */
export const REJECTED_LINES_SHOWN = 20;

/** Why a row was not loaded: a msisdn reason of src/domain/msisdn.ts, or one of these. */
export type RowRejection = string;

export interface RejectedLine {
  line: number;
  reason: RowRejection;
  message: string;
  /** The number as written, when the number is what was wrong (at most 40 characters). */
  value?: string;
}

export interface ImportReport {
  /** Data rows read (the header and empty lines not counted). */
  rows: number;
  /** Good rows loaded (repeats of a number included; the last one wins). */
  loaded: number;
  rejected: number;
  /** Good rows repeating a number already earlier in the file. */
  duplicates: number;
  inserted: number;
  updated: number;
  unchanged: number;
  removed: number;
  rejectedByReason: Record<string, number>;
  /** The first REJECTED_LINES_SHOWN rejected lines, in file order. */
  rejectedLines: RejectedLine[];
  delimiter: 'comma' | 'semicolon' | 'tab';
  /** Which header cell each known column was read from (absent for a file without a header). */
  columns: Partial<Record<CsvColumn, string>>;
  /** Other header cells, stored as attributes (audience only). */
  attributes: string[];
}

export type ListImportReport = ImportReport & { list: { id: string; subscribers: number } };
export type OptOutImportReport = ImportReport & { optOuts: number };
export type PortabilityImportReport = ImportReport & { entries: number };

/** The body is larger than the configured limit (LOA_IMPORT_MAX_BYTES): 413. */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
  readonly statusCode = 413;
  readonly code = 'payload_too_large';
  constructor(limit: number) {
    super(`the file is larger than the import limit of ${limit} bytes (LOA_IMPORT_MAX_BYTES)`);
  }
}

/** Passes the body through, failing once more than `limit` bytes arrived (a chunked body has no Content-Length to check up front). */
export async function* limitBytes(source: AsyncIterable<Buffer | string>, limit: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > limit) throw new PayloadTooLargeError(limit);
    yield chunk;
  }
}

const DELIMITER_NAMES: Record<CsvDelimiter, ImportReport['delimiter']> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/** Collects rejections: counts per reason, the first lines kept. */
class Rejections {
  total = 0;
  readonly byReason: Record<string, number> = {};
  readonly lines: RejectedLine[] = [];

  add(line: number, rejected: Rejected): void {
    this.total++;
    this.byReason[rejected.reason] = (this.byReason[rejected.reason] ?? 0) + 1;
    if (this.lines.length < REJECTED_LINES_SHOWN) {
      this.lines.push({ line, reason: rejected.reason, message: rejected.message, ...(rejected.value === undefined ? {} : { value: rejected.value.slice(0, 40) }) });
    }
  }
}

/** A row that is not loaded, and why. */
class Rejected {
  constructor(
    readonly reason: RowRejection,
    readonly message: string,
    readonly value?: string,
  ) {}
}

const fieldCount = (expected: number, got: number): string => `expected ${expected} field${expected === 1 ? '' : 's'} as in the header, got ${got}`;

interface Layout {
  header: HeaderColumns | null;
  msisdn: number;
  second: number | undefined;
}

/**
 * Reads the CSV and pushes good rows to `emit`. `layoutOf` decides from the first record whether
 * it is a header and where the columns are; `row` turns a record into a stored row or a rejection.
 */
async function readRows<T>(
  source: CsvSource,
  name: string,
  layoutOf: (first: string[], line: number) => Layout,
  row: (record: string[], line: number, layout: Layout) => T | Rejected,
  emit: (row: T) => void | Promise<void>,
  rejections: Rejections,
): Promise<{ rows: number; delimiter: CsvDelimiter; layout: Layout | null }> {
  let layout: Layout | null = null;
  let rows = 0;
  let delimiter: CsvDelimiter;
  try {
    ({ delimiter } = await forEachCsvRecord(
      source,
      (record, line) => {
        if (!layout) {
          layout = layoutOf(record, line);
          if (layout.header) return;
        }
        rows++;
        if (layout.header && record.length !== layout.header.count) {
          rejections.add(line, new Rejected('field-count', fieldCount(layout.header.count, record.length)));
          return;
        }
        const result = row(record, line, layout);
        if (result instanceof Rejected) {
          rejections.add(line, result);
          return;
        }
        return emit(result);
      },
      { name },
    ));
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new ValidationError(`${name}: line ${error.line}: ${error.reason}`, [{ path: `line ${error.line}`, message: error.reason }]);
    throw error;
  }
  return { rows, delimiter, layout };
}

function msisdnOf(value: string | undefined): string | Rejected {
  const result = normalizeMsisdn(value ?? '');
  return result.ok ? result.msisdn : new Rejected(result.reason, result.message, (value ?? '').trim());
}

const blankToNull = (value: string | undefined): string | null => {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
};

function report(rows: number, delimiter: CsvDelimiter, layout: Layout | null, rejections: Rejections, counts: MergeCounts, names: Partial<Record<CsvColumn, number>>, attributes: string[]): ImportReport {
  const header = layout?.header;
  const columns: Partial<Record<CsvColumn, string>> = {};
  if (header) for (const [column, index] of Object.entries(names) as Array<[CsvColumn, number]>) columns[column] = header.cells[index] ?? column;
  return {
    rows,
    loaded: counts.staged,
    rejected: rejections.total,
    duplicates: counts.staged - counts.distinct,
    inserted: counts.inserted,
    updated: counts.updated,
    unchanged: counts.unchanged,
    removed: counts.removed,
    rejectedByReason: rejections.byReason,
    rejectedLines: rejections.lines,
    delimiter: DELIMITER_NAMES[delimiter],
    columns,
    attributes,
  };
}

/** `replace` with no good row would empty the list (or table): almost always the wrong file. */
class NothingToReplaceWith extends DomainError {
  constructor(what: string) {
    super('nothing_to_replace', `the file has no usable row: --replace would empty ${what}. Use a file with the rows to keep${what.startsWith('list') ? ', or `loa lists delete`' : ''}.`);
  }
}

export class AudienceImporter {
  constructor(private readonly audience: AudienceRepository) {}

  /** Audience CSV: header required, `msisdn` (or a Vietnamese alias), optional `province`, `commune`, other columns as attributes. */
  async importList(
    listId: string,
    source: CsvSource,
    options: { name?: string | undefined; replace?: boolean; sourceName?: string; audit?: (report: ListImportReport) => NewAuditEntry } = {},
  ): Promise<ListImportReport> {
    const name = options.sourceName ?? 'request body';
    const rejections = new Rejections();
    let read!: { rows: number; delimiter: CsvDelimiter; layout: Layout | null };
    const feed: RowFeed<{ line: number; msisdn: string; province: string | null; commune: string | null; attrs?: Record<string, string> }> = async (emit) => {
      read = await readRows(
        source,
        name,
        (first, line) => {
          const header = readHeader(first);
          if (header.index.msisdn === undefined) {
            throw new ValidationError(
              `${name}: line ${line}: the header must name the phone-number column (msisdn, số điện thoại, sđt), got: ${first.join(',').slice(0, 200)}`,
              [{ path: `line ${line}`, message: 'no msisdn column in the header' }],
            );
          }
          return { header, msisdn: header.index.msisdn, second: undefined };
        },
        (record, line, layout) => {
          const msisdn = msisdnOf(record[layout.msisdn]);
          if (msisdn instanceof Rejected) return msisdn;
          const header = layout.header!;
          let attrs: Record<string, string> | undefined;
          for (const other of header.others) {
            const value = record[other.index]?.trim();
            if (value) (attrs ??= {})[other.name] = value;
          }
          return {
            line,
            msisdn,
            province: header.index.province === undefined ? null : blankToNull(record[header.index.province]),
            commune: header.index.commune === undefined ? null : blankToNull(record[header.index.commune]),
            ...(attrs ? { attrs } : {}),
          };
        },
        emit,
        rejections,
      );
      if (!read.layout) throw new ValidationError(`${name}: empty file: expected a header line such as msisdn,province,commune`);
      if (options.replace && read.rows - rejections.total === 0) throw new NothingToReplaceWith(`list ${listId}`);
    };
    const full = (counts: MergeCounts & { subscribers: number }): ListImportReport => {
      const header = read.layout?.header;
      return {
        list: { id: listId, subscribers: counts.subscribers },
        ...report(read.rows, read.delimiter, read.layout, rejections, counts, pick(header?.index ?? {}, ['msisdn', 'province', 'commune']), header?.others.map((o) => o.name) ?? []),
      };
    };
    const audit = options.audit;
    const counts = await this.audience.mergeSubscribers(listId, feed, { name: options.name, replace: options.replace ?? false, ...(audit ? { audit: (outcome) => audit(full(outcome)) } : {}) });
    return full(counts);
  }

  /** Opt-out CSV: `msisdn[,reason]`, header optional. */
  async importOptOuts(source: CsvSource, options: { sourceName?: string; audit?: (report: OptOutImportReport) => NewAuditEntry } = {}): Promise<OptOutImportReport> {
    const name = options.sourceName ?? 'request body';
    const rejections = new Rejections();
    let read!: { rows: number; delimiter: CsvDelimiter; layout: Layout | null };
    const full = (counts: MergeCounts & { optOuts: number }): OptOutImportReport => ({
      optOuts: counts.optOuts,
      ...report(read.rows, read.delimiter, read.layout, rejections, counts, pick(read.layout?.header?.index ?? {}, ['msisdn', 'reason']), []),
    });
    const audit = options.audit;
    const counts = await this.audience.mergeOptOuts(async (emit) => {
      read = await readRows(
        source,
        name,
        (first) => optionalHeader(first, 'reason'),
        (record, line, layout) => {
          const msisdn = msisdnOf(record[layout.msisdn]);
          if (msisdn instanceof Rejected) return msisdn;
          return { line, msisdn, reason: layout.second === undefined ? null : blankToNull(record[layout.second]) };
        },
        emit,
        rejections,
      );
    }, audit ? { audit: (outcome) => audit(full(outcome)) } : {});
    return full(counts);
  }

  /**
   * Portability CSV: `msisdn,carrier`, header optional. Carrier names go through the aliases of
   * src/domain/portability.ts; a name we do not know is refused on its line (it would otherwise
   * make the number silently unroutable).
   */
  async importPortability(
    source: CsvSource,
    options: { replace?: boolean; sourceName?: string; audit?: (report: PortabilityImportReport) => NewAuditEntry } = {},
  ): Promise<PortabilityImportReport> {
    const name = options.sourceName ?? 'request body';
    const rejections = new Rejections();
    let read!: { rows: number; delimiter: CsvDelimiter; layout: Layout | null };
    const full = (counts: MergeCounts & { entries: number }): PortabilityImportReport => ({
      entries: counts.entries,
      ...report(read.rows, read.delimiter, read.layout, rejections, counts, pick(read.layout?.header?.index ?? {}, ['msisdn', 'carrier']), []),
    });
    const audit = options.audit;
    const counts = await this.audience.mergePortability(
      async (emit) => {
        read = await readRows(
          source,
          name,
          (first, line) => {
            const layout = optionalHeader(first, 'carrier');
            if (layout.header && layout.second === undefined) {
              throw new ValidationError(`${name}: line ${line}: the header names the number but no carrier column (carrier, nhà mạng)`, [{ path: `line ${line}`, message: 'no carrier column in the header' }]);
            }
            return layout;
          },
          (record, line, layout) => {
            const carrierCell = layout.second === undefined ? undefined : record[layout.second];
            if (carrierCell === undefined) return new Rejected('field-count', `expected msisdn,carrier, got ${record.length} field${record.length === 1 ? '' : 's'}`);
            const msisdn = msisdnOf(record[layout.msisdn]);
            if (msisdn instanceof Rejected) return msisdn;
            const carrierName = carrierCell.trim();
            if (carrierName === '') return new Rejected('no-carrier', 'the carrier is empty');
            const target = resolveCarrierName(carrierName);
            if (!target) {
              return new Rejected(
                'unknown-carrier',
                `carrier '${carrierName}' is not a carrier name we know (e.g. Viettel, VNPT/Vinaphone, Mobifone, Vietnamobile, Gmobile, Reddi, iTel)`,
              );
            }
            return { line, msisdn, carrier: target.carrier ?? target.carrierName };
          },
          emit,
          rejections,
        );
        if (options.replace && read.rows - rejections.total === 0) throw new NothingToReplaceWith('the portability table');
      },
      { replace: options.replace ?? false, ...(audit ? { audit: (outcome) => audit(full(outcome)) } : {}) },
    );
    return full(counts);
  }
}

/** Opt-out and portability files may come without a header: the first row is one when it names the msisdn column. */
function optionalHeader(first: string[], second: CsvColumn): Layout {
  const header = readHeader(first);
  if (header.index.msisdn !== undefined) return { header, msisdn: header.index.msisdn, second: header.index[second] };
  return { header: null, msisdn: 0, second: 1 };
}

function pick(index: Partial<Record<CsvColumn, number>>, columns: CsvColumn[]): Partial<Record<CsvColumn, number>> {
  const out: Partial<Record<CsvColumn, number>> = {};
  for (const column of columns) if (index[column] !== undefined) out[column] = index[column];
  return out;
}
