import { describe, expect, it } from 'vitest';
import { describeStatus } from '../../src/cli/commands/status.js';
import { carrierFigures, formatEta, formatTime } from '../../src/cli/output.js';
import type { RunStatus } from '../../src/jobs/engine-contract.js';
import { MESSAGE_STATES, type MessageState } from '../../src/domain/message-state.js';
import { translator } from '../../src/i18n/index.js';
import { quietHoursOf } from '../../src/services/launch.service.js';
import { buildCampaign } from '../factories.js';

const en = translator('en');

describe(formatEta.name, () => {
  it.each([
    [null, 'unknown'],
    [Number.POSITIVE_INFINITY, 'unknown'],
    [0, '0:00'],
    [59.6, '1:00'],
    [125, '2:05'],
    [3723, '1:02:03'],
  ])('%s s → %s', (seconds, expected) => {
    expect(formatEta(seconds, en)).toBe(expected);
  });
});

describe(formatTime.name, () => {
  it('shows Vietnam wall-clock time whatever the machine’s zone', () => {
    expect(formatTime('2026-11-26T16:00:00Z', 'vi', en)).toBe('23:00:00 26/11/2026');
    expect(formatTime('2026-11-26T16:00:00Z', 'en', en)).toBe('26/11/2026, 23:00:00');
    expect(formatTime(null, 'en', en)).toBe('—');
  });
});

describe(carrierFigures.name, () => {
  it('counts sent as everything out of the queue, and failed only as what surely did not arrive', () => {
    const counts = Object.fromEntries(MESSAGE_STATES.map((state) => [state, 0])) as Record<MessageState, number>;
    Object.assign(counts, { queued: 10, submitting: 5, submitted: 20, delivered: 50, undeliverable: 3, rejected: 2, ambiguous: 4, unknown: 6 });
    expect(carrierFigures({ carrier: 'viettel', total: 100, counts, submitRate: 0, etaSeconds: null })).toEqual({ sent: 85, delivered: 50, failed: 5 });
  });
});

describe(quietHoursOf.name, () => {
  it('takes the schedule’s quiet hours, the 22:00–07:00 default without a schedule, and none when urgent', () => {
    expect(quietHoursOf(buildCampaign())).toEqual({ from: '22:00', to: '07:00', timeZone: 'Asia/Ho_Chi_Minh' });
    expect(quietHoursOf(buildCampaign({ schedule: { start: '2026-01-01T08:00:00', timezone: 'Asia/Bangkok', quietHours: { from: '21:00', to: '06:30' } } }))).toEqual({ from: '21:00', to: '06:30', timeZone: 'Asia/Bangkok' });
    expect(quietHoursOf(buildCampaign({ schedule: { start: '2026-01-01T08:00:00', timezone: 'Asia/Ho_Chi_Minh', quietHours: null } }))).toBeNull();
    expect(quietHoursOf(buildCampaign({ priority: 'urgent' }))).toBeNull();
  });
});

describe(describeStatus.name, () => {
  const zero = Object.fromEntries(MESSAGE_STATES.map((state) => [state, 0])) as Record<MessageState, number>;
  const status = (screens: RunStatus['screens']): RunStatus => ({
    runId: 7,
    campaignId: 'kiengiang',
    campaignVersionId: 3,
    contentHash: 'abcdef0123456789',
    state: 'running',
    priority: 'urgent',
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
    screens,
    asOf: '2026-11-26T03:00:00.000Z',
  });

  it('shows proof of play when the campaign was played on screens, in the reader’s language', () => {
    const played = status({ plays: 12, seconds: 180, campaignPlays: 30, byScreen: [{ screenId: 'a', plays: 7, seconds: 105 }, { screenId: 'b', plays: 5, seconds: 75 }] });
    expect(describeStatus(played, 'en', translator('en'))).toContain('Screens: 12 plays on 2 screens (3 min); whole campaign: 30 plays');
    expect(describeStatus(played, 'vi', translator('vi'))).toContain('Màn hình: 12 lượt phát trên 2 màn hình (3 phút); cả chiến dịch: 30 lượt');
    const none = status({ plays: 0, seconds: 0, campaignPlays: 0, byScreen: [] });
    expect(describeStatus(none, 'en', translator('en')).some((line) => line.startsWith('Screens:'))).toBe(false);
  });
});
