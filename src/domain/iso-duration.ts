/**
 * ISO 8601 durations as campaigns use them for validity (PT24H, P2D, PT30M, P1W).
 * Years and months are refused: their length depends on the calendar, and an SMSC validity
 * period must be a fixed span.
 */
const DURATION = /^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Seconds in an ISO 8601 duration, or null when it is not one we accept. */
export function parseIsoDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) return null;
  const [weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number];
  const total = weeks * 604_800 + days * 86_400 + hours * 3_600 + minutes * 60 + seconds;
  return Number.isSafeInteger(total) ? total : null;
}
