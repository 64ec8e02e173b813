import { describe, expect, it } from 'vitest';
import { noBindPause, pausedByMessage } from '../../src/domain/pause-codes.js';
import { translator } from '../../src/i18n/index.js';

describe('pause codes', () => {
  it('names the carrier of an announced no-bind pause, and nothing else', () => {
    expect(noBindPause.carrierOf(noBindPause.announced('mobifone'))).toBe('mobifone');
    // Not yet announced, or another carrier's spelling: not a code the scheduler resumes.
    expect(noBindPause.carrierOf(noBindPause.pending('mobifone'))).toBeNull();
    expect(noBindPause.carrierOf('auto:no-bind:gmobile')).toBeNull();
    expect(noBindPause.carrierOf('auto')).toBeNull();
    expect(noBindPause.carrierOf(null)).toBeNull();
  });

  it('says who paused a run in Vietnamese by default and in English on request; an unknown code is shown as it is', () => {
    const say = (code: string, language: 'vi' | 'en'): string | null => {
      const message = pausedByMessage(code);
      return message ? translator(language)(message.key, 'params' in message ? message.params : undefined) : null;
    };
    expect(say('auto:no-bind:vnpt', 'vi')).toBe('hệ thống: mất kết nối tới vnpt (tự tiếp tục khi kết nối lại)');
    expect(say('auto:no-bind:vnpt', 'en')).toBe('the engine: no connection to vnpt (resumes by itself once it connects again)');
    expect(say('quiet-hours', 'vi')).toBe('giờ yên lặng (tự tiếp tục khi hết giờ)');
    expect(say('operator', 'en')).toBe('an operator');
    expect(say('no-bind:vnpt', 'vi')).toBeNull();
  });
});
