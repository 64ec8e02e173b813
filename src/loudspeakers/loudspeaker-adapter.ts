import type { Rendering } from '../screens/screen-adapter.js';

/** One timed broadcast in a loudspeaker's schedule (GET /v1/loudspeakers/:id/playlist). */
export interface ScheduleSlot {
  item: number;
  campaignId: string | null;
  runId: number | null;
  /** Where the clip is fetched, with the loudspeaker's token (relative to the API). */
  audio: string;
  /** Clip's content hash (immutable: a player caches it forever). */
  hash: string;
  /** When to start playing (ISO 8601, server time). */
  start: string;
  /** Seconds, ms precision. */
  duration: number;
  priority: 'normal' | 'urgent';
  /** What is said (speech), or null for a recording. */
  text: string | null;
}

export interface LoudspeakerSchedule {
  loudspeaker: { id: string; name: string; kind: string; province: string | null; commune: string | null; hamlet: string | null; timeZone: string };
  /** Changes exactly when the slots do; also the ETag. */
  version: string;
  /** Server time: players follow it rather than their own clock. */
  now: string;
  /** When the schedule next changes by itself (an item starts or ends, a new day); null: not before a new launch. */
  deadline: string | null;
  /** An urgent broadcast is on now or waiting to start. */
  urgent: boolean;
  pollAfter: number;
  /** Today's and tomorrow's broadcasts (local days), in order. */
  slots: ScheduleSlot[];
  /** Broadcasts that found no room in a day's airtime: the windows are full. */
  unplaced: Array<{ item: number; day: string; count: number }>;
  airtime: Array<{ from: string; to: string }>;
  blackout: Array<{ from: string; to: string }>;
}

/**
 * One family of loudspeaker controllers (CONVENTIONS.md: one interface per adapter family, one
 * file per vendor). Its kind is a device kind of the screens registry; `?format=` picks its rendering.
 */
export interface LoudspeakerAdapter {
  readonly kind: string;
  readonly description: string;
  /** The `?format=` it renders (besides json, which every loudspeaker has). */
  readonly format: string;
  render(schedule: LoudspeakerSchedule, absolute: (path: string) => string): Rendering;
}
