import type { SubmitRecord } from './simulator-types.js';

export interface ReassembledMessage {
  destination: string;
  reference: number | null;
  text: string;
  complete: boolean;
  duplicates: number;
}

/** Accepted parts per destination, in arrival order. */
export function byDestination(records: readonly SubmitRecord[]): Map<string, SubmitRecord[]> {
  const grouped = new Map<string, SubmitRecord[]>();
  for (const record of records) {
    const list = grouped.get(record.destination);
    if (list) list.push(record);
    else grouped.set(record.destination, [record]);
  }
  return grouped;
}

/**
 * The messages a handset would show: parts grouped by (destination, UDH reference, part count)
 * and joined in part order. `complete` is false when a part is missing; `duplicates` counts
 * parts received more than once.
 */
export function reassemble(records: readonly SubmitRecord[]): ReassembledMessage[] {
  const groups = new Map<string, { destination: string; reference: number | null; count: number; parts: Map<number, string>; duplicates: number }>();
  const singles: Array<{ destination: string; reference: null; text: string; complete: boolean; duplicates: number }> = [];
  for (const record of records) {
    if (!record.udh) {
      singles.push({ destination: record.destination, reference: null, text: record.text, complete: true, duplicates: 0 });
      continue;
    }
    const key = `${record.destination}|${record.udh.reference}|${record.udh.partCount}`;
    let group = groups.get(key);
    if (!group) {
      group = { destination: record.destination, reference: record.udh.reference, count: record.udh.partCount, parts: new Map(), duplicates: 0 };
      groups.set(key, group);
    }
    if (group.parts.has(record.udh.partNumber)) group.duplicates += 1;
    else group.parts.set(record.udh.partNumber, record.text);
  }
  const joined = [...groups.values()].map((group) => {
    let text = '';
    for (let part = 1; part <= group.count; part++) text += group.parts.get(part) ?? '';
    return { destination: group.destination, reference: group.reference, text, complete: group.parts.size === group.count, duplicates: group.duplicates };
  });
  return [...singles, ...joined];
}
