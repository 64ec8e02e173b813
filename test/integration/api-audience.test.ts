import { createRunStatusReader } from '../../src/jobs/engine.js';
import { simulatorCarriers } from '../../src/config.js';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { generateApiKey, hashApiKey, type ApiRole } from '../../src/domain/api-key.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { createApiServices } from '../../src/services/index.js';
import { ApiKeyRepository } from '../../src/store/api-key.repository.js';
import { AudienceRepository } from '../../src/store/audience.repository.js';
import { AuditRepository } from '../../src/store/audit.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const MAX_BYTES = 64 * 1024;

describe('audience routes', () => {
  let database: TestDatabase;
  let sut: FastifyInstance;
  const tokens: Partial<Record<ApiRole, string>> = {};

  async function createKey(role: ApiRole): Promise<string> {
    const token = generateApiKey();
    await new ApiKeyRepository(database.store.db).create({ name: `test-${role}`, keyHash: hashApiKey(token), role });
    return token;
  }

  function post(url: string, body: string | Buffer, role: ApiRole | null = 'operator', contentType = 'text/csv') {
    return sut.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': contentType, ...(role ? { authorization: `Bearer ${tokens[role]}` } : {}) },
    });
  }

  async function subscribers(list: string) {
    return database.store.db.selectFrom('subscribers').select(['msisdn', 'province', 'commune', 'attrs']).where('list_id', '=', list).orderBy('msisdn').execute();
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    sut = await buildApp({
      logger: createLogger('silent'),
      metrics: createMetricsRegistry(),
      checks: [],
      services: createApiServices(database.store, {
        // Audience routes launch nothing: a launcher that refuses to is enough.
        launcher: { enqueueCompile: () => Promise.reject(new Error('no launches in this test')) },
        statusReader: createRunStatusReader(database.store, { carriers: simulatorCarriers(2775) }),
      }),
      audience: {
        audience: new AudienceRepository(database.store.db, database.store.pool),
        maxImportBytes: MAX_BYTES,
      },
    });
    await sut.ready();
    tokens.operator = await createKey('operator');
    tokens.viewer = await createKey('viewer');
  });

  afterAll(async () => {
    await sut.close();
    await database.drop();
  });

  it('loads good rows and reports bad ones by line and reason, with an audit entry', async () => {
    const csv = [
      'msisdn,province,commune,ho_ten', //          1
      '0912345678,92,31117,Nguyễn Văn An', //        2
      '0912 345 679,92,31120,', //                  3
      'abc,92,31117,x', //                          4
      '8.4912E+10,92,31117,y', //                   5
      '0961234567,92', //                           6 too few fields
      '0241234567,92,31117,z', //                   7 landline
      '+84 98 765 4321,92,31123,Trần Thị B', //     8
      '0912345678,92,31123,Nguyễn Văn An', //       9 repeat: the last row wins
    ].join('\n');

    const response = await post('/v1/lists/cantho-subscribers/import?name=Thu%C3%AA%20bao%20C%E1%BA%A7n%20Th%C6%A1', csv);

    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      list: { id: 'cantho-subscribers', subscribers: 3 },
      rows: 8,
      loaded: 4,
      rejected: 4,
      duplicates: 1,
      inserted: 3,
      rejectedByReason: { letters: 1, 'scientific-notation': 1, 'field-count': 1, landline: 1 },
      delimiter: 'comma',
      columns: { msisdn: 'msisdn', province: 'province', commune: 'commune' },
      attributes: ['ho_ten'],
    });
    const body = response.json<{ rejectedLines: Array<{ line: number; reason: string; message: string }> }>();
    expect(body.rejectedLines.map((l) => [l.line, l.reason])).toEqual([
      [4, 'letters'],
      [5, 'scientific-notation'],
      [6, 'field-count'],
      [7, 'landline'],
    ]);
    expect(body.rejectedLines[1]?.message).toContain('the spreadsheet turned this number into 8.4912E+10');
    expect(await subscribers('cantho-subscribers')).toEqual([
      { msisdn: '84912345678', province: '92', commune: '31123', attrs: { ho_ten: 'Nguyễn Văn An' } },
      { msisdn: '84912345679', province: '92', commune: '31120', attrs: {} },
      { msisdn: '84987654321', province: '92', commune: '31123', attrs: { ho_ten: 'Trần Thị B' } },
    ]);
    const list = await database.store.db.selectFrom('lists').selectAll().where('id', '=', 'cantho-subscribers').executeTakeFirstOrThrow();
    expect(list.name).toBe('Thuê bao Cần Thơ');
    const audit = await new AuditRepository(database.store.db).listForSubject('list:cantho-subscribers');
    expect(audit[0]).toMatchObject({ actor: expect.stringMatching(/^key:\d+:test-operator$/), action: 'list.import', details: { loaded: 4, rejected: 4, removed: 0, subscribers: 3 } });
  });

  it('reads a Vietnamese export: BOM, CRLF, `;`, Vietnamese header names', async () => {
    const csv = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(['Số điện thoại;Tỉnh;Xã/Phường;Ghi chú', '0912 000 001;92;31117;1,5', "'0912000002;92;31120;", '8,4912E+10;92;31117;'].join('\r\n')),
    ]);

    const response = await post('/v1/lists/vn-export/import', csv);

    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      loaded: 2,
      rejectedByReason: { 'scientific-notation': 1 },
      rejectedLines: [{ line: 4, reason: 'scientific-notation' }],
      delimiter: 'semicolon',
      columns: { msisdn: 'Số điện thoại', province: 'Tỉnh', commune: 'Xã/Phường' },
    });
    expect(await subscribers('vn-export')).toEqual([
      { msisdn: '84912000001', province: '92', commune: '31117', attrs: {} },
      { msisdn: '84912000002', province: '92', commune: '31120', attrs: {} },
    ]);
  });

  it('re-imports idempotently and removes missing numbers with replace', async () => {
    const csv = 'msisdn,province,commune\n0912000011,92,1\n0912000012,92,1\n0912000013,92,2\n';
    const first = await post('/v1/lists/idem/import', csv);
    expect(first.json()).toMatchObject({ inserted: 3, updated: 0, unchanged: 0, removed: 0 });

    const again = await post('/v1/lists/idem/import', csv);
    expect(again.json()).toMatchObject({ inserted: 0, updated: 0, unchanged: 3, removed: 0, list: { subscribers: 3 } });

    const changed = await post('/v1/lists/idem/import', 'msisdn,province,commune\n0912000013,92,3\n');
    expect(changed.json()).toMatchObject({ inserted: 0, updated: 1, removed: 0, list: { subscribers: 3 } });

    const replaced = await post('/v1/lists/idem/import?replace=true', 'msisdn,province,commune\n0912000011,92,1\n0912000014,92,1\n');
    expect(replaced.json()).toMatchObject({ inserted: 1, unchanged: 1, removed: 2, list: { subscribers: 2 } });
    expect((await subscribers('idem')).map((s) => s.msisdn)).toEqual(['84912000011', '84912000014']);

    // A file with nothing usable would empty the list: refused, the list kept.
    const empty = await post('/v1/lists/idem/import?replace=true', 'msisdn,province,commune\nabc,92,1\n');
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ error: 'nothing_to_replace' });
    expect(await subscribers('idem')).toHaveLength(2);
  });

  it('refuses a file without an msisdn column and one with an unclosed quote, naming the line, and loads nothing', async () => {
    const noColumn = await post('/v1/lists/broken/import', 'phone,province\n0912345678,92\n');
    expect(noColumn.statusCode).toBe(400);
    expect(noColumn.json().message).toMatch(/line 1: the header must name the phone-number column/);

    const lines = ['msisdn', '0912000021', '"0912000022', ...Array.from({ length: 20 }, (_, i) => `09120001${String(i).padStart(2, '0')}`)];
    const unclosed = await post('/v1/lists/broken/import', lines.join('\n'));
    expect(unclosed.statusCode).toBe(400);
    expect(unclosed.json().message).toMatch(/line 3: Quote Not Closed/);
    expect(await database.store.db.selectFrom('lists').select('id').where('id', '=', 'broken').execute()).toEqual([]);
    // A refused import leaves no audit entry: it is written in the import's own transaction.
    expect(await new AuditRepository(database.store.db).listForSubject('list:broken')).toEqual([]);
  });

  it('streams a chunked body and answers 413 past the size limit, by Content-Length or while reading', async () => {
    const row = '0912345678,92,31117\n';
    const big = `msisdn,province,commune\n${row.repeat(Math.ceil(MAX_BYTES / row.length) + 10)}`;
    const declared = await post('/v1/lists/too-big/import', big);
    expect(declared.statusCode).toBe(413);
    expect(declared.json()).toMatchObject({ error: 'payload_too_large' });

    const chunked = await sut.inject({
      method: 'POST',
      url: '/v1/lists/too-big/import',
      payload: Readable.from([Buffer.from('msisdn,province,commune\n'), ...Array.from({ length: 40 }, () => Buffer.from(row.repeat(100)))]),
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${tokens.operator}` },
    });
    expect(chunked.statusCode).toBe(413);
    expect(await database.store.db.selectFrom('lists').select('id').where('id', '=', 'too-big').execute()).toEqual([]);

    const small = await sut.inject({
      method: 'POST',
      url: '/v1/lists/streamed/import',
      payload: Readable.from([Buffer.from('msisdn;province;commune\n0912'), Buffer.from('345678;92;31117\n')]),
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${tokens.operator}` },
    });
    expect(small.json()).toMatchObject({ loaded: 1, list: { subscribers: 1 } });
  });

  it('loads nothing when the client goes away in the middle of the body (a cut upload must not --replace a list)', async () => {
    await post('/v1/lists/cut/import', 'msisdn\n0912000041\n0912000042\n');
    const address = await sut.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      [
        'POST /v1/lists/cut/import?replace=true HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${tokens.operator}`,
        'Content-Type: text/csv',
        'Transfer-Encoding: chunked',
        '',
        '',
      ].join('\r\n'),
    );
    const part = 'msisdn\n0912000043\n';
    socket.write(`${part.length.toString(16)}\r\n${part}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    // The import fails on the server side; wait until its transaction is gone.
    for (let i = 0; i < 50; i += 1) {
      const busy = await database.store.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
      );
      if (busy.rowCount === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await subscribers('cut')).map((s) => s.msisdn)).toEqual(['84912000041', '84912000042']);
  });

  it.each([
    ['POST', '/v1/lists/x/import'],
    ['POST', '/v1/optouts/import'],
    ['POST', '/v1/portability/import'],
    ['DELETE', '/v1/lists/x'],
    ['DELETE', '/v1/optouts/0912345678'],
    ['GET', '/v1/lists'],
  ] as const)('%s %s: 401 without a key', async (method, url) => {
    const response = await sut.inject({ method, url, payload: method === 'POST' ? 'msisdn\n0912345678\n' : undefined, headers: method === 'POST' ? { 'content-type': 'text/csv' } : {} });
    expect(response.statusCode).toBe(401);
  });

  it.each([
    ['POST', '/v1/lists/x/import'],
    ['POST', '/v1/optouts/import'],
    ['POST', '/v1/portability/import'],
    ['DELETE', '/v1/lists/x'],
    ['DELETE', '/v1/optouts/0912345678'],
  ] as const)('%s %s: 403 for a viewer key', async (method, url) => {
    const response = await sut.inject({
      method,
      url,
      payload: method === 'POST' ? 'msisdn\n0912345678\n' : undefined,
      headers: { authorization: `Bearer ${tokens.viewer}`, ...(method === 'POST' ? { 'content-type': 'text/csv' } : {}) },
    });
    expect(response.statusCode).toBe(403);
    expect(await database.store.db.selectFrom('lists').select('id').where('id', '=', 'x').execute()).toEqual([]);
  });

  it('imports opt-outs (header optional, reason kept) and removes one by any written form', async () => {
    const response = await post('/v1/optouts/import', 'Số điện thoại;Lý do\n0987 000 001;sms TU CHOI\n0987000002;\nabc;x\n');
    expect(response.json()).toMatchObject({ loaded: 2, rejected: 1, inserted: 2, optOuts: 2, rejectedLines: [{ line: 4, reason: 'letters' }] });
    const again = await post('/v1/optouts/import', '0987000001\n0987000003,hotline\n');
    expect(again.json()).toMatchObject({ loaded: 2, inserted: 1, unchanged: 1, optOuts: 3 });
    const reasons = await database.store.db.selectFrom('opt_outs').select(['msisdn', 'reason']).orderBy('msisdn').execute();
    expect(reasons).toEqual([
      { msisdn: '84987000001', reason: 'sms TU CHOI' },
      { msisdn: '84987000002', reason: null },
      { msisdn: '84987000003', reason: 'hotline' },
    ]);

    const removed = await sut.inject({ method: 'DELETE', url: `/v1/optouts/${encodeURIComponent('+84 987 000 001')}`, headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(removed.json()).toEqual({ msisdn: '84987000001', removed: true });
    const missing = await sut.inject({ method: 'DELETE', url: '/v1/optouts/0987000001', headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(missing.statusCode).toBe(404);
    const invalid = await sut.inject({ method: 'DELETE', url: '/v1/optouts/abc', headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(invalid.statusCode).toBe(400);
    expect((await new AuditRepository(database.store.db).listForSubject('opt-outs')).map((a) => a.action)).toEqual(['opt-out.remove', 'opt-out.import', 'opt-out.import']);
  });

  it('imports portability by any carrier alias and refuses an unknown carrier on its line', async () => {
    const csv = ['msisdn,carrier', '0961234500,Vinaphone', '0961234501,VMS', '0912345600,Viettel Telecom', '0961234502,Vietnamobile', '0961234503,Vinafone', '0961234504,'].join('\n');
    const response = await post('/v1/portability/import', csv);
    expect(response.json()).toMatchObject({
      loaded: 4,
      rejected: 2,
      entries: 4,
      rejectedByReason: { 'unknown-carrier': 1, 'no-carrier': 1 },
      rejectedLines: [
        { line: 6, reason: 'unknown-carrier', message: expect.stringContaining("'Vinafone'") },
        { line: 7, reason: 'no-carrier' },
      ],
    });
    const table = await database.store.db.selectFrom('portability').select(['msisdn', 'carrier']).orderBy('msisdn').execute();
    expect(table).toEqual([
      { msisdn: '84912345600', carrier: 'viettel' },
      { msisdn: '84961234500', carrier: 'vnpt' },
      { msisdn: '84961234501', carrier: 'mobifone' },
      { msisdn: '84961234502', carrier: 'Vietnamobile' },
    ]);

    const replaced = await post('/v1/portability/import?replace=true', '0961234500;mobifone\n');
    expect(replaced.json()).toMatchObject({ updated: 1, removed: 3, entries: 1 });
  });

  it('lists lists with subscriber counts and deletes one', async () => {
    await post('/v1/lists/to-delete/import', 'msisdn\n0912000031\n0912000032\n');
    const listed = await sut.inject({ method: 'GET', url: '/v1/lists', headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().lists).toContainEqual({ id: 'to-delete', name: 'to-delete', createdAt: expect.any(String), subscribers: 2 });

    const deleted = await sut.inject({ method: 'DELETE', url: '/v1/lists/to-delete', headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(deleted.json()).toEqual({ id: 'to-delete', deleted: true, subscribers: 2 });
    expect((await new AuditRepository(database.store.db).listForSubject('list:to-delete')).map((a) => a.action)).toEqual(['list.delete', 'list.import']);
    expect(await subscribers('to-delete')).toEqual([]);
    const again = await sut.inject({ method: 'DELETE', url: '/v1/lists/to-delete', headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(again.statusCode).toBe(404);
    const badId = await post('/v1/lists/Bad%20Id/import', 'msisdn\n0912000031\n');
    expect(badId.statusCode).toBe(400);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const docs = (await sut.inject('/docs/json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/v1/lists', '/v1/lists/{id}/import', '/v1/lists/{id}', '/v1/optouts/import', '/v1/optouts/{msisdn}', '/v1/portability/import']));
  });
});
