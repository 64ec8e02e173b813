/**
 * The column names Loa accepts in the CSV files officers give it (audience, opt-outs,
 * portability): the English names of formats.md and the Vietnamese headers their spreadsheets
 * actually carry. This is the one place they are defined; `loa preview` and every import use it.
 * Matching ignores case, diacritics, whitespace and punctuation: `Số điện thoại`, `SO DIEN THOAI`,
 * `sđt` and `Xã / Phường` all match.
 */

export type CsvColumn = 'msisdn' | 'province' | 'commune' | 'carrier' | 'reason';

export const COLUMN_ALIASES: Readonly<Record<CsvColumn, readonly string[]>> = {
  msisdn: ['msisdn', 'số điện thoại', 'sđt', 'số thuê bao', 'thuê bao', 'điện thoại', 'số di động', 'di động'],
  province: ['province', 'tỉnh', 'tỉnh/thành phố', 'tỉnh/tp', 'mã tỉnh', 'province code'],
  commune: ['commune', 'xã/phường', 'phường/xã', 'xã', 'phường', 'xã/phường/thị trấn', 'mã xã', 'ward', 'commune code'],
  carrier: ['carrier', 'nhà mạng', 'mạng', 'operator', 'network'],
  reason: ['reason', 'lý do', 'ghi chú'],
};

/** `Xã / Phường` → `xaphuong`: no diacritics (đ → d explicitly, NFD leaves it whole), case, spaces or punctuation. */
export function columnKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

const BY_KEY: ReadonlyMap<string, CsvColumn> = new Map(
  (Object.entries(COLUMN_ALIASES) as Array<[CsvColumn, readonly string[]]>).flatMap(([column, aliases]) => aliases.map((alias): [string, CsvColumn] => [columnKey(alias), column])),
);

/** The column a header cell names, or undefined for any other (an attribute). */
export function columnOf(headerCell: string): CsvColumn | undefined {
  return BY_KEY.get(columnKey(headerCell.replace(/^\uFEFF/, '')));
}

export interface HeaderColumns {
  /** Index of each known column found in the header. */
  index: Partial<Record<CsvColumn, number>>;
  /** Other columns: index → the name as written (trimmed); they become attributes. */
  others: Array<{ index: number; name: string }>;
  /** The header cells as written (trimmed). */
  cells: string[];
  count: number;
}

/** Reads a header row; the first cell that names a column wins if two do. */
export function readHeader(record: readonly string[]): HeaderColumns {
  const index: Partial<Record<CsvColumn, number>> = {};
  const others: Array<{ index: number; name: string }> = [];
  record.forEach((cell, i) => {
    const column = columnOf(cell);
    if (column && index[column] === undefined) index[column] = i;
    else if (cell.trim() !== '') others.push({ index: i, name: cell.trim() });
  });
  return { index, others, cells: record.map((cell) => cell.replace(/^\uFEFF/, '').trim()), count: record.length };
}
