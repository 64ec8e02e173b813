import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { buildApp } from '../src/api/app.js';
import { createLogger } from '../src/logger.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { PlaylistChanges } from '../src/screens/playlist-changes.js';
import { createApiServices, type ApiServices } from '../src/services/index.js';
import { createDb, type Store } from '../src/store/db.js';
import { MigrationRunner } from '../src/store/migrator.js';
import { throwawayDatabase, type Report } from './harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** 100 words of an ordinary commune notice (Vietnamese words are syllables, as espeak-ng reads them). */
const HUNDRED_WORDS = (
  'Ủy ban nhân dân xã An Bình thông báo đến toàn thể nhân dân trên địa bàn xã về việc tổ chức tiêm chủng ' +
  'vắc xin phòng bệnh cho trẻ em dưới năm tuổi vào sáng thứ bảy tuần này tại trạm y tế xã từ bảy giờ đến mười một giờ ' +
  'đề nghị các gia đình có trẻ em trong độ tuổi mang theo sổ tiêm chủng và giấy khai sinh của trẻ đến đúng giờ ' +
  'đeo khẩu trang và giữ khoảng cách khi chờ đợi mọi thắc mắc xin liên hệ cán bộ y tế ấp hoặc gọi đường dây nóng của xã ' +
  'ủy ban nhân dân xã trân trọng thông báo'
)
  .split(' ')
  .slice(0, 100)
  .join(' ');

interface ApiProcess {
  app: FastifyInstance;
  services: ApiServices;
  close(): Promise<void>;
}

async function apiProcess(store: Store, channel: string): Promise<ApiProcess> {
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  const changes = new PlaylistChanges(publisher, subscriber, channel);
  await changes.start();
  const services = createApiServices(store, { launcher: { enqueueCompile: async () => undefined }, statusReader: { get: async () => undefined } }, { playlistChanges: changes, maxWaitSeconds: 120 });
  const app = await buildApp({ logger: createLogger('silent'), metrics: createMetricsRegistry(), checks: [], services });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    services,
    async close() {
      await app.close();
      await changes.stop();
      await services.screens?.playlists.stop();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

function campaign(id: string, text: string): string {
  return stringify({
    id,
    name: id,
    priority: 'urgent',
    message: { text: 'Loa bench', sender: { viettel: 'LOA', vnpt: 'LOA', mobifone: 'LOA' } },
    audience: { lists: ['bench'] },
    operators: ['viettel', 'vnpt', 'mobifone'],
    loudspeakers: [{ targets: { ids: ['bench-loa'] }, text, repetitions: 2 }],
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number) => Math.round(value * 10) / 10;
const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;

/**
 * Loudspeakers (issue 11): speech synthesis per 100 words, cold (espeak-ng → WAV → opusenc →
 * opusinfo → PostgreSQL) and on the cache-hit path; an urgent launch on one API process → the
 * loudspeaker's long-poll held by another answered, with the text not yet rendered (cold) and
 * rendered beforehand (`POST /v1/loudspeakers/speech`, or the same text launched before).
 */
export async function run(report: Report): Promise<void> {
  const database = await throwawayDatabase('loudspeakers');
  const store = createDb(database.url, { max: 10, applicationName: 'loa-bench-loudspeakers' });
  const channel = `loa-bench:${process.pid}:screens:changed`;
  let first: ApiProcess | undefined;
  let second: ApiProcess | undefined;
  try {
    await new MigrationRunner(store.pool).migrate();
    first = await apiProcess(store, channel);
    second = await apiProcess(store, channel);
    const audio = first.services.screens!.audio;

    // 1. Cold: each text new (a number at the end), so nothing comes from the cache.
    const cold: number[] = [];
    let seconds = 0;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const started = performance.now();
      const clip = await audio.speech(`${HUNDRED_WORDS} số ${attempt + 1}`);
      cold.push(performance.now() - started);
      seconds = clip.durationMs / 1000;
    }
    report({ bench: 'loudspeakers.speechCold', value: round(median(cold)), unit: 'ms per 100 words (median of 5)', max: round(Math.max(...cold)), audioSeconds: round(seconds), engine: 'espeak-ng vi → Ogg Opus 24 kbit/s' });

    // 2. Cache hit: the same text again (a lookup by hash in PostgreSQL, no rendering).
    const hits: number[] = [];
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const started = performance.now();
      const clip = await audio.speech(`${HUNDRED_WORDS} số 1`);
      hits.push(performance.now() - started);
      if (!clip.cached) throw new Error('expected a cache hit');
    }
    report({ bench: 'loudspeakers.speechCacheHit', value: round(median(hits) * 100) / 100, unit: 'ms per 100-word text (median of 200)', p99: round([...hits].sort((a, b) => a - b)[197]!) });

    // 3. Urgent launch on the first process → long-poll held by the second answered.
    const added = await first.services.screens!.loudspeakers.add({ id: 'bench-loa', name: 'Bench', commune: 'bench', airtime: [{ from: '05:30', to: '06:30' }] }, 'bench');
    const port = portOf(second.app);
    for (const mode of ['cold', 'prerendered'] as const) {
      const latencies: number[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const text = `Khẩn cấp lần ${mode === 'cold' ? 'mới' : 'thử'} ${attempt}: nước lũ đang lên, người dân di chuyển lên chỗ cao ngay.`;
        if (mode === 'prerendered') await audio.speech(text);
        const current = await second.services.screens!.loudspeakers.schedule('bench-loa');
        const answered = fetch(`http://127.0.0.1:${port}/v1/loudspeakers/bench-loa/playlist?wait=60`, { headers: { authorization: `Bearer ${added.token}`, 'if-none-match': `"${current!.version}"` } }).then(async (response) => {
          const body = (await response.json()) as { urgent: boolean };
          if (!body.urgent) throw new Error('the answer has no urgent broadcast');
          return performance.now();
        });
        while (second.services.screens!.changes.pending === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        const id = `bench-urgent-${mode}-${attempt}`;
        await first.services.campaigns.put(id, { text: campaign(id, text) }, 'bench');
        const launched = performance.now();
        await first.services.launches.launch({ campaignId: id }, 'bench');
        latencies.push((await answered) - launched);
      }
      report({ bench: `loudspeakers.urgentToLongPoll.${mode}`, value: round(median(latencies)), unit: 'ms (median of 5)', max: round(Math.max(...latencies)), goal: '< 1000' });
    }
  } finally {
    await first?.close();
    await second?.close();
    await store.close();
    await database.drop();
  }
}
