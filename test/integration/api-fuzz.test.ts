import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignDocument } from '../factories.js';
import { liveOperations, startHardenedApi, type HardenedApi, type JsonSchema, type Operation } from '../helpers/api-hard.js';

/**
 * No input breaks the API (issue 12, item 5): every operation of the live OpenAPI document is
 * driven with generated malformed, oversized, wrongly typed and hostile path parameters, query
 * strings, headers and bodies, as an admin, as a key scoped to areas, as a screen and with no
 * credential, and never answers 5xx, never hangs and always answers a refusal as JSON naming an
 * error. Routes added later are in the document, so they are fuzzed without a change here.
 *
 * LOA_FUZZ_RUNS sets the cases per operation and caller (default 30); a failure prints the
 * fast-check seed and the request that broke it, to replay with LOA_FUZZ_SEED.
 */
const RUNS = Number(process.env.LOA_FUZZ_RUNS ?? 30);
const SEED = process.env.LOA_FUZZ_SEED === undefined ? undefined : Number(process.env.LOA_FUZZ_SEED);
/** Routes that legitimately stay open once they answer (an event stream). */
const LONG_LIVED = new Set(['GET /v1/screens/{id}/events', 'GET /v1/loudspeakers/{id}/events', 'GET /v1/runs/{id}/events']);
/** A request still unanswered after this is a hang (the long-poll waits at most 2 s here). */
const HANG_MS = 5_000;

type Caller = 'admin' | 'scoped' | 'screen' | 'none';

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e309',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '9223372036854775808',
  '-9223372036854775809',
  '99999999999999999999999999',
  '0x1F',
  '../../../../etc/passwd',
  "' OR 1=1 --",
  "'; DROP TABLE runs; --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '\u0000',
  '\ud800',
  '\u202e\u0301',
  'Xét nghiệm 🦠👨‍👩‍👧',
  '%',
  '%zz',
  '%E0%A4%A',
  '%00',
  'a'.repeat(5_000),
  '9'.repeat(400),
];

/** Hostile text: the fixed list, random strings and long ones. */
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 3_000 }) },
);

/** Any JSON value, wrong types included. */
const anyJson = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, 2 ** 63, 1e308, -1e308),
);

/**
 * Values shaped by a JSON Schema, each part now and then replaced by anything: mostly what the
 * route expects, so the request gets past validation into the handler, with a wrong part somewhere.
 */
function fromSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const shaped: Array<fc.Arbitrary<unknown>> = [];
  if (schema.enum) shaped.push(fc.constantFrom(...schema.enum));
  for (const type of types) {
    if (type === 'string') {
      shaped.push(
        fc.oneof(
          fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) }),
          schema.format === 'date-time' ? fc.date({ noInvalidDate: true }).map((date) => date.toISOString()) : hostileString,
        ),
      );
    }
    if (type === 'integer') shaped.push(fc.integer({ min: Math.max(schema.minimum ?? -1e9, -1e15), max: Math.min(schema.maximum ?? 1e9, 1e15) }));
    if (type === 'number') shaped.push(fc.double({ noNaN: true }));
    if (type === 'boolean') shaped.push(fc.boolean());
    if (type === 'null') shaped.push(fc.constant(null));
    if (type === 'array') shaped.push(fc.array(fromSchema(schema.items, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) }));
    if (type === 'object') {
      const properties = Object.entries(schema.properties ?? {});
      shaped.push(
        fc
          .tuple(
            fc.record(Object.fromEntries(properties.map(([name, property]) => [name, fromSchema(property, depth + 1)])), { requiredKeys: [] }),
            fc.dictionary(hostileString.filter((key) => key.length < 50), anyJson, { maxKeys: 2 }),
          )
          .map(([known, extra]) => ({ ...extra, ...known })),
      );
    }
  }
  if (shaped.length === 0) return anyJson;
  return fc.oneof({ weight: 6, arbitrary: fc.oneof(...shaped) }, { weight: 1, arbitrary: anyJson });
}

/** A valid document with one part replaced by something hostile. */
function mutated(base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    paths.push(path);
    if (value !== null && typeof value === 'object') for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
  };
  walk(base, []);
  return fc.tuple(fc.constantFrom(...paths), anyJson).map(([path, replacement]) => {
    if (path.length === 0) return replacement;
    const copy = structuredClone(base) as Record<string, unknown>;
    let node = copy as Record<string, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[path.at(-1)!] = replacement;
    return copy;
  });
}

const BODY_TYPES = ['application/json', 'application/yaml', 'text/yaml', 'text/csv', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/xml', 'garbage', ''];

const YAML_BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');

/** Bodies: schema-shaped JSON, mutated real documents, broken JSON and YAML, binary, huge and deep. */
function bodyFor(op: Operation): fc.Arbitrary<{ type: string; payload: string | Buffer } | undefined> {
  const content = op.operation.requestBody?.content ?? {};
  const schema = content['application/json']?.schema;
  const json = (value: fc.Arbitrary<unknown>) => value.map((v) => ({ type: 'application/json', payload: JSON.stringify(v) ?? 'null' }));
  const csvRow = fc.array(fc.oneof(hostileString, fc.constantFrom('0912345678', '84912345678', '92', '31117', 'Vinaphone', '"', '""', ',', ';', '\t')), { maxLength: 5 }).map((cells) => cells.join(','));
  return fc.oneof(
    fc.constant(undefined),
    json(fromSchema(schema)),
    json(mutated(campaignDocument({ id: 'fuzz-campaign' }))),
    json(mutated({ plays: [{ item: 1, from: '2026-11-26T03:00:00Z', to: '2026-11-26T03:00:10Z' }] })),
    fc.record({ type: fc.constantFrom(...BODY_TYPES), payload: hostileString }),
    fc.record({ type: fc.constantFrom(...BODY_TYPES), payload: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) }),
    fc.record({
      type: fc.constantFrom('text/csv', 'text/plain'),
      payload: fc.tuple(fc.array(csvRow, { maxLength: 20 }), fc.constantFrom('\n', '\r\n', '\r')).map(([rows, end]) => ['msisdn,province,commune', ...rows].join(end)),
    }),
    fc.constantFrom(
      { type: 'application/json', payload: '{"a":' },
      { type: 'application/json', payload: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}' },
      { type: 'application/json', payload: '['.repeat(50_000) + ']'.repeat(50_000) },
      { type: 'application/json', payload: JSON.stringify({ plays: Array.from({ length: 10_001 }, () => ({})) }) },
      { type: 'application/json', payload: `"${'x'.repeat(300_000)}"` },
      { type: 'application/json', payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
      { type: 'application/yaml', payload: YAML_BOMB },
      { type: 'application/yaml', payload: 'id: [unclosed\n  - : :\n\t tab' },
      { type: 'application/yaml', payload: '!!js/function "function(){}"' },
      { type: 'text/csv', payload: '"unclosed,quote\n0912345678,92,1\n' },
      { type: 'text/csv', payload: Buffer.alloc(2 * 1024 * 1024, 0x41) },
      { type: 'application/json', payload: Buffer.alloc(2 * 1024 * 1024, 0x20) },
    ),
  );
}

/** Every byte but the unreserved ones as %XX (a lone surrogate becomes U+FFFD's bytes, as UTF-8 has it). */
function percentEncoded(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/**
 * A path parameter: the fixtures' real ids (to reach the handlers) or anything at all. The screen
 * whose token the fuzz holds is left out of long-lived routes, where it would open a stream.
 */
function paramValue(api: HardenedApi, longLived: boolean): fc.Arbitrary<string> {
  const f = api.fixtures;
  const real = [f.inCampaign, f.outCampaign, String(f.inRun), String(f.outRun), f.outScreen, f.inList, f.outList, '1', '0912345678', ...(longLived ? [] : [f.inScreen])].map((id) =>
    percentEncoded(id),
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...real) },
    { weight: 3, arbitrary: hostileString.map(percentEncoded) },
    // Left unencoded: broken percent-escapes and dots, as a hostile client sends them.
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '.', '%2e%2e', 'a%2Fb', '%c0%ae') },
    { weight: 1, arbitrary: fc.integer().map(String) },
  );
}

/** A query string: the declared parameters with shaped or hostile values, repeated, and unknown ones. */
function queryFor(op: Operation): fc.Arbitrary<string> {
  const declared = (op.operation.parameters ?? []).filter((p) => p.in === 'query');
  const pair = fc.oneof(
    ...(declared.length > 0 ? [fc.tuple(fc.constantFrom(...declared)).chain(([p]) => fc.tuple(fc.constant(p.name), fromSchema(p.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? ''))))] : []),
    fc.tuple(hostileString, hostileString),
  );
  return fc.oneof(
    fc.array(pair, { maxLength: 5 }).map((pairs) => new URLSearchParams(pairs.map(([k, v]): [string, string] => [String(k), String(v)])).toString()),
    fc.constantFrom('a=%zz', '%=%', 'token[]=x&token[]=y', 'wait=1e3', 'limit=-0', 'limit=1&limit=2', '&&&', '=', 'state=running&state=bogus', 'token=' + 'x'.repeat(10_000)),
  );
}

/** Header values as HTTP carries them (printable ASCII), hostile in content. */
const headerText = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS.filter((s) => /^[\x20-\x7e]*$/.test(s))), fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, '?')));

function headersFor(api: HardenedApi, caller: Caller): fc.Arbitrary<Record<string, string>> {
  const credential =
    caller === 'admin' || caller === 'scoped' ? fc.constant({ authorization: `Bearer ${api.tokens[caller]}` }) : caller === 'screen' ? fc.constantFrom({ authorization: `Bearer ${api.tokens.screen}` }, { cookie: `loa_screen=${api.tokens.screen}` }) : fc.constant({});
  const extra = fc.record(
    {
      authorization: fc.oneof(
        headerText,
        headerText.map((t) => `Bearer ${t}`),
        fc.constantFrom('Bearer', 'Bearer  ', `Bearer ${'a'.repeat(20_000)}`, `Basic ${Buffer.from('admin:admin').toString('base64')}`),
      ),
      'idempotency-key': headerText,
      'if-none-match': headerText,
      cookie: headerText.map((t) => `loa_screen=${t}`),
      accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'garbage', ''),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', 'garbage'),
      'x-forwarded-for': headerText,
      'content-encoding': fc.constantFrom('gzip', 'deflate', 'garbage'),
    },
    { requiredKeys: [] },
  );
  // The credential wins unless the case replaces it (a hostile Authorization for an admin, say).
  return fc.tuple(credential, extra, fc.boolean()).map(([cred, more, keep]) => (keep ? { ...more, ...cred } : { ...cred, ...more }));
}

function requestFor(api: HardenedApi, op: Operation, caller: Caller): fc.Arbitrary<FuzzRequest> {
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  return fc
    .record({
      // Now and then another method on the same path (HEAD of a GET, a PATCH nobody declared).
      method: fc.oneof({ weight: 8, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'PATCH', 'PUT', 'DELETE', 'POST', 'GET') }),
      params: fc.tuple(...names.map(() => paramValue(api, LONG_LIVED.has(`${op.method} ${op.path}`)))),
      query: fc.option(queryFor(op), { nil: undefined }),
      headers: headersFor(api, caller),
      body: bodyFor(op),
    })
    .map(({ method, params, query, headers, body }) => {
      let path = op.path;
      names.forEach((name, index) => (path = path.replace(`{${name}}`, params[index] ?? '')));
      return {
        method,
        url: query === undefined ? path : `${path}?${query}`,
        headers: body ? { ...headers, ...(body.type ? { 'content-type': body.type } : {}) } : headers,
        ...(body ? { payload: body.payload } : {}),
      };
    });
}

describe('fuzzing every route of the OpenAPI document', () => {
  let api: HardenedApi;
  let operations: Operation[];

  beforeAll(async () => {
    // The limiter is on (with room for every case), so its hook takes the hostile requests too.
    api = await startHardenedApi({ rateLimit: { max: 1_000_000, screenMax: 1_000_000, windowMs: 60_000 } });
    operations = await liveOperations(api.app);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  /** One request; a 5xx, an error answer that is not JSON naming the error, or a hang fails the case. */
  async function check(op: Operation, request: FuzzRequest): Promise<void> {
    const key = `${op.method} ${op.path}`;
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
    const response = await Promise.race([api.app.inject(request as never), hang]);
    clearTimeout(timer);
    if (response === 'hang') {
      // An event stream that opened is not a hang; anything else is.
      expect(LONG_LIVED.has(key), `${key} did not answer within ${HANG_MS} ms`).toBe(true);
      return;
    }
    expect(response.statusCode, `${key} → ${response.statusCode} ${response.body.slice(0, 300)}; logged: ${api.lastError()}`).toBeLessThan(500);
    // A HEAD answer has headers only.
    if (response.statusCode >= 400 && request.method !== 'HEAD') {
      expect(response.headers['content-type'], `${key} → ${response.statusCode}`).toMatch(/^application\/json/);
      expect(typeof response.json<{ error?: unknown }>().error, `${key} → ${response.body.slice(0, 300)}`).toBe('string');
    }
    // A fuzzed request may revoke or rotate the credentials the next one uses: put them back.
    await api.database.store.db.updateTable('api_keys').set({ revoked_at: null }).where('id', 'in', api.keyIds).execute();
    if (op.path.endsWith('/token') && response.statusCode < 300) await api.refreshScreenToken();
  }

  it('covers the routes the other tests know of', () => {
    const keys = operations.map((op) => `${op.method} ${op.path}`);
    expect(keys).toEqual(expect.arrayContaining(['GET /health', 'GET /v1/audit', 'POST /v1/campaigns/{id}/launch', 'POST /v1/lists/{id}/import', 'GET /v1/screens/{id}/playlist', 'POST /v1/keys']));
  });

  for (const caller of ['admin', 'scoped', 'screen', 'none'] as const) {
    it(`never answers 5xx nor hangs, as ${caller}`, async () => {
      for (const op of operations) {
        await fc.assert(
          fc.asyncProperty(requestFor(api, op, caller), (request) => check(op, request)),
          { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
        );
      }
      // Still serving after all that.
      expect((await api.app.inject('/health')).statusCode).toBe(200);
      expect((await api.app.inject({ url: '/v1/keys', headers: api.headers('admin') })).statusCode).toBe(200);
    }, 300_000);
  }
});
