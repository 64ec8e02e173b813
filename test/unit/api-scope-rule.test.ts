import { describe, expect, it } from 'vitest';
import { areasOutside, campaignOutside, formatAreas, parseAreas, placeWithin, type AreaScope } from '../../src/domain/area-scope.js';

const scope = (entries: string[]): AreaScope => {
  const parsed = parseAreas(entries);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.scope;
};

describe(parseAreas.name, () => {
  it.each([
    [['92'], ['92']],
    [['92/31117,92/31120'], ['92/31117', '92/31120']],
    [[' 92/31117 ', '92/31117'], ['92/31117']],
    [['92', '92/31117', '91/30280'], ['91/30280', '92']],
  ])('%j → %j', (entries, formatted) => {
    expect(formatAreas(scope(entries))).toEqual(formatted);
  });

  it.each([[[]], [['']], [[',,']], [['92/31117/1']], [['92 31117']], [['/31117']], [['92/']], [['x'.repeat(65)]]])('refuses %j with a reason', (entries) => {
    const parsed = parseAreas(entries);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/PROVINCE|area/);
  });

  it('refuses more areas than a province has communes', () => {
    expect(parseAreas([Array.from({ length: 501 }, (_, i) => `92/${i}`).join(',')]).ok).toBe(false);
  });
});

describe(areasOutside.name, () => {
  const communes = scope(['92/31117', '92/31120']);
  const province = scope(['92']);
  it.each([
    ['a commune of the scope', communes, { province: ['92'], commune: ['31117'] }, []],
    ['both communes', communes, { province: ['92'], commune: ['31117', '31120'] }, []],
    ['a commune outside', communes, { province: ['92'], commune: ['31117', '31999'] }, ['92/31999']],
    ['the whole province for a commune key', communes, { province: ['92'] }, ['92']],
    ['no province: every province', communes, { commune: ['31117'] }, ['(any province)/31117']],
    ['no filter at all', communes, {}, ['(every province)']],
    ['the same commune code in another province', communes, { province: ['92', '91'], commune: ['31117'] }, ['91/31117']],
    ['any commune of a whole-province key', province, { province: ['92'], commune: ['1', '2'] }, []],
    ['the whole province of a whole-province key', province, { province: ['92'] }, []],
    ['another province', province, { province: ['91'] }, ['91']],
  ])('%s', (_name, s, areas, outside) => {
    expect(areasOutside(s, areas)).toEqual(outside);
  });
});

describe(campaignOutside.name, () => {
  const s = scope(['92/31117']);
  it('checks the audience and every screens item', () => {
    expect(campaignOutside(s, { audience: { areas: { province: ['92'], commune: ['31117'] } }, screens: [{ targets: { areas: { province: ['92'], commune: ['31117'] } } }] })).toEqual([]);
    expect(campaignOutside(s, { audience: { areas: { province: ['92'], commune: ['31117'] } }, screens: [{ targets: { areas: { province: ['91'] } } }, { targets: {} }] })).toEqual([
      'screens[0]: 91',
      'screens[1]: (every province)',
    ]);
  });
});

describe(placeWithin.name, () => {
  const s = scope(['92/31117', '91']);
  it.each([
    ['92', '31117', true],
    ['92', '31120', false],
    ['91', null, true],
    ['91', '30280', true],
    [null, '31117', false],
    ['92', null, false],
  ] as const)('%s/%s → %s', (province, commune, within) => {
    expect(placeWithin(s, province, commune)).toBe(within);
  });
});
