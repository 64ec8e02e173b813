import { CARRIER_PROFILES } from '../../adapters/carriers/index.js';
import { validateCampaign, validitySeconds, type Campaign } from '../domain/campaign.js';
import { CARRIER_IDS, type CarrierId } from '../domain/carrier.js';
import { encodeMessage, type MessagePart } from '../domain/encoding.js';
import type { Logger } from '../logger.js';
import type { BindPool } from '../smpp/bind-pool.js';
import { Submitter, submitSmFor, type Addressing, type PartOutcome, type SubmitPart } from '../smpp/submitter.js';
import { TokenBucket } from '../smpp/token-bucket.js';
import type { MessageRepository } from '../store/message.repository.js';
import type { RecoveryRepository } from '../store/recovery.repository.js';
import type { RunRepository } from '../store/run.repository.js';
import type { RunState } from '../store/database.js';
import { ClaimGate } from './claim-gate.js';
import type { LateResponseTracker } from './engine-contract.js';
import { isConnectionError, retryWhileUnreachable } from './pg-outage.js';
import type { JobPayloads } from './queues.js';
import { SubmitResultWriter, type PartRef, type SubmitWrites } from './submit-results.js';
import { UrgentFirst } from './urgent-first.js';

export interface SubmitWorkerOptions {
  /** Consecutive failed parts (permanent, or temporary after their retries) that pause the run. */
  maxConsecutiveFailures?: number;
  /** How often a job re-reads its run's state (pause and cancel are state changes it notices). */
  stateCheckMs?: number;
  /** Result writes: see SubmitResultWriter. */
  flushEveryMs?: number;
  /** How long normal batches wait after the last urgent batch of a carrier before claiming again (UrgentFirst). */
  urgentLingerMs?: number;
}

export interface SubmitJobResult {
  claimed: number;
  submitted: number;
  failed: number;
  ambiguous: number;
  requeued: number;
  /** Times this normal batch gave way to an urgent one (its unsent parts went back to queued and were claimed again). */
  yielded?: number;
  skipped?: string;
  paused?: string;
}

interface RunContext {
  campaign: Campaign;
  validity: string;
  /** Encoded parts per carrier per concatenation reference (0–255), made on first use. */
  encoded: Map<string, MessagePart[]>;
  /** The campaign's throttle per carrier, shared by every job of the run in this process. */
  throttles: Map<CarrierId, TokenBucket>;
}

/**
 * Share of a campaign's throttle that the throttle bucket refills at, and the burst (in seconds of
 * the throttle) it may hold: 0.05 + 0.9 × (1 s + up to 50 ms between a claim and its PDUs
 * leaving) < 1, so no calendar second at the SMSC sees more than the throttle.
 */
const THROTTLE_HEADROOM = 0.9;
const THROTTLE_BURST_SECONDS = 0.05;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const SENDING: readonly RunState[] = ['compiling', 'running'];
/** W when this process holds no bind of the carrier yet (parts then wait for one, or come back unsent). */
const DEFAULT_WINDOW = 50;
/** The bound on rows held in `submitting`, in windows: see the module comment. */
export const HELD_WINDOWS = 3;
/** Claims per window: rows claimed and not yet answered stay within one window (see the module comment). */
export const CLAIMS_PER_WINDOW = 4;

/** Relative SMPP validity_period (§7.1.1): YYMMDDhhmmss000R. */
export function relativeValidity(seconds: number): string {
  const days = Math.min(99, Math.floor(seconds / 86_400));
  const rest = days === 99 ? 0 : seconds - days * 86_400;
  const two = (n: number) => String(n).padStart(2, '0');
  return `0000${two(days)}${two(Math.floor(rest / 3600))}${two(Math.floor((rest % 3600) / 60))}${two(rest % 60)}000R`;
}

/**
 * Handles submit jobs: one carrier's queued messages in an id range. One Submitter per carrier
 * per process over that carrier's BindPool, shared by the jobs running at once.
 *
 * The claim is the guard: the batches given to the Submitter are built from the rows this
 * worker's own UPDATE moved queued → submitting (MessageRepository.claim), a chunk at a time and
 * only when the Submitter is ready for more, so a job the queue delivers twice finds nothing to send.
 *
 * The bound (issue 8 item 5, DESIGN.md Delivery semantics). Let W be the carrier's window summed
 * over the binds this process holds (window × binds; 50 while it holds none). Per carrier, a
 * process holds at most **3 × W message rows in `submitting`**, whatever the number of jobs
 * running at once (BullMQ concurrency) — one ClaimGate per carrier shared by them all:
 * - a claim takes a chunk of ⌊W / parts per message⌋ ≤ W rows, and only after the gate has room
 *   for the whole chunk (held + chunk ≤ 3W);
 * - a row stays held until the statement moving it out of `submitting` (submitted, failed,
 *   ambiguous, or back to queued) has committed, so claimed-not-sent, in flight (≤ W PDUs) and
 *   decided-but-unwritten rows all count;
 * - when a claim has to wait, every result writer of the carrier writes what it has at once
 *   (backpressure: no more is claimed while unwritten results fill the bound).
 * In the steady state that is ≈ W in flight, W decided and being written, one chunk being
 * prepared. So after a crash at most 3 × W rows per carrier per process are left `submitting`
 * (the reconciler's ambiguous set, recorded under this process's lease), never a whole batch.
 * A write that fails leaves its rows `submitting` for the reconciler and out of the bound.
 *
 * Within those, at most **W rows are unanswered** (claimed, and not every part has its
 * submit_sm_resp): a second gate per carrier, released as each message is decided rather than
 * written, and claims of W / CLAIMS_PER_WINDOW so the window stays full while the next chunk is
 * claimed. That is the bound on what a crash leaves truly ambiguous (issue 9): a decided
 * message the SMSC accepted gets its receipt, and the reconciler resolves it by that receipt
 * (resolve_ambiguous, 0017), so only unanswered rows can stay ambiguous — ≤ window × binds.
 * Small claims stay cheap because compile numbers a chunk's recipients by area (compile.repository.ts).
 * test/integration/recovery-crash.test.ts kills a worker and asserts both.
 * test/integration/engine-bound.test.ts samples the rows while a run sends and asserts this.
 */
export class SubmitWorker {
  private readonly submitters: Record<CarrierId, Submitter>;
  private readonly gates: Record<CarrierId, ClaimGate>;
  /** Rows claimed whose parts are not all answered yet (unsent or in flight), per carrier: at most W. */
  private readonly unanswered: Record<CarrierId, ClaimGate>;
  /** The result writers of the jobs running now, per carrier: flushed at once when a claim must wait. */
  private readonly writers: Record<CarrierId, Set<SubmitResultWriter>>;
  private readonly contexts = new Map<number, RunContext>();
  /** Urgent submit jobs running here, per carrier: normal ones give way to them (issue 9 item 2). */
  readonly urgentFirst: UrgentFirst;
  private readonly maxConsecutiveFailures: number;
  private readonly stateCheckMs: number;
  private readonly logger: Logger;

  constructor(
    private readonly deps: {
      runs: Pick<RunRepository, 'getWithVersion' | 'get' | 'setState'>;
      messages: Pick<MessageRepository, 'claim'> & SubmitWrites['messages'];
      receipts: SubmitWrites['receipts'];
      pools: Readonly<Record<CarrierId, BindPool>>;
      late: LateResponseTracker;
      /** This process's worker lease id (recorded on every row it claims). */
      claim: () => number;
      /** Puts back the rows of a claim whose reply was lost with the connection (recovery). */
      recovery?: Pick<RecoveryRepository, 'requeueUnheld'>;
      logger: Logger;
    },
    private readonly options: SubmitWorkerOptions = {},
  ) {
    this.maxConsecutiveFailures = options.maxConsecutiveFailures ?? 50;
    this.stateCheckMs = options.stateCheckMs ?? 1000;
    this.urgentFirst = new UrgentFirst(options.urgentLingerMs);
    this.logger = deps.logger.child({ component: 'submit-worker' });
    this.submitters = Object.fromEntries(
      CARRIER_IDS.map((id) => {
        const pool = deps.pools[id];
        return [
          id,
          new Submitter({
            carrier: id,
            sessions: pool,
            tpsPerBind: pool.tpsPerBind,
            errorMeaning: CARRIER_PROFILES[id].errorMeaning,
            messageIdFormat: pool.messageIdFormats.submit,
            logger: deps.logger,
          }),
        ];
      }),
    ) as Record<CarrierId, Submitter>;
    this.writers = Object.fromEntries(CARRIER_IDS.map((id) => [id, new Set<SubmitResultWriter>()])) as Record<CarrierId, Set<SubmitResultWriter>>;
    this.gates = Object.fromEntries(
      CARRIER_IDS.map((id) => [
        id,
        new ClaimGate(
          () => HELD_WINDOWS * this.window(id),
          () => {
            for (const writer of this.writers[id]) void writer.flush();
          },
        ),
      ]),
    ) as Record<CarrierId, ClaimGate>;
    this.unanswered = Object.fromEntries(CARRIER_IDS.map((id) => [id, new ClaimGate(() => this.window(id))])) as Record<CarrierId, ClaimGate>;
  }

  /** The carrier's window summed over the binds this process holds (W in the module comment). */
  window(carrier: CarrierId): number {
    return this.deps.pools[carrier].sessions.reduce((sum, session) => sum + session.window, 0) || DEFAULT_WINDOW;
  }

  /** Rows this process holds in `submitting` for the carrier now, at most, and the most it has held. */
  held(carrier: CarrierId): { held: number; peak: number; bound: number } {
    const gate = this.gates[carrier];
    return { held: gate.held, peak: gate.peak, bound: gate.bound };
  }

  /** Of those, the rows claimed whose parts are not all answered yet (unsent or in flight): now, the most, and the bound. */
  unansweredRows(carrier: CarrierId): { held: number; peak: number; bound: number } {
    const gate = this.unanswered[carrier];
    return { held: gate.held, peak: gate.peak, bound: gate.bound };
  }

  dispose(): void {
    for (const submitter of Object.values(this.submitters)) submitter.dispose();
  }

  async process(job: JobPayloads['submit'], signal?: AbortSignal): Promise<SubmitJobResult> {
    const { runId, carrier } = job;
    const log = this.logger.child({ runId, carrier });
    const result: SubmitJobResult = { claimed: 0, submitted: 0, failed: 0, ambiguous: 0, requeued: 0 };
    const loaded = await this.deps.runs.getWithVersion(runId);
    if (!loaded) return { ...result, skipped: 'no such run' };
    if (!SENDING.includes(loaded.run.state)) return { ...result, skipped: `run is ${loaded.run.state}` };
    const context = this.context(runId, loaded.document);
    const sender = context.campaign.message.sender[carrier];
    if (!sender) return { ...result, skipped: `no sender for ${carrier}` };

    const gate = this.gates[carrier];
    const unanswered = this.unanswered[carrier];
    const writer = new SubmitResultWriter(runId, carrier, this.deps, this.deps.late, log, {
      flushEveryMs: this.options.flushEveryMs,
      maxBatch: this.window(carrier),
      onDecided: (rows) => unanswered.release(rows),
      onWritten: (rows) => gate.release(rows),
      pressure: () => gate.waiting,
    });
    const writers = this.writers[carrier];
    writers.add(writer);
    const abort = new AbortController();
    const onStop = (): void => abort.abort();
    signal?.addEventListener('abort', onStop, { once: true });
    if (signal?.aborted) onStop();
    let pauseReason: string | undefined;
    /** A claim failed with the connection: it may have committed, its rows then `submitting` under our lease and held by no one. */
    let claimUncertain = false;
    let consecutiveFailures = 0;
    let checkedAt = Date.now();

    // Once per run, not per message: a numeric sender goes as TON 0 / NPI 1, any other as alphanumeric (TON 5 / NPI 0).
    const numericSender = /^\d+$/.test(sender);
    const sourceAddrTon = numericSender ? 0 : 5;
    const sourceAddrNpi = numericSender ? 1 : 0;
    const addressing = (to: string): Addressing => ({
      sourceAddr: sender,
      sourceAddrTon,
      sourceAddrNpi,
      destinationAddr: to,
      destAddrTon: 1,
      destAddrNpi: 1,
      registeredDelivery: 1,
      validityPeriod: context.validity,
    });

    const claimSize = (parts: number): number => Math.max(1, Math.floor(this.window(carrier) / (CLAIMS_PER_WINDOW * parts)));

    const { runs, messages, claim } = this.deps;
    const stateCheckMs = this.stateCheckMs;
    const partsFor = (reference: number): MessagePart[] => this.partsFor(context, carrier, reference);
    const throttleFor = (parts: number): TokenBucket | null => this.throttleFor(context, carrier, parts);
    async function* batches(round: AbortSignal): AsyncGenerator<SubmitPart<PartRef>[]> {
      let from = job.fromId;
      while (!round.aborted) {
        if (Date.now() - checkedAt >= stateCheckMs) {
          checkedAt = Date.now();
          const run = await runs.get(runId);
          if (!run || !SENDING.includes(run.state)) {
            log.info({ state: run?.state }, 'run no longer sending; stopping the batch');
            return;
          }
        }
        const parts = partsFor(0).length;
        let limit = claimSize(parts);
        const throttle = throttleFor(parts);
        if (throttle) {
          // Claim only what the campaign's throttle lets leave now: a burst's worth at most.
          limit = Math.max(1, Math.min(limit, Math.floor(throttle.burstTokens / parts)));
          while (!throttle.tryTake(limit * parts)) {
            await sleep(Math.max(1, Math.ceil(throttle.msUntilAvailable(limit * parts))), round);
            if (round.aborted) return;
          }
        }
        try {
          await unanswered.acquire(limit, round);
        } catch {
          return; // aborted while waiting: nothing claimed
        }
        try {
          await gate.acquire(limit, round);
        } catch {
          unanswered.release(limit);
          return;
        }
        let claimed: Awaited<ReturnType<typeof messages.claim>>;
        try {
          claimed = await messages.claim(runId, { carrier, fromId: from, toId: job.toId, limit, claim: claim() });
        } catch (error) {
          gate.release(limit);
          unanswered.release(limit);
          if (isConnectionError(error)) claimUncertain = true;
          throw error;
        }
        gate.release(limit - claimed.length);
        unanswered.release(limit - claimed.length);
        if (claimed.length === 0) return;
        result.claimed += claimed.length;
        from = claimed[claimed.length - 1]!.id + 1;
        const batch: SubmitPart<PartRef>[] = [];
        for (const message of claimed) {
          const parts = partsFor(message.id & 0xff);
          const to = addressing(message.msisdn);
          for (const part of parts) {
            batch.push({ ref: { messageId: message.id, part: part.partNumber, parts: parts.length }, pdu: submitSmFor(part, to) });
          }
        }
        yield batch;
      }
    }

    const urgent = loaded.run.priority === 'urgent';
    const leaveUrgent = urgent ? this.urgentFirst.enter(carrier) : undefined;
    // Rows this job returned to queued when it gave way to an urgent batch; it claims them again itself.
    let requeuedByYield = 0;
    const hooks = {
      beforeSend: async (batch: readonly SubmitPart<PartRef>[]) => batch,
      onResult: (part: SubmitPart<PartRef>, outcome: PartOutcome) => {
        writer.add(part.ref, outcome);
        if (outcome.outcome === 'submitted') consecutiveFailures = 0;
        if (outcome.outcome !== 'failed') return;
        consecutiveFailures += 1;
        const status = `0x${outcome.status.toString(16).padStart(8, '0')}`;
        if (outcome.meaning.action === 'stop-run') {
          pauseReason ??= `${carrier} answered ${outcome.meaning.name} (${status}): ${outcome.meaning.description}`;
        } else if (consecutiveFailures >= this.maxConsecutiveFailures && !pauseReason) {
          pauseReason = `${consecutiveFailures} consecutive failed submits on ${carrier}, the last ${outcome.meaning.name} (${status})`;
          abort.abort();
        }
      },
    };
    try {
      // Rounds: a normal job runs one round over its range unless an urgent job of the carrier
      // starts here meanwhile; then the round stops (UrgentFirst), its unsent rows are written
      // back to queued, and once no urgent job is left a new round claims from the range's start.
      for (;;) {
        if (!urgent) await this.urgentFirst.whenIdle(carrier, abort.signal);
        if (abort.signal.aborted) break;
        const round = new AbortController();
        const endRound = (): void => round.abort();
        abort.signal.addEventListener('abort', endRound, { once: true });
        let gaveWay = false;
        const stopGivingWay = urgent
          ? () => undefined
          : this.urgentFirst.onUrgent(carrier, () => {
              gaveWay = true;
              round.abort();
            });
        try {
          await this.submitters[carrier].run(batches(round.signal), hooks, round.signal);
        } finally {
          stopGivingWay();
          abort.signal.removeEventListener('abort', endRound);
        }
        if (!gaveWay || abort.signal.aborted || pauseReason) break;
        // Every part has settled; the unsent ones must be queued again before the next round claims.
        await writer.flush();
        requeuedByYield = writer.totals.requeued;
        result.yielded = (result.yielded ?? 0) + 1;
        log.info({ requeued: requeuedByYield }, 'normal batch gave way to an urgent one');
      }
    } finally {
      leaveUrgent?.();
      signal?.removeEventListener('abort', onStop);
      const abandoned = writer.abandon();
      if (abandoned.length > 0) log.warn({ messages: abandoned.length }, 'claimed messages without an outcome returned to queued');
      try {
        await writer.close();
      } finally {
        writers.delete(writer);
      }
      Object.assign(result, writer.totals);
      if (claimUncertain) await this.requeueUnheld(runId, carrier, log);
    }

    if (pauseReason) {
      log.error({ reason: pauseReason }, 'pausing the run');
      await this.deps.runs.setState(runId, 'paused', { from: SENDING, error: pauseReason });
      return { ...result, paused: pauseReason };
    }
    if (signal?.aborted || result.requeued > requeuedByYield) {
      // Stopped before the range was done (shutdown, or no bind): the rows are queued again, and
      // failing the job makes BullMQ retry it later, here or on another worker.
      throw new Error(`run ${runId} ${carrier} ${job.fromId}-${job.toId}: ${result.requeued} messages returned to queued; retrying later`);
    }
    return result;
  }

  /**
   * After a claim lost with its connection (PostgreSQL restarting): once no job of this process
   * holds a row of the carrier (claims wait meanwhile), the rows still `submitting` under this
   * process's lease are that claim's, never sent: back to queued, so they are sent once, not lost.
   */
  private async requeueUnheld(runId: number, carrier: CarrierId, log: Logger): Promise<void> {
    const recovery = this.deps.recovery;
    if (!recovery) return;
    const moved = await this.gates[carrier].exclusive(() =>
      retryWhileUnreachable(log, 'requeue of an uncertain claim', () => recovery.requeueUnheld(runId, carrier, this.deps.claim())),
    );
    if (moved > 0) log.warn({ messages: moved }, 'rows of a claim whose reply was lost returned to queued');
  }

  private context(runId: number, document: unknown): RunContext {
    let context = this.contexts.get(runId);
    if (!context) {
      const campaign = validateCampaign(document);
      context = { campaign, validity: relativeValidity(validitySeconds(campaign)), encoded: new Map(), throttles: new Map() };
      if (this.contexts.size >= 32) this.contexts.delete(this.contexts.keys().next().value!);
      this.contexts.set(runId, context);
    }
    return context;
  }

  /**
   * The campaign's `throttle` for the carrier (segments/s, issue 8 item 4) as a token bucket in
   * the orchestration layer (CONVENTIONS.md Shape 4), or null when it sets none. Capped at the
   * carrier's grant, and split like the grant: this process refills at its share of the carrier's
   * binds (held / allowed), so workers together never exceed the throttle.
   */
  private throttleFor(context: RunContext, carrier: CarrierId, parts: number): TokenBucket | null {
    const throttle = context.campaign.throttle[carrier];
    if (throttle === undefined || !(throttle > 0)) return null;
    const pool = this.deps.pools[carrier];
    const grant = pool.tpsPerBind * pool.allowedBinds;
    const share = Math.max(1, pool.heldCount) / Math.max(1, pool.allowedBinds);
    const rate = Math.min(throttle, grant) * share;
    const burst = Math.max(parts, rate * THROTTLE_BURST_SECONDS);
    let bucket = context.throttles.get(carrier);
    if (!bucket) {
      bucket = new TokenBucket({ rate: rate * THROTTLE_HEADROOM, burst });
      context.throttles.set(carrier, bucket);
    } else if (bucket.grant !== rate * THROTTLE_HEADROOM) {
      bucket.setGrant(rate * THROTTLE_HEADROOM, burst);
    }
    return bucket;
  }

  private partsFor(context: RunContext, carrier: CarrierId, reference: number): MessagePart[] {
    const key = `${carrier}:${reference}`;
    let parts = context.encoded.get(key);
    if (!parts) {
      parts = encodeMessage(context.campaign.message.text, {
        policy: context.campaign.message.encoding,
        ucs2Allowed: CARRIER_PROFILES[carrier].ucs2WithBrandname,
        reference,
      }).parts;
      context.encoded.set(key, parts);
    }
    return parts;
  }
}
