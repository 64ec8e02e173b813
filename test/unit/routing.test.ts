import { describe, expect, it } from 'vitest';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { CARRIER_IDS } from '../../src/domain/carrier.js';
import { MOBILE_PREFIXES } from '../../src/domain/numbering-plan.js';
import { resolveCarrierName, validatePortabilityEntry } from '../../src/domain/portability.js';
import { Router } from '../../src/domain/routing.js';

// ../shared/reference/vietnam.md "Mobile prefixes".
const ROUTED: Array<[string, string]> = [
  ...['086', '096', '097', '098', '032', '033', '034', '035', '036', '037', '038', '039'].map((p): [string, string] => [p, 'viettel']),
  ...['081', '082', '083', '084', '085', '088', '091', '094'].map((p): [string, string] => [p, 'vnpt']),
  ...['089', '090', '093', '070', '076', '077', '078', '079'].map((p): [string, string] => [p, 'mobifone']),
];
const UNROUTABLE: Array<[string, string]> = [
  ['092', 'Vietnamobile'],
  ['052', 'Vietnamobile'],
  ['056', 'Vietnamobile'],
  ['058', 'Vietnamobile'],
  ['059', 'Gmobile'],
  ['099', 'Gmobile'],
  ['055', 'Reddi'],
  ['087', 'iTel'],
];

const msisdn = (prefix: string): string => `84${prefix.slice(1)}1234567`;

describe('MOBILE_PREFIXES', () => {
  it('holds exactly the prefixes of the reference numbering plan', () => {
    expect(Object.keys(MOBILE_PREFIXES).sort()).toEqual([...ROUTED, ...UNROUTABLE].map(([prefix]) => prefix).sort());
  });
});

describe(Router.name, () => {
  it.each(ROUTED)('routes %s to %s', (prefix, carrier) => {
    const sut = new Router(CARRIER_PROFILES);
    expect(sut.route(msisdn(prefix))).toEqual({ unroutable: false, carrier, ported: false });
  });

  it.each(UNROUTABLE)('reports %s as unroutable (%s)', (prefix, carrierName) => {
    const sut = new Router(CARRIER_PROFILES);
    expect(sut.route(msisdn(prefix))).toEqual({ unroutable: true, carrierName, ported: false });
  });

  it('reports an unallocated prefix as unroutable to an unknown carrier', () => {
    const sut = new Router(CARRIER_PROFILES);
    expect(sut.route('84801234567')).toMatchObject({ unroutable: true, carrierName: 'unknown' });
  });

  it.each([
    ['a Map', (table: Map<string, string>) => table],
    ['a function', (table: Map<string, string>) => (n: string) => table.get(n)],
  ])('lets portability given as %s override the prefix', (_, asLookup) => {
    const table = new Map([
      [msisdn('096'), 'mobifone'],
      [msisdn('092'), 'viettel'],
      [msisdn('091'), 'Vietnamobile'],
      [msisdn('090'), ' VNPT '],
    ]);
    const sut = new Router(CARRIER_PROFILES, asLookup(table));
    expect(sut.route(msisdn('096'))).toEqual({ unroutable: false, carrier: 'mobifone', ported: true });
    expect(sut.route(msisdn('092'))).toEqual({ unroutable: false, carrier: 'viettel', ported: true });
    expect(sut.route(msisdn('091'))).toEqual({ unroutable: true, carrierName: 'Vietnamobile', ported: true });
    expect(sut.route(msisdn('090'))).toEqual({ unroutable: false, carrier: 'vnpt', ported: true });
    // A neighbour that did not port keeps its prefix carrier.
    expect(sut.route('84961234568')).toEqual({ unroutable: false, carrier: 'viettel', ported: false });
  });

  it('agrees with the numbering plan for every carrier Loa sends through', () => {
    for (const id of CARRIER_IDS) {
      const fromPlan = Object.entries(MOBILE_PREFIXES)
        .filter(([, owner]) => owner.carrier === id)
        .map(([prefix]) => prefix)
        .sort();
      expect([...CARRIER_PROFILES[id].prefixes].sort()).toEqual(fromPlan);
    }
  });
});

// Names seen in carrier-provided and hand-made portability tables.
const ALIASES: Array<[string, { carrier: string } | { carrier: null; carrierName: string }]> = [
  ...['viettel', 'Viettel', 'VIETTEL', 'Viettel Telecom', 'viettel-telecom', 'VTL', 'vtt'].map((n): [string, { carrier: string }] => [n, { carrier: 'viettel' }]),
  ...['VNPT', 'vnpt', 'Vinaphone', 'VinaPhone', 'VINAPHONE', 'VNP', 'VNPT (Vinaphone)', 'VNPT-Vinaphone', 'GPC'].map((n): [string, { carrier: string }] => [n, { carrier: 'vnpt' }]),
  ...['Mobifone', 'MobiFone', 'MOBIFONE', 'Mobi', 'mobiphone', 'VMS', 'VMS-Mobifone'].map((n): [string, { carrier: string }] => [n, { carrier: 'mobifone' }]),
  ...['Vietnamobile', 'VIETNAMOBILE', 'VNMobile', 'HT Mobile'].map((n): [string, { carrier: null; carrierName: string }] => [n, { carrier: null, carrierName: 'Vietnamobile' }]),
  ...['Gmobile', 'G-Mobile', 'Gtel', 'Beeline'].map((n): [string, { carrier: null; carrierName: string }] => [n, { carrier: null, carrierName: 'Gmobile' }]),
  ...['Reddi', 'REDDI'].map((n): [string, { carrier: null; carrierName: string }] => [n, { carrier: null, carrierName: 'Reddi' }]),
  ...['iTel', 'ITEL', 'Indochina Telecom'].map((n): [string, { carrier: null; carrierName: string }] => [n, { carrier: null, carrierName: 'iTel' }]),
];

describe(resolveCarrierName.name, () => {
  it.each(ALIASES)('%j → %j', (name, expected) => {
    expect(resolveCarrierName(name)).toEqual(expected);
    expect(resolveCarrierName(` ${name} `)).toEqual(expected);
  });

  it.each(['', 'Vodafone', 'Viettel2', 'mobile', 'VN'])('does not know %j', (name) => {
    expect(resolveCarrierName(name)).toBeNull();
  });
});

describe(`${Router.name} with portability names`, () => {
  it.each(ALIASES)('routes a number ported to %j as %j', (name, expected) => {
    const number = msisdn('086');
    const sut = new Router(CARRIER_PROFILES, new Map([[number, name]]));
    expect(sut.route(number)).toEqual(
      expected.carrier === null ? { unroutable: true, carrierName: expected.carrierName, ported: true } : { unroutable: false, carrier: expected.carrier, ported: true },
    );
  });
});

describe(validatePortabilityEntry.name, () => {
  it.each([
    ['0912345678', 'Vinaphone', { ok: true, msisdn: '84912345678', target: { carrier: 'vnpt' } }],
    ['+84 96 123 4567', 'VMS', { ok: true, msisdn: '84961234567', target: { carrier: 'mobifone' } }],
    ['01699876543', 'Vietnamobile', { ok: true, msisdn: '84399876543', target: { carrier: null, carrierName: 'Vietnamobile' } }],
  ])('accepts %s → %s', (number, carrier, expected) => {
    expect(validatePortabilityEntry(number, carrier)).toEqual(expected);
  });

  it.each([
    ['0912345678', 'Vodafone', /carrier 'Vodafone' is not a carrier name we know/],
    ['0912345678', '  ', /carrier is empty/],
    ['091234', 'Viettel', /msisdn '091234': too few digits/],
    ['0212345678', 'Viettel', /landline/],
  ])('refuses %s → %j', (number, carrier, reason) => {
    const sut = validatePortabilityEntry(number, carrier);
    expect(sut.ok).toBe(false);
    expect(sut.ok ? '' : sut.reason).toMatch(reason);
  });
});
