import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignYaml } from '../factories.js';
import { liveOperations, startHardenedApi, type Caller, type HardenedApi, type Operation } from '../helpers/api-hard.js';

/**
 * What each caller gets on each route (issue 12, item 5). Every operation of the live OpenAPI
 * document must be declared here: a route added without a line fails the first test, so whoever
 * adds it decides who may call it.
 *
 * - `allow`: not refused (no 401, no 403);
 * - `401` / `403`: refused so;
 * - `scope`: the scoped key (an operator limited to SCOPE_AREAS) is served for things inside its
 *   areas and gets 404 (reads: outside does not exist for it) or 403 (writes) for things outside.
 */
type Expect = 'allow' | 401 | 403 | 'scope';
type Row = Record<Caller, Expect>;

const reader: Row = { admin: 'allow', operator: 'allow', viewer: 'allow', scoped: 'scope', screen: 401, none: 401 };
const writer: Row = { admin: 'allow', operator: 'allow', viewer: 403, scoped: 'scope', screen: 401, none: 401 };
/** Department-wide registers: operators change them, scoped keys may not. */
const departmentWriter: Row = { admin: 'allow', operator: 'allow', viewer: 403, scoped: 403, screen: 401, none: 401 };
const operatorReader: Row = { admin: 'allow', operator: 'allow', viewer: 403, scoped: 'scope', screen: 401, none: 401 };
/** Operator tools bound to no area (rendering speech, clips by content hash): a scoped operator key uses them too. */
const operatorTool: Row = { admin: 'allow', operator: 'allow', viewer: 403, scoped: 'allow', screen: 401, none: 401 };
/** Any API key, scoped or not: department-wide settings everyone reads. */
const anyKey: Row = { admin: 'allow', operator: 'allow', viewer: 'allow', scoped: 'allow', screen: 401, none: 401 };
const adminOnly: Row = { admin: 'allow', operator: 403, viewer: 403, scoped: 403, screen: 401, none: 401 };
/** A screen's controller: its own token only; API keys are not screen tokens. */
const screenOnly: Row = { admin: 401, operator: 401, viewer: 401, scoped: 401, screen: 'allow', none: 401 };
/** Another device's own routes: a screen's token opens no loudspeaker (the cluster's own token: loudspeakers-api.test.ts). */
const otherDevice: Row = { admin: 401, operator: 401, viewer: 401, scoped: 401, screen: 401, none: 401 };
/** The console's session: API keys neither sign in nor hold a session (the cookie side: console-session.test.ts); a wrong password is 401 to anyone. */
const sessionOnly: Row = { admin: 401, operator: 401, viewer: 401, scoped: 401, screen: 401, none: 401 };
const open: Row = { admin: 'allow', operator: 'allow', viewer: 'allow', scoped: 'allow', screen: 'allow', none: 'allow' };

const MATRIX: Record<string, Row> = {
  'GET /health': open,
  'GET /metrics': open,
  'GET /v1/audit': adminOnly,
  'GET /v1/campaigns': reader,
  'GET /v1/campaigns/{id}': reader,
  'POST /v1/campaigns': writer,
  'PUT /v1/campaigns/{id}': writer,
  'POST /v1/campaigns/{id}/launch': writer,
  'GET /v1/keys': adminOnly,
  'POST /v1/keys': adminOnly,
  'DELETE /v1/keys/{id}': adminOnly,
  'GET /v1/lists': reader,
  'POST /v1/lists/{id}/import': departmentWriter,
  'DELETE /v1/lists/{id}': departmentWriter,
  'POST /v1/optouts/import': departmentWriter,
  'DELETE /v1/optouts/{msisdn}': departmentWriter,
  'POST /v1/portability/import': departmentWriter,
  'GET /v1/runs': reader,
  'GET /v1/runs/{id}': reader,
  'GET /v1/runs/{id}/plays': reader,
  'POST /v1/runs/{id}/pause': writer,
  'POST /v1/runs/{id}/resume': writer,
  'POST /v1/runs/{id}/cancel': writer,
  'GET /v1/screens': operatorReader,
  'GET /v1/screens/{id}': operatorReader,
  'POST /v1/screens': adminOnly,
  'POST /v1/screens/{id}/token': adminOnly,
  'GET /v1/screens/{id}/playlist': screenOnly,
  'GET /v1/screens/{id}/player': screenOnly,
  'GET /v1/screens/{id}/events': screenOnly,
  'POST /v1/screens/{id}/plays': screenOnly,
  'GET /v1/reports/runs/{id}': reader,
  'GET /v1/reports/daily': reader,
  'GET /v1/reports/entries': reader,
  'POST /v1/reports/entries': writer,
  'DELETE /v1/reports/entries/{id}': writer,
  'GET /v1/reports/areas': reader,
  'PUT /v1/reports/areas/{id}': adminOnly,
  'DELETE /v1/reports/areas/{id}': adminOnly,
  'POST /v1/campaigns/{id}/preview': reader,
  'GET /v1/lists/{id}/breakdown': reader,
  'GET /v1/runs/{id}/errors': reader,
  'GET /v1/runs/{id}/events': reader,
  'GET /v1/launch-approval-rule': anyKey,
  'PUT /v1/launch-approval-rule': adminOnly,
  'POST /v1/campaigns/{id}/approvals': writer,
  'GET /v1/approvals': anyKey,
  'POST /v1/approvals/{id}/approve': operatorTool,
  'GET /v1/users': adminOnly,
  'POST /v1/users': adminOnly,
  'POST /v1/session': sessionOnly,
  'GET /v1/session': sessionOnly,
  'DELETE /v1/session': sessionOnly,
  'GET /v1/loudspeakers': operatorReader,
  'GET /v1/loudspeakers/{id}': operatorReader,
  'GET /v1/loudspeakers/{id}/schedule': operatorReader,
  'POST /v1/loudspeakers': adminOnly,
  'POST /v1/loudspeakers/{id}/token': adminOnly,
  'POST /v1/loudspeakers/speech': operatorTool,
  'POST /v1/loudspeakers/audio': operatorTool,
  'GET /v1/loudspeakers/audio/{hash}': operatorTool,
  'GET /v1/loudspeakers/{id}/playlist': otherDevice,
  'GET /v1/loudspeakers/{id}/audio/{hash}': otherDevice,
  'GET /v1/loudspeakers/{id}/player': otherDevice,
  'GET /v1/loudspeakers/{id}/events': otherDevice,
  'POST /v1/loudspeakers/{id}/plays': otherDevice,
};

/** GET routes without a path parameter that answer for the area in their query, not listings. */
const QUERIED = new Set(['/v1/reports/daily', '/v1/reports/entries']);

type Side = 'in' | 'out';
interface Call {
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Every `id` in a JSON answer, at any depth. */
function collectIds(value: unknown, into: unknown[]): void {
  if (Array.isArray(value)) for (const item of value) collectIds(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'id') into.push(child);
      else collectIds(child, into);
    }
  }
}

const JSON_TYPE = { 'content-type': 'application/json' };
const CSV_TYPE = { 'content-type': 'text/csv' };

describe('route-by-role matrix', () => {
  let api: HardenedApi;
  let base = '';
  let operations: Operation[];
  let serial = 0;

  beforeAll(async () => {
    api = await startHardenedApi();
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    // Deletions last: the other routes still find the fixtures.
    operations = (await liveOperations(api.app)).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  /** A well-formed request for the operation, aimed inside or outside the scope. */
  function callFor(key: string, side: Side): Call {
    const f = api.fixtures;
    const run = side === 'in' ? f.inRun : f.outRun;
    const campaign = side === 'in' ? f.inCampaign : f.outCampaign;
    const screen = side === 'in' ? f.inScreen : f.outScreen;
    const loudspeaker = side === 'in' ? f.inLoudspeaker : f.outLoudspeaker;
    const reportArea = `group:${side === 'in' ? f.inGroup : f.outGroup}`;
    const list = side === 'in' ? f.inList : f.outList;
    const areas = side === 'in' ? { province: ['92'], commune: ['31117'] } : { province: ['92'] };
    const fresh = `matrix-${(serial += 1)}`;
    switch (key) {
      case 'GET /v1/audit':
        return { url: `/v1/audit?campaign=${campaign}` };
      case 'GET /v1/campaigns/{id}':
        return { url: `/v1/campaigns/${campaign}` };
      case 'POST /v1/campaigns':
        return { url: '/v1/campaigns', headers: { 'content-type': 'application/yaml' }, body: campaignYaml({ id: fresh, audience: { lists: [list], areas } }) };
      case 'PUT /v1/campaigns/{id}':
        return { url: `/v1/campaigns/${campaign}`, headers: { 'content-type': 'application/yaml' }, body: campaignYaml({ id: campaign, name: `v${serial}`, audience: { lists: [list], areas } }) };
      case 'POST /v1/campaigns/{id}/launch':
        return { url: `/v1/campaigns/${campaign}/launch`, headers: JSON_TYPE, body: '{}' };
      case 'POST /v1/keys':
        return { url: '/v1/keys', headers: JSON_TYPE, body: JSON.stringify({ role: 'viewer', name: fresh }) };
      case 'DELETE /v1/keys/{id}':
        return { url: '/v1/keys/999999' };
      case 'POST /v1/lists/{id}/import':
        return { url: `/v1/lists/${fresh}/import`, headers: CSV_TYPE, body: 'msisdn,province,commune\n0960000009,92,31117\n' };
      case 'DELETE /v1/lists/{id}':
        return { url: `/v1/lists/${list}` };
      case 'POST /v1/optouts/import':
        return { url: '/v1/optouts/import', headers: CSV_TYPE, body: 'msisdn\n0960000008\n' };
      case 'DELETE /v1/optouts/{msisdn}':
        return { url: '/v1/optouts/0960000008' };
      case 'POST /v1/portability/import':
        return { url: '/v1/portability/import', headers: CSV_TYPE, body: 'msisdn,carrier\n0960000007,Vinaphone\n' };
      case 'POST /v1/screens':
        return { url: '/v1/screens', headers: JSON_TYPE, body: JSON.stringify({ id: fresh, name: fresh, kind: 'led', province: '92', commune: '31117' }) };
      case 'POST /v1/screens/{id}/plays':
        return { url: `/v1/screens/${screen}/plays`, headers: JSON_TYPE, body: JSON.stringify({ plays: [] }) };
      case 'PUT /v1/launch-approval-rule':
        return { url: '/v1/launch-approval-rule', headers: JSON_TYPE, body: JSON.stringify({ above: null }) };
      case 'POST /v1/users':
        return { url: '/v1/users', headers: JSON_TYPE, body: JSON.stringify({ name: fresh, role: 'viewer', password: 'a long enough password 1' }) };
      case 'POST /v1/session':
        return { url: '/v1/session', headers: JSON_TYPE, body: JSON.stringify({ name: 'nobody', password: 'wrong password' }) };
      case 'GET /v1/reports/runs/{id}':
        return { url: `/v1/reports/runs/${run}` };
      case 'GET /v1/reports/daily':
        return { url: `/v1/reports/daily?date=2026-11-26&area=${reportArea}` };
      case 'GET /v1/reports/entries':
        return { url: `/v1/reports/entries?date=2026-11-26&area=${reportArea}` };
      case 'POST /v1/reports/entries':
        return { url: '/v1/reports/entries', headers: JSON_TYPE, body: JSON.stringify({ date: '2026-11-26', area: reportArea, channel: 'web', count: 2, text: fresh }) };
      case 'DELETE /v1/reports/entries/{id}':
        return { url: `/v1/reports/entries/${side === 'in' ? f.inEntry : f.outEntry}` };
      case 'PUT /v1/reports/areas/{id}':
        return { url: `/v1/reports/areas/${fresh}`, headers: JSON_TYPE, body: JSON.stringify({ name: fresh, province: '92', communes: ['31117'] }) };
      case 'DELETE /v1/reports/areas/{id}':
        return { url: `/v1/reports/areas/${fresh}` };
      case 'POST /v1/loudspeakers':
        return { url: '/v1/loudspeakers', headers: JSON_TYPE, body: JSON.stringify({ id: fresh, name: fresh, province: '92', commune: '31117', airtime: [{ from: '17:00', to: '18:30' }] }) };
      case 'POST /v1/loudspeakers/speech':
        return { url: '/v1/loudspeakers/speech', headers: JSON_TYPE, body: JSON.stringify({ text: 'Thông báo.' }) };
      case 'POST /v1/loudspeakers/audio':
        return { url: '/v1/loudspeakers/audio', headers: { 'content-type': 'audio/wav' }, body: 'not a recording' };
      case 'POST /v1/loudspeakers/{id}/plays':
        return { url: `/v1/loudspeakers/${loudspeaker}/plays`, headers: JSON_TYPE, body: JSON.stringify({ plays: [] }) };
      default: {
        const [, path = ''] = key.split(' ');
        const ids: Record<string, string> = { runs: String(run), campaigns: campaign, screens: screen, loudspeakers: loudspeaker, lists: list };
        const resource = path.split('/')[2] ?? '';
        return { url: path.replace('{id}', ids[resource] ?? '1').replace('{hash}', '0'.repeat(64)) };
      }
    }
  }

  async function send(key: string, caller: Caller, side: Side): Promise<{ status: number; ids: unknown[] }> {
    const [method = 'GET'] = key.split(' ');
    const call = callFor(key, side);
    const response = await fetch(base + call.url, {
      method,
      headers: { ...api.headers(caller), ...call.headers },
      ...(call.body !== undefined ? { body: call.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    // Event streams stay open: the status line is the answer.
    const ids: unknown[] = [];
    if (response.headers.get('content-type')?.startsWith('application/json')) collectIds(await response.json(), ids);
    else await response.body?.cancel();
    if (key.endsWith('/token') && response.status < 300) await api.refreshScreenToken();
    return { status: response.status, ids };
  }

  it('declares every route of the OpenAPI document, and only those', () => {
    const live = operations.map((op) => `${op.method} ${op.path}`);
    expect(live.filter((key) => !(key in MATRIX)), 'routes missing from MATRIX').toEqual([]);
    expect(Object.keys(MATRIX).filter((key) => !live.includes(key)), 'MATRIX lines without a route').toEqual([]);
  });

  it('gives each caller exactly what its row says, on every route', async () => {
    const wrong: string[] = [];
    for (const op of operations) {
      const key = `${op.method} ${op.path}`;
      const row = MATRIX[key];
      if (!row) continue;
      // Weakest first, so a destructive success (a cancel, a deletion) comes after the refusals.
      for (const caller of ['none', 'screen', 'viewer', 'scoped', 'operator', 'admin'] as const) {
        const expected = row[caller];
        if (expected === 'scope' && op.method === 'GET' && !op.path.includes('{') && !QUERIED.has(op.path)) {
          // A listing: what is inside the areas is in it, what is outside is not.
          const { status, ids } = await send(key, caller, 'in');
          const [inside, outside] = listed(op.path);
          if (status !== 200 || !ids.includes(inside) || ids.includes(outside)) wrong.push(`${key} ${caller}: ${status}, lists ${JSON.stringify(ids)}; expected ${inside} and not ${outside}`);
          continue;
        }
        if (expected === 'scope') {
          const inside = (await send(key, caller, 'in')).status;
          const outside = (await send(key, caller, 'out')).status;
          if ([401, 403, 404].includes(inside) || inside >= 500) wrong.push(`${key} ${caller} inside its areas: ${inside}`);
          if (![403, 404].includes(outside)) wrong.push(`${key} ${caller} outside its areas: ${outside}, expected 403 or 404`);
          continue;
        }
        const { status } = await send(key, caller, 'in');
        if (status >= 500) wrong.push(`${key} ${caller}: ${status}`);
        else if (expected === 'allow' ? status === 401 || status === 403 : status !== expected) wrong.push(`${key} ${caller}: ${status}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  /** The fixture inside and the one outside the scope a listing route shows or hides. */
  function listed(path: string): [unknown, unknown] {
    const f = api.fixtures;
    if (path.endsWith('/runs')) return [f.inRun, f.outRun];
    if (path.endsWith('/campaigns')) return [f.inCampaign, f.outCampaign];
    if (path.endsWith('/screens')) return [f.inScreen, f.outScreen];
    if (path.endsWith('/loudspeakers')) return [f.inLoudspeaker, f.outLoudspeaker];
    if (path.endsWith('/reports/areas')) return [f.inGroup, f.outGroup];
    if (path.endsWith('/lists')) return [f.inList, f.outList];
    throw new Error(`no fixtures for the listing ${path}: add them to listed()`);
  }
});
