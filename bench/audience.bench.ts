import { createRunStatusReader } from '../src/jobs/engine.js';
import { simulatorCarriers } from '../src/config.js';
import { appendFileSync, createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/api/app.js';
import { generateApiKey, hashApiKey } from '../src/domain/api-key.js';
import { createLogger } from '../src/logger.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { createApiServices } from '../src/services/index.js';
import { ApiKeyRepository } from '../src/store/api-key.repository.js';
import { AudienceRepository } from '../src/store/audience.repository.js';
import { createDb } from '../src/store/db.js';
import { MigrationRunner } from '../src/store/migrator.js';
import { rssMb, throwawayDatabase, type Report } from './harness.js';

/** Rows of the audience CSV; issue 8 asks for `audience.import` rows/s at 1 M. */
const ROWS = 1_000_000;
const PREFIXES = ['096', '091', '090', '097', '094', '093', '098', '088', '070', '086'];

/** An officer's export: `;`-separated, Vietnamese header, numbers written several ways, 0.1 % bad rows. */
function writeCsv(path: string): void {
  writeFileSync(path, 'Số điện thoại;Tỉnh;Xã/Phường;Họ tên\r\n');
  // In blocks, so the benchmark's own file does not inflate the RSS it reports.
  for (let block = 0; block < ROWS; block += 10_000) {
    let text = '';
    for (let i = block; i < Math.min(ROWS, block + 10_000); i += 1) {
      const national = `${PREFIXES[i % PREFIXES.length]}${String(i).padStart(7, '0')}`;
      const written = i % 1000 === 999 ? '8.4912E+10' : i % 3 === 0 ? `+84 ${national.slice(1, 3)} ${national.slice(3, 6)} ${national.slice(6)}` : national;
      text += `${written};92;${31117 + (i % 80)};Thuê bao ${i}\r\n`;
    }
    appendFileSync(path, text);
  }
}

/**
 * `loa audience import` end to end on a throwaway database: a 1 M-row CSV streamed over HTTP to
 * the API (real socket), parsed, normalised, COPYed into staging and merged into the list. Then
 * the same file again (the idempotent re-import, which writes nothing).
 */
export async function run(report: Report): Promise<void> {
  const database = await throwawayDatabase('audience');
  const store = createDb(database.url, { max: 4, applicationName: 'loa-bench' });
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-audience-'));
  const file = join(dir, 'audience.csv');
  try {
    await new MigrationRunner(store.pool).migrate();
    writeCsv(file);
    const token = generateApiKey();
    await new ApiKeyRepository(store.db).create({ name: 'bench', keyHash: hashApiKey(token), role: 'operator' });
    const app = await buildApp({
      logger: createLogger('silent'),
      metrics: createMetricsRegistry(),
      checks: [],
      services: createApiServices(store, {
        // Audience routes launch nothing: a launcher that refuses to is enough.
        launcher: { enqueueCompile: () => Promise.reject(new Error('no launches in this test')) },
        statusReader: createRunStatusReader(store, { carriers: simulatorCarriers(2775) }),
      }),
      audience: {
        audience: new AudienceRepository(store.db, store.pool),
        maxImportBytes: 1024 ** 3,
      },
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const upload = async (): Promise<{ seconds: number; body: Record<string, unknown> }> => {
      const start = performance.now();
      const response = await fetch(`${address}/v1/lists/bench/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: createReadStream(file, { highWaterMark: 256 * 1024 }) as unknown as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      const body = (await response.json()) as Record<string, unknown>;
      if (!response.ok) throw new Error(`import failed: ${response.status} ${JSON.stringify(body)}`);
      return { seconds: (performance.now() - start) / 1000, body };
    };
    try {
      const rssBefore = rssMb();
      const first = await upload();
      const mb = +(statSync(file).size / 1024 / 1024).toFixed(1);
      report({
        bench: 'audience.import',
        value: Math.round(ROWS / first.seconds),
        unit: 'rows/s',
        rows: ROWS,
        fileMb: mb,
        seconds: +first.seconds.toFixed(2),
        loaded: first.body.loaded,
        rejected: first.body.rejected,
        rssMb: rssMb(),
        rssBeforeMb: rssBefore,
      });
      const again = await upload();
      report({ bench: 'audience.reimport', value: Math.round(ROWS / again.seconds), unit: 'rows/s', rows: ROWS, seconds: +again.seconds.toFixed(2), unchanged: again.body.unchanged });
      // GET /v1/lists with the 1 M-number list in place (the console's audience page asks for it on every visit).
      const reads: number[] = [];
      for (let i = 0; i < 20; i += 1) {
        const start = performance.now();
        const response = await fetch(`${address}/v1/lists`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await response.json()) as { lists: Array<{ id: string; subscribers: number }> };
        reads.push(performance.now() - start);
        if (body.lists.find((list) => list.id === 'bench')?.subscribers !== first.body.loaded) throw new Error(`GET /v1/lists counts ${JSON.stringify(body.lists)}`);
      }
      reads.sort((a, b) => a - b);
      report({ bench: 'audience.lists.read', value: +reads[10]!.toFixed(1), unit: 'ms (median of 20)', maxMs: +reads[19]!.toFixed(1), subscribers: first.body.loaded });
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await store.close();
    await database.drop();
  }
}
