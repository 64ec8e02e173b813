import { describe, expect, it } from 'vitest';
import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { CARRIER_IDS, type CarrierId, type SmppErrorAction } from '../../src/domain/carrier.js';

// From ../shared/reference/vietnam.md "Mobile prefixes".
const PREFIXES: Record<CarrierId, string[]> = {
  viettel: ['086', '096', '097', '098', '032', '033', '034', '035', '036', '037', '038', '039'],
  vnpt: ['081', '082', '083', '084', '085', '088', '091', '094'],
  mobifone: ['089', '090', '093', '070', '076', '077', '078', '079'],
};
const NOT_OURS = ['087', '092', '056', '058', '059', '099', '055'];

// From ../shared/reference/smpp.md "Status codes an ESME must act on".
const STATUS_ACTIONS: Array<[number, SmppErrorAction]> = [
  [0x58, 'throttle'],
  [0x14, 'queue-full'],
  [0x08, 'retry'],
  [0x64, 'retry'],
  [0x0b, 'rejected'],
  [0x0a, 'stop-run'],
  [0x48, 'stop-run'],
  [0x50, 'stop-run'],
  [0x45, 'permanent'],
  [0x65, 'permanent'],
  [0x04, 'rebind'],
  [0x0d, 'bind-failed'],
  [0x0e, 'bind-failed'],
  [0x0f, 'bind-failed'],
];

const hex = (status: number): string => `0x${status.toString(16).toUpperCase()}`;
const carrierStatusRows = CARRIER_IDS.flatMap((carrier) => STATUS_ACTIONS.map(([status, action]) => [carrier, hex(status), status, action] as const));

describe('CARRIER_PROFILES', () => {
  it('has one profile per carrier id, keyed by its own id', () => {
    expect(Object.keys(CARRIER_PROFILES).sort()).toEqual([...CARRIER_IDS].sort());
    for (const id of CARRIER_IDS) expect(CARRIER_PROFILES[id].id).toBe(id);
  });

  it.each(CARRIER_IDS.flatMap((carrier) => PREFIXES[carrier].map((prefix) => [carrier, prefix] as const)))('%s owns %s', (carrier, prefix) => {
    const sut = CARRIER_PROFILES[carrier];
    expect(sut.prefixes).toContain(prefix);
    for (const other of CARRIER_IDS.filter((id) => id !== carrier)) expect(CARRIER_PROFILES[other].prefixes).not.toContain(prefix);
  });

  it.each(CARRIER_IDS)('%s has no prefix beyond the reference table, none of another carrier', (carrier) => {
    const sut = CARRIER_PROFILES[carrier];
    expect([...sut.prefixes].sort()).toEqual([...PREFIXES[carrier]].sort());
    for (const prefix of NOT_OURS) expect(sut.prefixes).not.toContain(prefix);
    for (const prefix of sut.prefixes) expect(prefix).toMatch(/^0[1-9]\d$/);
  });

  it.each(carrierStatusRows)('%s: status %s → %s', (carrier, _, status, action) => {
    const sut = CARRIER_PROFILES[carrier].errorMeaning(status);
    expect(sut.action).toBe(action);
    expect(sut.status).toBe(status);
    expect(sut.name).toMatch(/^ESME_R/);
    expect(sut.description).toContain(`0x${status.toString(16).toUpperCase().padStart(2, '0')}`);
  });

  it.each(CARRIER_IDS.flatMap((carrier) => [0x400, 0x4a7, 0x4ff].map((status) => [carrier, hex(status), status] as const)))(
    '%s: undocumented vendor status %s is permanent and names the carrier',
    (carrier, _, status) => {
      const sut = CARRIER_PROFILES[carrier];
      const meaning = sut.errorMeaning(status);
      expect(meaning.action).toBe('permanent');
      expect(meaning.description).toContain(status.toString(16).toUpperCase());
      expect(meaning.description).toContain(sut.name.split(' ')[0]);
    },
  );

  it.each(CARRIER_IDS.flatMap((carrier) => [0x1234, 0x3ff, 0x500, 0xffff, 0x99].map((status) => [carrier, hex(status), status] as const)))(
    '%s: unknown status %s is permanent with its hex code',
    (carrier, _, status) => {
      const meaning = CARRIER_PROFILES[carrier].errorMeaning(status);
      expect(meaning.action).toBe('permanent');
      expect(meaning.description).toMatch(new RegExp(`0x0*${status.toString(16)}\\b`, 'i'));
    },
  );

  it('names a standard code it takes no special action on', () => {
    expect(CARRIER_PROFILES.viettel.errorMeaning(0x01)).toMatchObject({ name: 'ESME_RINVMSGLEN', action: 'permanent' });
  });

  it.each([
    ['viettel', 200, 50, 2, 'hex', 'dec', true],
    ['vnpt', 100, 20, 2, 'dec', 'dec', false],
    ['mobifone', 100, 30, 2, 'hex', 'hex', true],
  ] as const)('%s defaults: tps %i, window %i, binds %i, ids %s/%s, UCS-2 on brandname %s', (carrier, tps, window, maxBinds, submit, receipt, ucs2) => {
    const sut = CARRIER_PROFILES[carrier];
    expect(sut.defaults).toMatchObject({ tps, window, maxBinds, messageId: { submit, receipt } });
    expect(sut.ucs2WithBrandname).toBe(ucs2);
  });
});
