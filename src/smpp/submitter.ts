import type { MessageIdFormat, SmppErrorMeaning } from '../domain/carrier.js';
import { normalizeMessageId } from '../domain/receipt.js';
import type { Logger } from '../logger.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { CarrierError } from './carrier-error.js';
import type { SmppSession, SubmitResult } from './session.js';
import { isSession, singleSessionSource, type PartOutcome, type RunSummary, type SessionSource, type StopReason, type SubmitHooks, type SubmitPart } from './submitter-types.js';
import { TokenBucket, type TokenBucketOptions } from './token-bucket.js';
import { MAX_SHORT_MESSAGE_OCTETS, STATUS } from './wire.js';

// The part, outcome and hook types are the engine's contract below: importable from here.
export { singleSessionSource, submitSmFor } from './submitter-types.js';
export type { Addressing, PartOutcome, RunSummary, SessionSource, StopReason, SubmitHooks, SubmitPart } from './submitter-types.js';

/**
 * The engine side of submitting: throttle (token bucket + AIMD per bind), window (at most
 * `window` outstanding per bind, enforced by the session), retries of temporary errors, and one
 * outcome per part. Sessions only send PDUs (CONVENTIONS.md, Shape 4).
 *
 * How the campaign engine uses it (DESIGN.md, How a message flows 4 and Delivery semantics):
 *
 *   const submitter = new Submitter({ carrier, sessions: bindPool, tpsPerBind, errorMeaning, … });
 *   await submitter.run(batchesOfParts, {
 *     // Called once per batch, BEFORE any PDU of the batch leaves. Claim the batch's rows (one
 *     // UPDATE … WHERE state = 'queued' RETURNING id) and resolve with the parts whose rows this
 *     // call moved: only those are sent. If it throws, nothing of that batch is sent and run()
 *     // rejects: the rows stay `queued`.
 *     beforeSend: async (batch) => {
 *       const moved = new Set(await messages.markSubmitting(batch.map((p) => p.ref.messageId)));
 *       return batch.filter((p) => moved.has(p.ref.messageId));
 *     },
 *     // Exactly once per part. Buffer and write in sets (`submitted` + message id, `failed` +
 *     // status, `ambiguous`); a returned promise is awaited before run() resolves.
 *     onResult: (part, outcome) => buffer.push(part.ref, outcome),
 *   }, abortSignal);
 *
 * Outcomes:
 * - `submitted`: submit_sm_resp OK; `messageId` is normalised per the carrier's submit id format
 *   and matches receipts normalised per the receipt format (CarrierReceipt.messageId).
 * - `failed`: a permanent status, or a temporary one that stayed after its retries; carries the
 *   status, the carrier profile's meaning and a CarrierError. `meaning.action === 'stop-run'`
 *   (bad source address/TON) means every further message will fail the same way.
 * - `ambiguous`: the PDU was written and no answer will come (bind dropped, response timed out).
 *   It may have reached the handset. It is never resent by the submitter; the engine marks the
 *   row `ambiguous` (policy resendAmbiguous: false).
 *   On response-timeout the outcome carries `late: { connection, sequence }`. If the SMSC answers
 *   after all (within 2 min, on the same connection), the session, and the BindPool with it, emits
 *   `'late-response'` `{ connection, sequence, messageId, status }`: with status 0 the engine may
 *   turn the row from `ambiguous` into `submitted` with that message id (normalised per the
 *   carrier's submit format), so its receipt can match. run() may have resolved long before.
 * - `unsent`: the PDU never left this process, or the SMSC refused it and it was not retried
 *   (run aborted, no bind for noBindTimeoutMs, the run stopped after a `stop-run` status such as
 *   ESME_RINVSRCADR, or `smsc-failing`: systemErrorLimit ESME_RSYSERR answers in a row): the
 *   engine puts the row back to `queued`; for `no-bind` and `smsc-failing` the outcome's `detail`
 *   says why and the engine pauses the run (src/jobs/carrier-fault-pause.ts).
 *
 * Parts of batches never handed to beforeSend (the run stopped or failed first) get no outcome:
 * they were never marked and stay `queued`. Rows marked `submitting` but not yet sent are at most
 * one batch plus `prefetchParts`; after a crash those, plus the PDUs in flight (≤ window per
 * bind), are the ambiguous ones.
 */
export interface RetryPolicy {
  /** Attempts in all for ESME_RSYSERR, ESME_RX_T_APPN, ESME_RMSGQFUL, ESME_RINVBNDSTS and the like. */
  maxAttempts: number;
  /** Attempts in all for ESME_RTHROTTLED (AIMD slows the bind meanwhile). */
  throttledMaxAttempts: number;
  backoff: BackoffPolicy;
  /** How long a bind is paused after ESME_RMSGQFUL. */
  queueFullPauseMs: number;
}

export interface SubmitterOptions {
  carrier: string;
  sessions: SmppSession | SessionSource;
  /** Granted segments/s per bind: the carrier's TPS divided by its allowed binds, so all binds together never exceed it. */
  tpsPerBind: number;
  /** Share of tpsPerBind aimed at, so arrival jitter never crosses the SMSC's per-second cap. */
  headroom?: number;
  /** The carrier profile's errorMeaning. */
  errorMeaning(status: number): SmppErrorMeaning;
  /** The carrier's submit_sm_resp id format, to normalise ids. */
  messageIdFormat: MessageIdFormat;
  retry?: Partial<RetryPolicy>;
  bucket?: Omit<TokenBucketOptions, 'rate'>;
  /** Parts already through beforeSend and waiting, above which the next batch is not prepared. Default: 2 × window. */
  prefetchParts?: number;
  /** With no bound session this long, waiting parts are returned `unsent` (reason no-bind). Default: the source's faultPolicy, else 60 s. */
  noBindTimeoutMs?: number;
  /**
   * ESME_RSYSERR answers in a row, over every bind and run of the carrier, after which every run
   * stops (parts back `unsent`, reason smsc-failing): the status table says 0x08 counts towards
   * pausing. Default: the source's faultPolicy, else 50.
   */
  systemErrorLimit?: number;
  /** Monotonic milliseconds for the no-bind watchdog (default performance.now); tests drive it. */
  clock?: () => number;
  logger: Logger;
}

const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  throttledMaxAttempts: 20,
  backoff: { baseMs: 200, maxMs: 10_000 },
  queueFullPauseMs: 1_000,
};

interface Bind {
  session: SmppSession;
  bucket: TokenBucket;
  onCapacity: () => void;
  onClosed: () => void;
}

interface Run<R> {
  hooks: SubmitHooks<R>;
  summary: RunSummary;
  /** Parts handed to the submitter and not settled. */
  unsettled: number;
  /** Parts queued or waiting for a retry (not in flight). */
  waiting: number;
  stopped: null | StopReason;
  /** What a person reads about why (carrier faults). */
  stopDetail: string | undefined;
  sourceDone: boolean;
  pendingHooks: Set<Promise<void>>;
  hookError: unknown;
  changed: (() => void) | null;
}

interface Item<R> {
  part: SubmitPart<R>;
  run: Run<R>;
  attempts: number;
  throttles: number;
  notBefore: number;
}

/** Drives bound sessions: see the module comment for the engine's contract. */
export class Submitter {
  private readonly source: SessionSource;
  private readonly retry: RetryPolicy;
  private readonly headroom: number;
  private readonly binds = new Map<SmppSession, Bind>();
  private readonly queue: Item<unknown>[] = [];
  private queueHead = 0;
  private readonly retries: Item<unknown>[] = [];
  private readonly runs = new Set<Run<unknown>>();
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private rotation = 0;
  private unboundSince: number | null = null;
  /** ESME_RSYSERR answers since the last accepted submit. */
  private systemErrors = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly logger: Logger;
  private readonly onTopology = (): void => this.pump();

  constructor(private readonly options: SubmitterOptions) {
    if (!(options.tpsPerBind > 0)) throw new RangeError(`tpsPerBind must be positive, got ${options.tpsPerBind}`);
    this.source = isSession(options.sessions) ? singleSessionSource(options.sessions) : options.sessions;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.headroom = options.headroom ?? 0.99;
    this.logger = options.logger.child({ component: 'smpp-submitter', carrier: options.carrier });
  }

  /** Parts waiting to be sent (all runs). */
  get waiting(): number {
    return this.queue.length - this.queueHead + this.retries.length;
  }

  /** The rate each bind's bucket allows now (after AIMD), by session id. */
  rates(): Record<string, number> {
    return Object.fromEntries([...this.binds.values()].map((bind) => [bind.session.id, bind.bucket.rate]));
  }

  /**
   * Submits every part of every batch and reports each part's outcome once (hooks.onResult).
   * Runs may overlap: they share the binds and their buckets. Aborting stops taking batches and
   * returns the parts not yet sent as `unsent`; parts in flight still get their real outcome.
   * Rejects only when a hook fails (after every part already sent has settled).
   */
  async run<R>(batches: Iterable<readonly SubmitPart<R>[]> | AsyncIterable<readonly SubmitPart<R>[]>, hooks: SubmitHooks<R>, signal?: AbortSignal): Promise<RunSummary> {
    const run: Run<R> = {
      hooks,
      summary: { parts: 0, submitted: 0, failed: 0, ambiguous: 0, unsent: 0, retries: 0, throttled: 0 },
      unsettled: 0,
      waiting: 0,
      stopped: null,
      stopDetail: undefined,
      sourceDone: false,
      pendingHooks: new Set(),
      hookError: undefined,
      changed: null,
    };
    const anyRun = run as Run<unknown>;
    // Once for all the runs in progress (the engine runs several batch jobs over one submitter).
    if (this.runs.size === 0) {
      this.source.on('bound', this.onTopology);
      this.source.on('unbound', this.onTopology);
    }
    this.runs.add(anyRun);
    this.startWatchdog();
    const onAbort = (): void => this.stopRun(anyRun, 'aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    // The next batch is taken from the source only once the waiting parts are down to the
    // prefetch limit, so a source that claims rows as it yields them claims just in time.
    const iterator = Symbol.asyncIterator in batches ? batches[Symbol.asyncIterator]() : (batches as Iterable<readonly SubmitPart<R>[]>)[Symbol.iterator]();
    try {
      for (;;) {
        if (run.stopped) break;
        await this.until(run, () => run.stopped !== null || run.waiting <= this.prefetchLimit());
        if (run.stopped) break;
        const next = await iterator.next();
        if (next.done) break;
        const batch = next.value;
        if (batch.length === 0) continue;
        const claimed = await hooks.beforeSend(batch);
        if (run.stopped) {
          // Marked `submitting` but stopped before sending: report them unsent so the engine requeues.
          for (const part of claimed) this.settleNew(run, part, this.unsent(anyRun, 0));
          continue;
        }
        const now = performance.now();
        for (const part of claimed) {
          run.summary.parts += 1;
          run.unsettled += 1;
          run.waiting += 1;
          this.queue.push({ part, run: anyRun, attempts: 0, throttles: 0, notBefore: now } as Item<unknown>);
        }
        this.pump();
      }
      run.sourceDone = true;
      await this.until(run, () => run.unsettled === 0);
      await Promise.all(run.pendingHooks);
    } catch (error) {
      // A failing source or beforeSend: stop this run, let what is in flight settle, then fail.
      this.stopRun(anyRun, 'aborted');
      await this.until(run, () => run.unsettled === 0);
      await Promise.allSettled(run.pendingHooks);
      throw error;
    } finally {
      await Promise.resolve(iterator.return?.()).catch(() => undefined);
      signal?.removeEventListener('abort', onAbort);
      this.runs.delete(anyRun);
      if (this.runs.size === 0) {
        this.source.off('bound', this.onTopology);
        this.source.off('unbound', this.onTopology);
        this.stopWatchdog();
      }
    }
    if (run.hookError !== undefined) throw run.hookError;
    return run.summary;
  }

  /** Stops listening to sessions (the sessions themselves belong to their owner). */
  dispose(): void {
    for (const bind of this.binds.values()) this.forget(bind);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.stopWatchdog();
  }

  private prefetchLimit(): number {
    if (this.options.prefetchParts !== undefined) return this.options.prefetchParts;
    const sessions = this.source.sessions;
    const window = sessions.reduce((sum, session) => sum + session.window, 0);
    return Math.max(1, 2 * window);
  }

  private until(run: Run<unknown> | Run<never>, condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      (run as Run<unknown>).changed = () => {
        if (!condition()) return;
        (run as Run<unknown>).changed = null;
        resolve();
      };
    });
  }

  private notify(run: Run<unknown>): void {
    run.changed?.();
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.promoteRetries(performance.now());
        while (this.queueHead < this.queue.length) {
          const item = this.queue[this.queueHead] as Item<unknown>;
          if (item.run.stopped) {
            this.dequeue();
            this.settleWaiting(item, this.unsent(item.run, item.attempts));
            continue;
          }
          const bind = this.pickBind();
          if (!bind) break;
          this.dequeue();
          this.send(item, bind);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.scheduleWake();
  }

  private dequeue(): void {
    this.queue[this.queueHead] = undefined as unknown as Item<unknown>;
    this.queueHead += 1;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private pickBind(): Bind | null {
    const sessions = this.source.sessions;
    const count = sessions.length;
    for (let i = 0; i < count; i++) {
      const session = sessions[(this.rotation + i) % count] as SmppSession;
      // bindFor first: it subscribes to the session's capacity events even while it has none.
      const bind = this.bindFor(session);
      if (!session.hasCapacity || !bind.bucket.tryTake(1)) continue;
      this.rotation = (this.rotation + i + 1) % count;
      return bind;
    }
    return null;
  }

  private bindFor(session: SmppSession): Bind {
    let bind = this.binds.get(session);
    if (bind) return bind;
    const onCapacity = (): void => this.pump();
    const onClosed = (): void => {
      const known = this.binds.get(session);
      if (known) this.forget(known);
      this.pump();
    };
    bind = {
      session,
      bucket: new TokenBucket({ ...this.options.bucket, rate: this.options.tpsPerBind * this.headroom }),
      onCapacity,
      onClosed,
    };
    session.on('capacity', onCapacity);
    session.on('bound', onCapacity);
    session.on('closed', onClosed);
    this.binds.set(session, bind);
    return bind;
  }

  private forget(bind: Bind): void {
    bind.session.off('capacity', bind.onCapacity);
    bind.session.off('bound', bind.onCapacity);
    bind.session.off('closed', bind.onClosed);
    this.binds.delete(bind.session);
  }

  private send(item: Item<unknown>, bind: Bind): void {
    item.attempts += 1;
    if (item.attempts > 1) item.run.summary.retries += 1;
    item.run.waiting -= 1;
    this.notify(item.run);
    const pdu = item.part.pdu;
    if (pdu.shortMessage.length > MAX_SHORT_MESSAGE_OCTETS) {
      this.settleLocalFailure(item, STATUS.ESME_RINVMSGLEN);
      return;
    }
    bind.session.submit(pdu).then(
      (result) => this.onSubmitResult(item, bind, result),
      (error: unknown) => {
        // SmppSession.submit never rejects; this is a defect, and the PDU may have left.
        this.logger.error({ err: error }, 'submit rejected unexpectedly');
        this.settle(item, { outcome: 'ambiguous', ok: false, ambiguous: true, reason: 'connection-lost', attempts: item.attempts, session: bind.session.id });
      },
    );
  }

  private onSubmitResult(item: Item<unknown>, bind: Bind, result: SubmitResult): void {
    switch (result.kind) {
      case 'ok':
        this.systemErrors = 0;
        this.settle(item, {
          outcome: 'submitted',
          ok: true,
          ambiguous: false,
          messageId: normalizeMessageId(result.messageId, this.options.messageIdFormat),
          rawMessageId: result.messageId,
          attempts: item.attempts,
          session: bind.session.id,
        });
        break;
      case 'ambiguous':
        this.settle(item, {
          outcome: 'ambiguous',
          ok: false,
          ambiguous: true,
          reason: result.reason,
          attempts: item.attempts,
          session: bind.session.id,
          ...(result.reason === 'response-timeout' ? { late: { connection: result.connection, sequence: result.sequence } } : {}),
        });
        break;
      case 'unsent':
        if (result.reason === 'invalid') {
          this.logger.error({ detail: result.detail }, 'submit_sm could not be encoded');
          this.settleLocalFailure(item, STATUS.ESME_RSUBMITFAIL);
          break;
        }
        // Never written (the bind dropped between picking and sending): not an attempt.
        item.attempts -= 1;
        if (item.attempts > 0) item.run.summary.retries -= 1;
        this.requeue(item, performance.now());
        break;
      case 'error':
        this.onErrorStatus(item, bind, result.status);
        break;
    }
    this.pump();
  }

  private onErrorStatus(item: Item<unknown>, bind: Bind, status: number): void {
    const meaning = this.options.errorMeaning(status);
    const now = performance.now();
    switch (meaning.action) {
      case 'throttle': {
        item.run.summary.throttled += 1;
        item.throttles += 1;
        if (bind.bucket.onThrottled()) this.logger.warn({ session: bind.session.id, rate: Math.round(bind.bucket.rate) }, 'throttled by the SMSC; slowing down');
        if (item.throttles < this.retry.throttledMaxAttempts) {
          // The bucket already slowed the bind; a short pause keeps the retry out of the same second.
          this.requeue(item, now + backoffDelay(item.throttles - 1, { baseMs: 50, maxMs: 1_000 }));
          return;
        }
        break;
      }
      case 'queue-full':
        bind.bucket.pause(this.retry.queueFullPauseMs);
        if (item.attempts < this.retry.maxAttempts) {
          this.requeue(item, now + this.retry.queueFullPauseMs);
          return;
        }
        break;
      case 'retry':
      case 'rebind':
        if (status === STATUS.ESME_RSYSERR && this.countSystemError(status)) {
          // Refused, so safe to send again: back in line, where the stopped run returns it unsent.
          this.requeue(item, now);
          return;
        }
        // ESME_RINVBNDSTS: the link rebinds by itself; the SMSC refused the PDU, so resending is safe.
        if (item.attempts < this.retry.maxAttempts) {
          this.requeue(item, now + backoffDelay(item.attempts - 1, this.retry.backoff));
          return;
        }
        break;
      default:
        break;
    }
    const error = new CarrierError(this.options.carrier, meaning);
    this.settle(item, { outcome: 'failed', ok: false, ambiguous: false, status, meaning, error, attempts: item.attempts });
    if (meaning.action === 'stop-run') {
      this.logger.error({ status, meaning: meaning.description }, 'configuration error reported by the SMSC; stopping the run');
      this.stopRun(item.run, 'stop-run');
    }
  }

  /** Counts an ESME_RSYSERR; true once the limit is reached (every run has then been stopped). */
  private countSystemError(status: number): boolean {
    this.systemErrors += 1;
    const limit = this.options.systemErrorLimit ?? this.source.faultPolicy?.systemErrorLimit ?? 50;
    if (this.systemErrors < limit) return false;
    const name = this.options.errorMeaning(status).name;
    const detail = `${this.options.carrier} answered ${name} (0x${status.toString(16).padStart(2, '0')}) to ${this.systemErrors} submits in a row: the SMSC is failing`;
    if (this.systemErrors === limit) this.logger.error({ systemErrors: this.systemErrors }, 'SMSC answers system errors only; stopping the runs on this carrier');
    for (const run of this.runs) this.stopRun(run, 'smsc-failing', detail);
    return true;
  }

  private settleLocalFailure(item: Item<unknown>, status: number): void {
    const meaning = this.options.errorMeaning(status);
    const error = new CarrierError(this.options.carrier, meaning, true);
    this.settle(item, { outcome: 'failed', ok: false, ambiguous: false, status, meaning, error, attempts: item.attempts });
  }

  private requeue(item: Item<unknown>, notBefore: number): void {
    item.run.waiting += 1;
    item.notBefore = notBefore;
    if (notBefore <= performance.now()) {
      // Put it back in front: it was next in line.
      if (this.queueHead > 0) this.queue[--this.queueHead] = item;
      else this.queue.unshift(item);
    } else {
      this.retries.push(item);
    }
    this.notify(item.run);
  }

  private promoteRetries(now: number): void {
    if (this.retries.length === 0) return;
    const ready: Item<unknown>[] = [];
    for (let i = this.retries.length - 1; i >= 0; i--) {
      const item = this.retries[i] as Item<unknown>;
      if (item.notBefore <= now || item.run.stopped) {
        ready.push(item);
        this.retries.splice(i, 1);
      }
    }
    for (const item of ready) {
      if (this.queueHead > 0) this.queue[--this.queueHead] = item;
      else this.queue.unshift(item);
    }
  }

  private scheduleWake(): void {
    let wakeIn = Number.POSITIVE_INFINITY;
    const now = performance.now();
    if (this.queueHead < this.queue.length) {
      for (const session of this.source.sessions) {
        if (!session.hasCapacity) continue;
        wakeIn = Math.min(wakeIn, this.bindFor(session).bucket.msUntilAvailable(1));
      }
    }
    for (const item of this.retries) wakeIn = Math.min(wakeIn, item.notBefore - now);
    if (!Number.isFinite(wakeIn)) return;
    const at = now + Math.max(1, wakeIn);
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, Math.max(1, Math.ceil(wakeIn)));
  }

  private stopRun(run: Run<unknown>, reason: StopReason, detail?: string): void {
    if (run.stopped) return;
    run.stopped = reason;
    run.stopDetail = detail;
    this.logger.warn({ reason, waiting: run.waiting }, 'run stopped; parts not yet sent are returned unsent');
    const keep: Item<unknown>[] = [];
    const drop: Item<unknown>[] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const item = this.queue[i] as Item<unknown>;
      (item.run === run ? drop : keep).push(item);
    }
    this.queue.length = 0;
    this.queue.push(...keep);
    this.queueHead = 0;
    for (let i = this.retries.length - 1; i >= 0; i--) {
      const item = this.retries[i] as Item<unknown>;
      if (item.run !== run) continue;
      this.retries.splice(i, 1);
      drop.push(item);
    }
    for (const item of drop) this.settleWaiting(item, this.unsent(run, item.attempts));
    this.notify(run);
  }

  /** The outcome of a part a stopped run did not send. */
  private unsent(run: Run<unknown>, attempts: number): PartOutcome {
    const reason = run.stopped ?? 'aborted';
    return run.stopDetail === undefined
      ? { outcome: 'unsent', ok: false, ambiguous: false, reason, attempts }
      : { outcome: 'unsent', ok: false, ambiguous: false, reason, attempts, detail: run.stopDetail };
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    const timeoutMs = this.options.noBindTimeoutMs ?? this.source.faultPolicy?.noBindTimeoutMs ?? 60_000;
    this.watchdog = setInterval(
      () => {
        const bound = this.source.sessions.some((session) => session.isBound);
        if (bound || this.waiting === 0) {
          this.unboundSince = null;
          return;
        }
        const now = (this.options.clock ?? performance.now.bind(performance))();
        this.unboundSince ??= now;
        if (now - this.unboundSince < timeoutMs) return;
        this.logger.error({ timeoutMs, waiting: this.waiting }, 'no bound session; returning waiting parts unsent');
        const detail = `no bind to ${this.options.carrier} for ${Math.round(now - this.unboundSince)} ms (limit ${timeoutMs} ms)`;
        for (const run of this.runs) this.stopRun(run, 'no-bind', detail);
      },
      Math.max(50, Math.min(1_000, timeoutMs / 4)),
    );
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.unboundSince = null;
  }

  /** A waiting item (not in flight) leaves without being sent. */
  private settleWaiting(item: Item<unknown>, outcome: PartOutcome): void {
    item.run.waiting -= 1;
    this.settle(item, outcome);
  }

  private settle(item: Item<unknown>, outcome: PartOutcome): void {
    const run = item.run;
    run.unsettled -= 1;
    this.count(run, outcome);
    this.callHook(run, item.part, outcome);
    this.notify(run);
  }

  /** A part of a batch that was never queued (run stopped during beforeSend). */
  private settleNew<R>(run: Run<R>, part: SubmitPart<R>, outcome: PartOutcome): void {
    run.summary.parts += 1;
    this.count(run as Run<unknown>, outcome);
    this.callHook(run as Run<unknown>, part as SubmitPart<unknown>, outcome);
  }

  private count(run: Run<unknown>, outcome: PartOutcome): void {
    switch (outcome.outcome) {
      case 'submitted':
        run.summary.submitted += 1;
        break;
      case 'failed':
        run.summary.failed += 1;
        break;
      case 'ambiguous':
        run.summary.ambiguous += 1;
        break;
      case 'unsent':
        run.summary.unsent += 1;
        break;
    }
  }

  private callHook(run: Run<unknown>, part: SubmitPart<unknown>, outcome: PartOutcome): void {
    try {
      const result = run.hooks.onResult(part, outcome);
      if (result && typeof (result as Promise<void>).then === 'function') {
        const pending = (result as Promise<void>).then(
          () => {
            run.pendingHooks.delete(pending);
          },
          (error: unknown) => {
            run.pendingHooks.delete(pending);
            this.recordHookError(run, error);
          },
        );
        run.pendingHooks.add(pending);
      }
    } catch (error) {
      this.recordHookError(run, error);
    }
  }

  private recordHookError(run: Run<unknown>, error: unknown): void {
    this.logger.error({ err: error }, 'onResult hook failed');
    if (run.hookError === undefined) run.hookError = error;
  }
}
