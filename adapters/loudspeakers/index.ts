import type { LoudspeakerAdapter } from '../../src/loudspeakers/loudspeaker-adapter.js';
import { ipLoudspeakerAdapter } from './ip-loudspeaker.js';

/** Every loudspeaker controller family Loa drives; each kind is a device kind of the screens registry. */
export const LOUDSPEAKER_ADAPTERS: readonly LoudspeakerAdapter[] = [ipLoudspeakerAdapter];

export const LOUDSPEAKER_KINDS: readonly string[] = LOUDSPEAKER_ADAPTERS.map((adapter) => adapter.kind);

export function loudspeakerAdapterForFormat(format: string): LoudspeakerAdapter | undefined {
  return LOUDSPEAKER_ADAPTERS.find((adapter) => adapter.format === format);
}
