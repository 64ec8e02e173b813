/**
 * Keys scoped to areas (issue 12, item 5): a district officer's key sees and launches only for its
 * communes. A scope is a set of whole provinces and of communes, each commune with its province,
 * because area codes are opaque strings compared exactly (README, "Area codes") and the audience
 * filter is `province ∈ areas.province AND commune ∈ areas.commune` (compile.repository.ts).
 */

export interface AreaScope {
  /** Whole provinces. */
  provinces: readonly string[];
  /** Single communes of a province. */
  communes: ReadonlyArray<{ province: string; commune: string }>;
}

/** An area code as files and campaigns write them: no separator, no space. */
const CODE = /^[^/\s,]{1,64}$/;
/** More than a province has communes is a mistake (or an attempt to make a huge key). */
export const MAX_SCOPE_AREAS = 500;

export type ParsedAreas = { ok: true; scope: AreaScope } | { ok: false; message: string };

/** `['92', '92/31117']` (or one comma-separated string) into a scope; the message names the bad entry. */
export function parseAreas(entries: readonly string[]): ParsedAreas {
  const items = entries.flatMap((entry) => entry.split(',')).map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (items.length === 0) return { ok: false, message: 'give at least one area: PROVINCE or PROVINCE/COMMUNE' };
  if (items.length > MAX_SCOPE_AREAS) return { ok: false, message: `at most ${MAX_SCOPE_AREAS} areas` };
  const provinces = new Set<string>();
  const communes = new Map<string, { province: string; commune: string }>();
  for (const item of items) {
    const parts = item.split('/');
    if (parts.length > 2 || !parts.every((part) => CODE.test(part))) {
      return { ok: false, message: `'${item}' is not PROVINCE or PROVINCE/COMMUNE (codes as in the audience files, e.g. 92 or 92/31117)` };
    }
    const [province, commune] = parts as [string, string | undefined];
    if (commune === undefined) provinces.add(province);
    else communes.set(`${province}/${commune}`, { province, commune });
  }
  // A commune of a province the scope holds whole adds nothing.
  return { ok: true, scope: { provinces: [...provinces], communes: [...communes.values()].filter((c) => !provinces.has(c.province)) } };
}

/** The stored form (api_keys.areas) and what the API and CLI show: sorted, one entry each. */
export function formatAreas(scope: AreaScope): string[] {
  return [...scope.provinces, ...scope.communes.map((c) => `${c.province}/${c.commune}`)].sort();
}

/** Whether a place (a subscriber, a screen) is inside the scope; a place without a province never is. */
export function placeWithin(scope: AreaScope, province: string | null | undefined, commune: string | null | undefined): boolean {
  if (!province) return false;
  if (scope.provinces.includes(province)) return true;
  return commune !== null && commune !== undefined && scope.communes.some((c) => c.province === province && c.commune === commune);
}

/**
 * What an area filter (`{province, commune}` of a campaign's audience or a screens item) reaches
 * outside the scope, as `PROVINCE` or `PROVINCE/COMMUNE` entries; empty when it is inside. A filter
 * must name its provinces: without one it reaches every province.
 */
export function areasOutside(scope: AreaScope, areas: { province?: readonly string[]; commune?: readonly string[] } | undefined): string[] {
  const provinces = areas?.province ?? [];
  const communes = areas?.commune ?? [];
  if (provinces.length === 0) return [communes.length === 0 ? '(every province)' : `(any province)/${communes.join('|')}`];
  const outside: string[] = [];
  for (const province of provinces) {
    if (scope.provinces.includes(province)) continue;
    if (communes.length === 0) outside.push(province);
    else for (const commune of communes) if (!placeWithin(scope, province, commune)) outside.push(`${province}/${commune}`);
  }
  return outside;
}

/** The parts of a campaign document a scope is checked against (domain/campaign.ts Campaign). */
export interface ScopedCampaign {
  audience?: { areas?: { province?: readonly string[]; commune?: readonly string[] } };
  screens?: ReadonlyArray<{ targets?: { areas?: { province?: readonly string[]; commune?: readonly string[] } } }>;
}

/**
 * Where a campaign reaches outside the scope: its audience's areas and every screens item's
 * target areas (both filters are province ∧ commune, so naming them inside is what confines them).
 */
export function campaignOutside(scope: AreaScope, campaign: ScopedCampaign): string[] {
  const outside = new Set(areasOutside(scope, campaign.audience?.areas));
  campaign.screens?.forEach((item, index) => {
    for (const area of areasOutside(scope, item.targets?.areas)) outside.add(`screens[${index}]: ${area}`);
  });
  return [...outside];
}
