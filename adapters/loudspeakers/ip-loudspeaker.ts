import type { LoudspeakerAdapter, LoudspeakerSchedule } from '../../src/loudspeakers/loudspeaker-adapter.js';
import type { Rendering } from '../../src/screens/screen-adapter.js';

/**
 * A commune loudspeaker cluster driven by an IP/4G controller ("truyền thanh thông minh") or a PC
 * wired to an amplifier. Besides the JSON schedule every loudspeaker has, it renders an extended
 * M3U playlist of the slots still to come (#EXTINF length and title, a #EXT-X-PROGRAM-DATE-TIME
 * start per clip), which controllers built on VLC or mpd can load as is.
 */
export const ipLoudspeakerAdapter: LoudspeakerAdapter = {
  kind: 'loudspeaker',
  description: 'commune loudspeaker cluster: IP/4G controller or PC with an amplifier',
  format: 'm3u',
  render(schedule: LoudspeakerSchedule, absolute: (path: string) => string): Rendering {
    const now = Date.parse(schedule.now);
    const lines = ['#EXTM3U', `#PLAYLIST:Loa ${schedule.loudspeaker.name.replace(/[\r\n]+/g, ' ')}`];
    for (const slot of schedule.slots) {
      if (Date.parse(slot.start) + slot.duration * 1000 <= now) continue;
      const title = (slot.text ?? `recording ${slot.hash.slice(0, 8)}`).replace(/[\r\n,]+/g, ' ').slice(0, 120);
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${slot.start}`, `#EXTINF:${Math.ceil(slot.duration)},${title}`, absolute(slot.audio));
    }
    return { contentType: 'audio/x-mpegurl; charset=utf-8', body: `${lines.join('\n')}\n` };
  },
};

export type { LoudspeakerSchedule };
