import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { RateLimitSettings } from '../../src/api/rate-limit.js';
import { createLogger } from '../../src/logger.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { Redis } from 'ioredis';
import { simulatorCarriers } from '../../src/config.js';
import { createRunStatusReader } from '../../src/jobs/engine.js';
import { PlaylistChanges } from '../../src/screens/playlist-changes.js';
import { createApiServices, type ApiServices } from '../../src/services/index.js';
import { AudienceRepository } from '../../src/store/audience.repository.js';
import { audienceCsv, campaignYaml } from '../factories.js';
import { cleanupRedisPrefix, createTestDatabase, testRedisPrefix, type TestDatabase } from './db.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** 10:00 in Asia/Ho_Chi_Minh: launches start at once (outside the default quiet hours). */
export const DAYTIME = new Date('2026-11-26T03:00:00Z');

/** The scoped key's areas: one commune of Cần Thơ. */
export const SCOPE_AREAS = ['92/31117'];

/** Who the role tests and the fuzz test call as. */
export const CALLERS = ['admin', 'operator', 'viewer', 'scoped', 'screen', 'none'] as const;
export type Caller = (typeof CALLERS)[number];

/**
 * Things on both sides of the scope, made through the API itself: `in*` lies inside
 * SCOPE_AREAS, `out*` outside (another commune, another province).
 */
export interface Fixtures {
  inCampaign: string;
  outCampaign: string;
  inRun: number;
  outRun: number;
  inScreen: string;
  outScreen: string;
  inLoudspeaker: string;
  outLoudspeaker: string;
  inGroup: string;
  outGroup: string;
  inEntry: number;
  outEntry: number;
  inList: string;
  outList: string;
}

export interface HardenedApi {
  app: FastifyInstance;
  database: TestDatabase;
  services: ApiServices;
  tokens: Record<Exclude<Caller, 'none'>, string>;
  keyIds: number[];
  fixtures: Fixtures;
  /** Headers that present a caller's credential (nothing for `none`). */
  headers(caller: Caller): Record<string, string>;
  /** The last error the app logged (the cause of a 500), for a failure message. */
  lastError(): string;
  /** A new token for the fixture screen (after a test rotated it). */
  refreshScreenToken(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole /v1 API in-process (app.inject) over a fresh PostgreSQL database and real Redis
 * pub/sub for screens, with one key per role, a key scoped to SCOPE_AREAS, a screen token and
 * campaigns, runs, lists and screens inside and outside that scope. Launches enqueue nothing.
 */
export async function startHardenedApi(options: { rateLimit?: RateLimitSettings } = {}): Promise<HardenedApi> {
  const database = await createTestDatabase();
  const prefix = testRedisPrefix();
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const changes = new PlaylistChanges(publisher, subscriber, `${prefix}:screens:changed`);
  await changes.start();
  const services = createApiServices(
    database.store,
    { launcher: { enqueueCompile: async () => undefined }, statusReader: createRunStatusReader(database.store, { carriers: simulatorCarriers(2775) }) },
    { clock: () => DAYTIME, playlistChanges: changes, maxWaitSeconds: 2 },
  );
  let lastError = '';
  const errors = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lastError = chunk.toString('utf8').slice(0, 2000);
      callback();
    },
  });
  const build = async (rateLimit?: RateLimitSettings) => {
    const built = await buildApp({
      logger: createLogger('error', errors),
      metrics: createMetricsRegistry(),
      checks: [],
      services,
      audience: { audience: new AudienceRepository(database.store.db, database.store.pool), maxImportBytes: 1024 * 1024 },
      ...(rateLimit ? { rateLimit } : {}),
    });
    await built.ready();
    return built;
  };
  // The fixtures are made without limits; the app handed out has the ones asked for.
  const seeding = await build();
  const app = seeding;

  const keys = {
    admin: await services.apiKeys.create({ role: 'admin', name: 'hard-admin' }, 'test'),
    operator: await services.apiKeys.create({ role: 'operator', name: 'hard-operator' }, 'test'),
    viewer: await services.apiKeys.create({ role: 'viewer', name: 'hard-viewer' }, 'test'),
    scoped: await services.apiKeys.create({ role: 'operator', name: 'hard-scoped', areas: SCOPE_AREAS }, 'test'),
  };
  const tokens = { admin: keys.admin.token, operator: keys.operator.token, viewer: keys.viewer.token, scoped: keys.scoped.token, screen: '' };
  const headers = (caller: Caller): Record<string, string> => (caller === 'none' ? {} : { authorization: `Bearer ${tokens[caller]}` });
  const admin = headers('admin');

  async function ok(request: InjectOptions) {
    const response = await app.inject(request);
    expect(response.statusCode, `${JSON.stringify(request).slice(0, 200)} → ${response.body}`).toBeLessThan(300);
    return response.json<Record<string, unknown>>();
  }

  const csv = { ...admin, 'content-type': 'text/csv' };
  await ok({ method: 'POST', url: '/v1/lists/in-list/import', headers: csv, payload: audienceCsv([{ msisdn: '0960000001' }, { msisdn: '0960000002' }]) });
  await ok({ method: 'POST', url: '/v1/lists/out-list/import', headers: csv, payload: audienceCsv([{ msisdn: '0960000003', commune: '31120' }, { msisdn: '0960000004', province: '91', commune: '30280' }]) });

  const yaml = { ...admin, 'content-type': 'application/yaml' };
  await ok({
    method: 'PUT',
    url: '/v1/campaigns/in-campaign',
    headers: yaml,
    payload: campaignYaml({ id: 'in-campaign', audience: { lists: ['in-list'], areas: { province: ['92'], commune: ['31117'] } } }),
  });
  await ok({ method: 'PUT', url: '/v1/campaigns/out-campaign', headers: yaml, payload: campaignYaml({ id: 'out-campaign', audience: { lists: ['out-list'], areas: { province: ['92'] } } }) });
  const inRun = ((await ok({ method: 'POST', url: '/v1/campaigns/in-campaign/launch', headers: admin })).run as { id: number }).id;
  const outRun = ((await ok({ method: 'POST', url: '/v1/campaigns/out-campaign/launch', headers: admin })).run as { id: number }).id;

  const screen = await ok({ method: 'POST', url: '/v1/screens', headers: admin, payload: { id: 'in-led', name: 'LED Ninh Kiều', kind: 'led', province: '92', commune: '31117' } });
  tokens.screen = String(screen.token);
  await ok({ method: 'POST', url: '/v1/screens', headers: admin, payload: { id: 'out-led', name: 'LED Rạch Giá', kind: 'led', province: '91', commune: '30280' } });

  const airtime = [{ from: '05:30', to: '06:30' }];
  await ok({ method: 'POST', url: '/v1/loudspeakers', headers: admin, payload: { id: 'in-loa', name: 'Loa ấp Bình Nhựt', province: '92', commune: '31117', airtime } });
  await ok({ method: 'POST', url: '/v1/loudspeakers', headers: admin, payload: { id: 'out-loa', name: 'Loa Rạch Giá', province: '91', commune: '30280', airtime } });

  // Report areas and manual entries inside and outside the scope.
  await ok({ method: 'PUT', url: '/v1/reports/areas/in-group', headers: admin, payload: { name: 'Ninh Kiều', province: '92', communes: ['31117'] } });
  await ok({ method: 'PUT', url: '/v1/reports/areas/out-group', headers: admin, payload: { name: 'Rạch Giá', province: '91', communes: ['30280'] } });
  const entry = (area: string) => ok({ method: 'POST', url: '/v1/reports/entries', headers: admin, payload: { date: '2026-11-26', area, channel: 'web', count: 1, text: 'Bài đăng cổng thông tin' } });
  const inEntry = Number((await entry('group:in-group')).id);
  const outEntry = Number((await entry('group:out-group')).id);

  const served = options.rateLimit ? await build(options.rateLimit) : seeding;
  if (served !== seeding) await seeding.close();

  return {
    app: served,
    database,
    services,
    tokens,
    keyIds: Object.values(keys).map((key) => key.id),
    fixtures: { inCampaign: 'in-campaign', outCampaign: 'out-campaign', inRun, outRun, inScreen: 'in-led', outScreen: 'out-led', inLoudspeaker: 'in-loa', outLoudspeaker: 'out-loa', inGroup: 'in-group', outGroup: 'out-group', inEntry, outEntry, inList: 'in-list', outList: 'out-list' },
    headers,
    lastError: () => lastError,
    async refreshScreenToken() {
      tokens.screen = (await services.screens!.registry.rotateToken('in-led', 'test')).token;
    },
    async stop() {
      await served.close();
      await changes.stop();
      publisher.disconnect();
      subscriber.disconnect();
      const cleaner = new Redis(REDIS_URL);
      await cleanupRedisPrefix(cleaner, prefix);
      cleaner.disconnect();
      await database.drop();
    },
  };
}

/** The OpenAPI document's operations: `METHOD /path/{param}` with the operation object. */
export interface Operation {
  method: string;
  path: string;
  operation: OpenApiOperation;
}

export interface OpenApiOperation {
  parameters?: Array<{ in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema?: JsonSchema }>;
  requestBody?: { content: Record<string, { schema?: JsonSchema }> };
  security?: Array<Record<string, unknown>>;
  responses?: Record<string, unknown>;
}

export type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  additionalProperties?: boolean | JsonSchema;
};

/** Every operation the live app documents (what /docs shows), the documentation pages aside. */
export async function liveOperations(app: FastifyInstance): Promise<Operation[]> {
  const doc = (await app.inject('/docs/json')).json<{ paths: Record<string, Record<string, OpenApiOperation>> }>();
  return Object.entries(doc.paths)
    .filter(([path]) => !path.startsWith('/docs'))
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })))
    .sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
}
