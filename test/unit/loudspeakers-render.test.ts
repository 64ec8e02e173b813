import { describe, expect, it } from 'vitest';
import { ipLoudspeakerAdapter } from '../../adapters/loudspeakers/ip-loudspeaker.js';
import { describeStatus } from '../../src/cli/commands/status.js';
import { MESSAGE_STATES, type MessageState } from '../../src/domain/message-state.js';
import { translator } from '../../src/i18n/index.js';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import type { LoudspeakerSchedule } from '../../src/loudspeakers/loudspeaker-adapter.js';
import { sniffAudio } from '../../src/loudspeakers/speech-renderer.js';
import { speechText } from '../../src/loudspeakers/speech-engine.js';

describe(describeStatus.name, () => {
  const zero = Object.fromEntries(MESSAGE_STATES.map((state) => [state, 0])) as Record<MessageState, number>;
  const status = (loudspeakers: RunStatus['loudspeakers']): RunStatus => ({
    runId: 7,
    campaignId: 'an-binh',
    campaignVersionId: 3,
    contentHash: 'abcdef0123456789',
    state: 'running',
    priority: 'normal',
    error: null,
    pausedReason: null,
    audienceSize: 10,
    scheduledFor: '2026-11-26T03:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    expiresAt: null,
    carriers: [],
    unroutable: 0,
    totals: zero,
    communes: [],
    screens: { plays: 0, seconds: 0, campaignPlays: 0, byScreen: [] },
    ...(loudspeakers ? { loudspeakers } : {}),
    asOf: '2026-11-26T03:00:00.000Z',
  });

  it('shows broadcasts and minutes per commune, in the reader’s language', () => {
    const aired = status({ broadcasts: 5, minutes: 2.5, byCommune: [{ province: '92', commune: '31117', broadcasts: 3, minutes: 1.5 }, { province: '92', commune: '31120', broadcasts: 2, minutes: 1 }] });
    expect(describeStatus(aired, 'vi', translator('vi'))).toEqual(expect.arrayContaining(['Loa truyền thanh: 5 lượt phát tại 2 xã/phường (2.5 phút)', '  xã/phường 31117: 3 lượt phát, 1.5 phút']));
    expect(describeStatus(aired, 'en', translator('en'))).toEqual(expect.arrayContaining(['Loudspeakers: 5 broadcasts in 2 communes (2.5 min)', '  commune 31120: 2 broadcasts, 1.0 min']));
    for (const none of [status(undefined), status({ broadcasts: 0, minutes: 0, byCommune: [] })]) {
      expect(describeStatus(none, 'en', translator('en')).some((line) => line.startsWith('Loudspeakers'))).toBe(false);
    }
  });
});

describe(sniffAudio.name, () => {
  it.each([
    ['RIFF\u0000\u0000\u0000\u0000WAVEfmt ', 'wav'],
    ['fLaC\u0000\u0000', 'flac'],
    ['OggS\u0000\u0002\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000OpusHead', 'ogg-opus'],
    ['OggS\u0000\u0002\u0000\u0000\u0001vorbis', 'ogg-vorbis'],
    ['ID3\u0004\u0000', null],
    ['OggS but nothing we know', null],
    ['', null],
  ])('%j → %s', (head, type) => {
    expect(sniffAudio(Buffer.from(head, 'latin1'))).toBe(type);
  });
});

describe(speechText.name, () => {
  it('gives every engine NFC text on one line without control characters', () => {
    expect(speechText('  Xã\u0301 An\tBình\n\u200bthông báo  ')).toBe('Xã́ An Bình thông báo'.normalize('NFC'));
    expect(speechText('Tho\u0302ng ba\u0301o')).toBe('Thông báo');
  });
});

describe('ip loudspeaker adapter (m3u)', () => {
  const slot = (start: string, item: number, text: string | null): LoudspeakerSchedule['slots'][number] => ({ item, campaignId: 'c', runId: 1, audio: `/v1/loudspeakers/a/audio/${'a'.repeat(64)}`, hash: 'a'.repeat(64), start, duration: 12.4, priority: 'normal', text });
  const schedule: LoudspeakerSchedule = {
    loudspeaker: { id: 'a', name: 'Loa ấp 1', kind: 'loudspeaker', province: null, commune: '1', hamlet: null, timeZone: 'Asia/Ho_Chi_Minh' },
    version: '1.x',
    now: '2026-11-26T10:00:00.000Z',
    deadline: null,
    urgent: false,
    pollAfter: 60,
    slots: [slot('2026-11-26T09:00:00.000Z', 1, 'đã qua'), slot('2026-11-26T10:30:00.000Z', 2, 'Thông báo,\ntiêm chủng'), slot('2026-11-26T11:00:00.000Z', 3, null)],
    unplaced: [],
    airtime: [],
    blackout: [],
  };

  it('lists the slots still to come with their start, length and absolute clip URL', () => {
    const { contentType, body } = ipLoudspeakerAdapter.render(schedule, (path) => `https://loa.example${path}`);
    expect(contentType).toContain('mpegurl');
    expect(body.split('\n')).toEqual([
      '#EXTM3U',
      '#PLAYLIST:Loa Loa ấp 1',
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-26T10:30:00.000Z',
      '#EXTINF:13,Thông báo tiêm chủng',
      `https://loa.example/v1/loudspeakers/a/audio/${'a'.repeat(64)}`,
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-26T11:00:00.000Z',
      `#EXTINF:13,recording ${'a'.repeat(8)}`,
      `https://loa.example/v1/loudspeakers/a/audio/${'a'.repeat(64)}`,
      '',
    ]);
  });
});
