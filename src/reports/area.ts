import { ValidationError } from '../errors.js';

/**
 * What a daily report covers: everything, one province, or an admin-defined group of communes
 * (the data has no district tier). Written `all`, `province:<code>` (or just the code, digits) and
 * `group:<id>`; the written form is the key of manual entries and deliveries.
 */
export type AreaRef = { kind: 'all' } | { kind: 'province'; province: string } | { kind: 'group'; group: string };

const CODE = /^[A-Za-z0-9_-]{1,32}$/;
const GROUP_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function parseArea(text: string | undefined, path = 'area'): AreaRef {
  const value = (text ?? '').trim();
  if (value === '' || value === 'all') return { kind: 'all' };
  if (/^\d{1,8}$/.test(value)) return { kind: 'province', province: value };
  const match = /^(province|group):(.*)$/.exec(value);
  if (match?.[1] === 'province' && CODE.test(match[2]!)) return { kind: 'province', province: match[2]! };
  if (match?.[1] === 'group' && GROUP_ID.test(match[2]!)) return { kind: 'group', group: match[2]! };
  throw new ValidationError(`${path}: '${value.slice(0, 80)}' is not an area (all, province:<code>, a province code, or group:<id>)`, [
    { path, message: 'expected all, province:<code>, <digits> or group:<id>' },
  ]);
}

export function areaKey(area: AreaRef): string {
  return area.kind === 'all' ? 'all' : area.kind === 'province' ? `province:${area.province}` : `group:${area.group}`;
}

/** An area resolved against the groups table: the filter every query applies to (province, commune). */
export interface AreaFilter {
  key: string;
  /** Shown in the report's heading. */
  label: string;
  province: string | null;
  /** null: every commune (of the province, or everywhere). */
  communes: string[] | null;
  organisation: string | null;
  compilerName: string | null;
  compilerPhone: string | null;
}

/** A calendar day YYYY-MM-DD, checked to exist. */
export function parseDay(text: string | undefined, path = 'date'): string {
  const value = (text ?? '').trim();
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!match || !date || date.toISOString().slice(0, 10) !== value) {
    throw new ValidationError(`${path}: '${value.slice(0, 40)}' is not a date (YYYY-MM-DD)`, [{ path, message: 'expected YYYY-MM-DD' }]);
  }
  return value;
}

/** The day before `day` (YYYY-MM-DD). */
export function previousDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}
