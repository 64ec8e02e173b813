import type { Campaign } from '../domain/campaign.js';
import type { Translate } from '../i18n/index.js';
import { AudioToolError } from './audio-tools.js';
import { AudioRejected, type SpeechRenderer } from './speech-renderer.js';

export interface LoudspeakerLines {
  lines: string[];
  /** The same for machines (`loa preview --json`): each item's clip length, null when it could not be rendered here. */
  items: Array<{ index: number; durationMs: number | null; repetitions: number; dailySeconds: number | null }>;
  /** Items that cannot be read out at all (`loudspeakers[0].text: …`): the file is invalid. */
  problems: string[];
}

/**
 * `loa validate`'s loudspeakers part: each item rendered as the service will render it, so its
 * length is known before launch (airtime fit is checked at launch, against the registry's windows).
 * Without espeak-ng on this machine the length shows as `?` rather than failing the file.
 */
export async function loudspeakerLines(campaign: Campaign, renderer: SpeechRenderer, t: Translate): Promise<LoudspeakerLines> {
  const items = campaign.loudspeakers ?? [];
  if (items.length === 0) return { lines: [], items: [], problems: [] };
  const lines = [`  ${t('loudspeakers.validate.label')}:`];
  const problems: string[] = [];
  const described: LoudspeakerLines['items'] = [];
  for (const [index, item] of items.entries()) {
    let seconds = '?';
    let durationMs: number | null = null;
    if (item.text !== undefined) {
      try {
        durationMs = (await renderer.speak(item.text, item.voice ?? 'vi')).durationMs;
        seconds = (durationMs / 1000).toFixed(1);
      } catch (error) {
        if (error instanceof AudioRejected) problems.push(`loudspeakers[${index}].text: ${error.message}`);
        else if (!(error instanceof AudioToolError)) throw error;
      }
    }
    const areas = item.targets.areas ?? {};
    const targets = [
      ...(item.targets.ids ? [`ids ${item.targets.ids.join(',')}`] : []),
      ...(item.targets.tags ? [`tags ${item.targets.tags.join(',')}`] : []),
      ...Object.entries(areas).map(([key, values]) => `${key} ${(values as string[]).join(',')}`),
    ].join('; ');
    const what = item.text !== undefined ? `"${item.text.length > 60 ? `${item.text.slice(0, 57)}…` : item.text}"` : t('loudspeakers.validate.recording', { hash: (item.audio ?? '').slice(0, 12) });
    lines.push(`    ${t('loudspeakers.validate.item', { what, seconds, repetitions: item.repetitions ?? 1, targets })}`);
    const repetitions = item.repetitions ?? 1;
    described.push({ index, durationMs, repetitions, dailySeconds: durationMs === null ? null : Math.round((durationMs * repetitions) / 100) / 10 });
  }
  return { lines, items: described, problems };
}
