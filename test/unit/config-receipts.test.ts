import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe(`${loadConfig.name} (receipts and retention)`, () => {
  it('keeps receipts a week, messages 90 days and unused loudspeaker audio 30 days by default', () => {
    expect(loadConfig({}).receipts).toEqual({ windowMs: 168 * 3_600_000, retentionDays: 90, audioRetentionDays: 30 });
  });

  it('reads LOA_RECEIPT_WINDOW_HOURS, LOA_RETENTION_DAYS and LOA_AUDIO_RETENTION_DAYS, 0 days keeping them for ever', () => {
    expect(loadConfig({ LOA_RECEIPT_WINDOW_HOURS: '72', LOA_RETENTION_DAYS: '0', LOA_AUDIO_RETENTION_DAYS: '0' }).receipts).toEqual({ windowMs: 72 * 3_600_000, retentionDays: null, audioRetentionDays: null });
    expect(loadConfig({ LOA_AUDIO_RETENTION_DAYS: '7' }).receipts.audioRetentionDays).toBe(7);
  });

  it.each([
    ['LOA_RECEIPT_WINDOW_HOURS', '0'],
    ['LOA_RETENTION_DAYS', '-1'],
    ['LOA_RETENTION_DAYS', 'a month'],
    ['LOA_AUDIO_RETENTION_DAYS', '-3'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
