import { createHash } from 'node:crypto';
import type { PlaylistEntry } from './screen-adapter.js';

export interface StoredItem {
  id: number;
  campaign_id: string | null;
  run_id: number | null;
  texts: Record<string, string>;
  duration: number;
  priority: 'normal' | 'urgent';
  valid_from: Date;
  valid_to: Date;
  /** Loudspeaker items (issue 11): the clip, its length and plays per day; null on screen items. */
  audio_hash?: string | null;
  audio_ms?: number | null;
  repetitions?: number | null;
}

export interface ComputedPlaylist {
  items: PlaylistEntry[];
  urgent: boolean;
  /** Next start or end among the items (ms since epoch); null: none. */
  deadline: number | null;
  /** `<screen version>.<hash of the items shown>`: changes with edits and with the clock. */
  version: string;
}

/**
 * The playlist valid at `now` from the screen's unexpired items: items already started, in
 * priority then start order; while an urgent one is valid, only urgent ones (issue 10 item 2).
 */
export function computePlaylist(screenVersion: number, stored: readonly StoredItem[], now: Date): ComputedPlaylist {
  const at = now.getTime();
  const valid = stored.filter((item) => item.valid_from.getTime() <= at && item.valid_to.getTime() > at);
  const urgent = valid.some((item) => item.priority === 'urgent');
  const shown = urgent ? valid.filter((item) => item.priority === 'urgent') : valid;
  let deadline: number | null = null;
  for (const item of stored) {
    for (const moment of [item.valid_from.getTime(), item.valid_to.getTime()]) {
      if (moment > at && (deadline === null || moment < deadline)) deadline = moment;
    }
  }
  const items = shown.map((item) => ({
    id: item.id,
    campaignId: item.campaign_id,
    runId: item.run_id,
    texts: Object.fromEntries(Object.entries(item.texts).map(([lang, text]) => [lang, text.normalize('NFC')])),
    duration: item.duration,
    priority: item.priority,
    validFrom: item.valid_from.toISOString(),
    validTo: item.valid_to.toISOString(),
  }));
  const hash = createHash('sha256').update(items.map((item) => item.id).join(',')).digest('base64url').slice(0, 8);
  return { items, urgent, deadline, version: `${screenVersion}.${hash}` };
}

/**
 * Seconds until the next poll, offset per screen (a hash of its id) by up to a fifth of the
 * interval, so thousands of controllers started together drift apart (Xibo's collect offset).
 */
export function pollAfter(screenId: string, interval: number): number {
  const offset = createHash('sha256').update(screenId).digest().readUInt16BE(0) / 0xffff;
  return Math.max(1, Math.round(interval * (0.9 + 0.2 * offset)));
}

/** `online` when seen within 3 poll intervals, `offline` after, `never` before the first poll. */
export function screenStatus(lastSeen: Date | null, interval: number, now: Date): 'online' | 'offline' | 'never' {
  if (!lastSeen) return 'never';
  return now.getTime() - lastSeen.getTime() > 3 * interval * 1000 ? 'offline' : 'online';
}
