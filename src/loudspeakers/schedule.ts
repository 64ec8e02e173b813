import type { StoredItem } from '../screens/playlist.js';
import { pollAfter } from '../screens/playlist.js';
import type { Screen } from '../store/database.js';
import { localMidnight, scheduleDay, slotsHash, type AirtimeDevice, type SchedulableItem, type Slot } from './airtime.js';
import type { LoudspeakerSchedule } from './loudspeaker-adapter.js';

export function airtimeDevice(screen: Pick<Screen, 'airtime' | 'blackout' | 'time_zone'>): AirtimeDevice {
  return { airtime: screen.airtime, blackout: screen.blackout, timeZone: screen.time_zone };
}

function schedulable(item: StoredItem): SchedulableItem | null {
  if (!item.audio_hash || !item.audio_ms) return null;
  return { id: item.id, ms: item.audio_ms, repetitions: item.repetitions ?? 1, priority: item.priority, validFrom: item.valid_from.getTime(), validTo: item.valid_to.getTime() };
}

/**
 * A loudspeaker's schedule at `now`: the slots of today and tomorrow (local days), so a player
 * that loses the network tonight still airs tomorrow morning's broadcasts. It changes by itself
 * only when an item starts or ends, or at midnight: that is the deadline.
 */
export function computeSchedule(screen: Screen, stored: readonly StoredItem[], now: Date): Omit<LoudspeakerSchedule, 'now'> {
  const at = now.getTime();
  const device = airtimeDevice(screen);
  const today = localMidnight(at, device.timeZone);
  const tomorrow = localMidnight(at, device.timeZone, 1);
  const items = stored.map(schedulable).filter((item): item is SchedulableItem => item !== null);
  const slots: Slot[] = [];
  const unplaced: LoudspeakerSchedule['unplaced'] = [];
  for (const day of [today, tomorrow]) {
    // Only items valid at some point of that day compete for its airtime.
    const dayEnd = localMidnight(day, device.timeZone, 1);
    const planned = scheduleDay(day, device, items.filter((item) => item.validFrom < dayEnd && item.validTo > day));
    slots.push(...planned.slots.filter((slot) => slot.start < dayEnd));
    for (const [item, count] of planned.unplaced) unplaced.push({ item, day: new Date(day).toISOString(), count });
  }
  let deadline: number = localMidnight(at, device.timeZone, 1);
  for (const item of items) for (const moment of [item.validFrom, item.validTo]) if (moment > at && moment < deadline) deadline = moment;
  const byId = new Map(stored.map((item) => [item.id, item]));
  const urgent = slots.some((slot) => slot.priority === 'urgent' && slot.start + slot.ms > at);
  return {
    loudspeaker: { id: screen.id, name: screen.name, kind: screen.kind, province: screen.province, commune: screen.commune, hamlet: screen.hamlet, timeZone: screen.time_zone },
    version: `${screen.version}.${slotsHash(slots)}`,
    deadline: new Date(deadline).toISOString(),
    urgent,
    pollAfter: pollAfter(screen.id, screen.poll_interval),
    slots: slots.map((slot) => {
      const item = byId.get(slot.item)!;
      return {
        item: slot.item,
        campaignId: item.campaign_id,
        runId: item.run_id,
        audio: `/v1/loudspeakers/${encodeURIComponent(screen.id)}/audio/${item.audio_hash}`,
        hash: item.audio_hash!,
        start: new Date(slot.start).toISOString(),
        duration: slot.ms / 1000,
        priority: slot.priority,
        text: item.texts.vi ?? null,
      };
    }),
    unplaced,
    airtime: screen.airtime,
    blackout: screen.blackout,
  };
}
