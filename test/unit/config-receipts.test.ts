import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe(`${loadConfig.name} (receipts and retention)`, () => {
  it('keeps receipts a week and messages 90 days by default', () => {
    expect(loadConfig({}).receipts).toEqual({ windowMs: 168 * 3_600_000, retentionDays: 90 });
  });

  it('reads LOA_RECEIPT_WINDOW_HOURS and LOA_RETENTION_DAYS, 0 days keeping messages for ever', () => {
    expect(loadConfig({ LOA_RECEIPT_WINDOW_HOURS: '72', LOA_RETENTION_DAYS: '0' }).receipts).toEqual({ windowMs: 72 * 3_600_000, retentionDays: null });
  });

  it.each([
    ['LOA_RECEIPT_WINDOW_HOURS', '0'],
    ['LOA_RETENTION_DAYS', '-1'],
    ['LOA_RETENTION_DAYS', 'a month'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
