import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { validateCampaign, type Campaign } from '../domain/campaign.js';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import { encodeMessage } from '../domain/encoding.js';
import { resolveCarrierName } from '../domain/portability.js';
import { Router } from '../domain/routing.js';
import type { Logger } from '../logger.js';
import { emptyCursor, idBase, type AudienceQuery, type CompileCursor, type CompileRepository, type CompileRouting } from '../store/compile.repository.js';
import type { CampaignPriority, RunState } from '../store/database.js';
import type { MessageRepository } from '../store/message.repository.js';
import type { RunRepository } from '../store/run.repository.js';
import type { JobPayloads, JobQueues } from './queues.js';

export interface CompileWorkerOptions {
  /** Recipients per chunk (one transaction each, with the cursor). */
  chunkSize?: number;
  /** Largest id range of one submit job. */
  batchSize?: number;
}

const FIRST_CHUNK = 2_000;

export interface CompileJobResult {
  rows: number;
  chunks: number;
  skipped?: string;
}

/** Routing facts for compile's SQL, from the domain: the prefix table and the portability names. */
export function compileRouting(campaign: Campaign, portedNames: readonly string[]): CompileRouting {
  const router = new Router(CARRIER_PROFILES);
  const prefixes = new Map<string, CarrierId>();
  for (let i = 0; i < 100; i++) {
    const two = String(i).padStart(2, '0');
    const route = router.route(`84${two}0000000`);
    if (!route.unroutable) prefixes.set(two, route.carrier);
  }
  const ported = new Map<string, CarrierId | null>();
  for (const name of portedNames) ported.set(name, resolveCarrierName(name)?.carrier ?? null);
  const partsTotal = Object.fromEntries(
    CARRIER_IDS.map((id) => [
      id,
      encodeMessage(campaign.message.text, { policy: campaign.message.encoding, ucs2Allowed: CARRIER_PROFILES[id].ucs2WithBrandname, reference: 0 }).parts.length,
    ]),
  ) as Record<CarrierId, number>;
  return { prefixes, portedNames: ported, operators: campaign.operators, partsTotal };
}

/** The audience query of a run: its campaign's, or only its test list (`loa launch --test`). */
export function audienceOf(campaign: Campaign, testList: string | null): AudienceQuery {
  const optOuts = !(campaign.priority === 'urgent' && campaign.audience.ignoreOptOuts === true);
  if (testList) return { lists: [testList], provinces: [], communes: [], exclude: campaign.audience.exclude, optOuts: true };
  return {
    lists: campaign.audience.lists,
    provinces: campaign.audience.areas.province,
    communes: campaign.audience.areas.commune,
    exclude: campaign.audience.exclude,
    optOuts,
  };
}

/** Splits a carrier's dense id range into submit jobs of at most `size` ids. */
export function batchesOf(runId: number, carrier: CarrierId, fromId: number, toId: number, size: number): Array<JobPayloads['submit']> {
  const jobs: Array<JobPayloads['submit']> = [];
  for (let from = fromId; from <= toId; from += size) jobs.push({ runId, carrier, fromId: from, toId: Math.min(toId, from + size - 1) });
  return jobs;
}

/**
 * Handles compile jobs. The audience never passes through Node: each chunk is one INSERT … SELECT
 * committed with its cursor (CompileRepository.writeChunk), and its submit jobs are enqueued as
 * soon as it is committed, so sending starts after the first chunk. A retried job resumes from
 * the cursor, and first re-enqueues the batches of the chunks already written (the claim makes a
 * batch enqueued twice harmless).
 */
export class CompileWorker {
  private readonly chunkSize: number;
  private readonly batchSize: number;
  private readonly logger: Logger;

  constructor(
    private readonly deps: {
      runs: Pick<RunRepository, 'getWithVersion' | 'setState' | 'setAudienceSize'>;
      messages: Pick<MessageRepository, 'createPartition'>;
      compile: CompileRepository;
      queues: Pick<JobQueues, 'addBulk'>;
      logger: Logger;
    },
    options: CompileWorkerOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? 50_000;
    this.batchSize = options.batchSize ?? 5_000;
    this.logger = deps.logger.child({ component: 'compile-worker' });
  }

  async process({ runId, resume }: JobPayloads['compile'], signal?: AbortSignal): Promise<CompileJobResult> {
    const log = this.logger.child({ runId });
    const loaded = await this.deps.runs.getWithVersion(runId);
    if (!loaded) return { rows: 0, chunks: 0, skipped: 'no such run' };
    const { run } = loaded;
    const open: readonly RunState[] = ['scheduled', 'compiling', 'running'];
    if (!open.includes(run.state)) return { rows: 0, chunks: 0, skipped: `run is ${run.state}` };
    if (run.state === 'running' && (run.progress.compile as CompileCursor | undefined) === undefined) {
      return { rows: 0, chunks: 0, skipped: 'run is running without a compile cursor' };
    }
    let cursor = (run.progress.compile as CompileCursor | undefined) ?? emptyCursor();
    if (cursor.done) {
      if (run.state !== 'running') return { rows: 0, chunks: cursor.chunks, skipped: `run is ${run.state}` };
      // Resume: every batch again; the rows already sent are no longer queued, so nothing is sent twice.
      await this.enqueue(runId, run.priority, this.rangesUsed(cursor), resume ?? Date.now());
      return { rows: 0, chunks: cursor.chunks, skipped: 'already compiled; batches enqueued again' };
    }

    const campaign = validateCampaign(loaded.document);
    await this.deps.runs.setState(runId, 'compiling', { from: ['scheduled'] });
    const partition = await this.deps.messages.createPartition(runId);
    const routing = compileRouting(campaign, await this.deps.compile.portedCarrierNames());
    const audience = audienceOf(campaign, run.test_list);
    const priority = run.priority;

    if (cursor.chunks > 0) {
      log.info({ chunks: cursor.chunks, after: cursor.after }, 'resuming compile from its cursor');
      await this.enqueue(runId, priority, this.rangesUsed(cursor), resume);
    }
    let rows = 0;
    while (!cursor.done) {
      if (signal?.aborted) throw new Error(`run ${runId}: compile stopped after ${cursor.chunks} chunks; it resumes from its cursor`);
      // The first chunk is small so that the first messages leave within a second of launch
      // (DESIGN.md, emergency); the rest go in full chunks.
      const limit = cursor.chunks === 0 ? Math.min(this.chunkSize, FIRST_CHUNK) : this.chunkSize;
      const chunk = await this.deps.compile.writeChunk(runId, audience, routing, cursor, limit);
      cursor = chunk.cursor;
      rows += chunk.rows;
      if (Object.keys(chunk.ranges).length > 0) {
        // Sending starts with the first committed chunk.
        await this.deps.runs.setState(runId, 'running', { from: ['compiling'] });
        await this.enqueue(
          runId,
          priority,
          Object.entries(chunk.ranges).map(([carrier, range]) => ({ carrier: carrier as CarrierId, ...range })),
        );
      }
    }
    await this.deps.compile.analyze(partition);
    const used = cursor.used;
    await this.deps.runs.setAudienceSize(runId, used.viettel + used.vnpt + used.mobifone + used.unroutable);
    await this.deps.runs.setState(runId, 'running', { from: ['compiling'] });
    log.info({ rows, chunks: cursor.chunks, perCarrier: used }, 'compiled');
    return { rows, chunks: cursor.chunks };
  }

  private rangesUsed(cursor: CompileCursor): Array<{ carrier: CarrierId; fromId: number; toId: number }> {
    return CARRIER_IDS.filter((id) => cursor.used[id] > 0).map((id) => ({ carrier: id, fromId: idBase(id) + 1, toId: idBase(id) + cursor.used[id] }));
  }

  private async enqueue(
    runId: number,
    priority: CampaignPriority,
    ranges: ReadonlyArray<{ carrier: CarrierId; fromId: number; toId: number }>,
    resume?: number,
  ): Promise<void> {
    const jobs = ranges.flatMap((range) =>
      batchesOf(runId, range.carrier, range.fromId, range.toId, this.batchSize).map((job) => (resume === undefined ? job : { ...job, resume })),
    );
    await this.deps.queues.addBulk(jobs.map((payload) => ({ payload, priority })));
  }
}
