/**
 * Small builders for test fixtures (CONVENTIONS.md "Tests"): a valid default, overridden per test.
 */
import { stringify } from 'yaml';
import type { Campaign } from '../src/domain/campaign.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<infer U> ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** A minimal valid campaign document (as a user writes it: defaults omitted). */
export function campaignDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'cantho-test',
    name: 'Xét nghiệm là then chốt',
    message: {
      text: 'So TTTT Can Tho: Xet nghiem la then chot. Duong day nong 1900 9095',
      sender: { viettel: 'STTTT-CT', vnpt: 'STTTT-CT', mobifone: 'STTTT-CT' },
    },
    audience: { lists: ['cantho-subscribers'] },
    operators: ['viettel', 'vnpt', 'mobifone'],
    ...overrides,
  };
}

/** The same document as YAML text. */
export function campaignYaml(overrides: Record<string, unknown> = {}): string {
  return stringify(campaignDocument(overrides));
}

/** A fully-defaulted Campaign value, for code that takes a parsed campaign. */
export function buildCampaign(overrides: DeepPartial<Campaign> = {}): Campaign {
  const base: Campaign = {
    id: 'cantho-test',
    name: 'Xét nghiệm là then chốt',
    priority: 'normal',
    message: {
      text: 'So TTTT Can Tho: Xet nghiem la then chot. Duong day nong 1900 9095',
      encoding: 'auto',
      sender: { viettel: 'STTTT-CT', vnpt: 'STTTT-CT', mobifone: 'STTTT-CT' },
    },
    audience: { lists: ['cantho-subscribers'], areas: { province: [], commune: [] }, exclude: [], ignoreOptOuts: false },
    operators: ['viettel', 'vnpt', 'mobifone'],
    throttle: {},
    validity: 'PT24H',
    screens: [],
  };
  return {
    ...base,
    ...overrides,
    message: { ...base.message, ...overrides.message, sender: { ...base.message.sender, ...overrides.message?.sender } },
    audience: {
      ...base.audience,
      ...overrides.audience,
      areas: { ...base.audience.areas, ...overrides.audience?.areas },
    },
    throttle: { ...overrides.throttle },
  } as Campaign;
}

/** Lines of an audience CSV (header first). */
export function audienceCsv(rows: ReadonlyArray<{ msisdn: string; province?: string; commune?: string }>): string {
  return ['msisdn,province,commune', ...rows.map((row) => `${row.msisdn},${row.province ?? '92'},${row.commune ?? '31117'}`)].join('\n') + '\n';
}
