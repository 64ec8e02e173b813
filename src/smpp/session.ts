import { EventEmitter } from 'node:events';
import type { BindMode } from '../domain/carrier.js';
import type { Logger } from '../logger.js';
import { backoffDelay } from './backoff.js';
import { SmppLink } from './link.js';
import { BindRefusedError, DEFAULT_TIMEOUTS, type BindType, type LinkTimeouts, type SmppEndpoint } from './link-options.js';
import type { DeliverAck, DeliverSm, LateResponse, SubmitResult, SubmitSm } from './link-pdus.js';
import type { TransportCounters } from './transport-counters.js';
import { BIND_REFUSED_STATUSES, describeStatus } from './wire.js';

export type { DeliverAck, DeliverSm, LateResponse, SmppEndpoint, SubmitResult, SubmitSm, LinkTimeouts };

export interface ReconnectPolicy {
  /** First delay after a drop or a failed connect. */
  baseMs: number;
  maxMs: number;
  /** After ESME_RBINDFAIL / RINVPASWD / RINVSYSID: retrying soon only hammers the SMSC. */
  bindRefusedBaseMs: number;
  bindRefusedMaxMs: number;
  /**
   * How long a bind must have stayed up before its loss counts as a fresh start (back-off from
   * baseMs again). A bind that drops sooner (an SMSC that accepts then cuts us off) keeps growing
   * the back-off, so it is not hammered every baseMs for ever.
   */
  stableAfterMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  baseMs: 500,
  maxMs: 30_000,
  bindRefusedBaseMs: 60_000,
  bindRefusedMaxMs: 600_000,
  stableAfterMs: 30_000,
};

export interface SessionOptions {
  carrier: string;
  endpoint: SmppEndpoint;
  systemType?: string;
  /** One transceiver, or a transmitter (submits) plus a receiver (receipts). */
  bindMode?: BindMode;
  /** Most submit_sm outstanding at once. */
  window: number;
  /** Names the session in logs (e.g. the bind-pool slot). */
  label?: string;
  timeouts?: Partial<LinkTimeouts>;
  reconnect?: Partial<ReconnectPolicy>;
  /** Socket bytes queued above which the session reports no capacity until drained. */
  writeHighWaterBytes?: number;
  /** deliver_sm waiting for their ack at which a connection stops reading (LinkOptions). */
  maxUnackedDeliveries?: number;
  /** Bumped for every submit result on this session's connections. */
  counters?: TransportCounters;
  /** The links' clock for their deadlines (LinkOptions.clock). */
  clock?: () => number;
  random?: () => number;
}

/** Raised (as the 'alert' event) when an SMSC keeps refusing our bind: someone must look at credentials or bind counts. */
export interface SessionAlert {
  carrier: string;
  session: string;
  bindType: BindType;
  status: number;
  description: string;
  attempts: number;
  retryInMs: number;
}

export type SessionState = 'idle' | 'connecting' | 'bound' | 'closing' | 'closed';

interface SessionEvents {
  /** The submitting bind is up. */
  bound: [];
  /** The submitting bind went down; it reconnects by itself unless the session is closing. */
  unbound: [reason: string];
  /** A deliver_sm (receipt or MO), not answered yet: `ack` answers it once it is durable. */
  deliver: [deliver: DeliverSm, ack: DeliverAck];
  /** More can be submitted (a response came back, the socket drained, a bind came up). */
  capacity: [];
  alert: [alert: SessionAlert];
  /** A submit_sm_resp for a submit already reported ambiguous (response-timeout); see the Submitter's header. */
  'late-response': [late: LateResponse];
  closed: [];
}

interface Slot {
  bindType: BindType;
  link: SmppLink | null;
}

let sessionCounter = 0;

/**
 * One logical bind to an SMSC: a transceiver, or a transmitter + receiver pair. It keeps itself
 * bound (new connection and new `smpp.Session` on every reconnect, back-off with jitter, long
 * back-off and an alert after bind refusals) until `close()`. It only sends PDUs and reports
 * results: throttling, windows across binds and retries belong to the Submitter.
 */
export class SmppSession extends EventEmitter<SessionEvents> {
  readonly id: string;
  private readonly slots: Slot[];
  private readonly timeouts: LinkTimeouts;
  private readonly reconnectPolicy: ReconnectPolicy;
  private readonly random: () => number;
  private readonly logger: Logger;
  private stateValue: SessionState = 'idle';
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly options: SessionOptions,
    logger: Logger,
  ) {
    super();
    if (!Number.isInteger(options.window) || options.window < 1) throw new RangeError(`window must be a positive integer, got ${options.window}`);
    this.id = options.label ?? `${options.carrier}#${++sessionCounter}`;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.reconnectPolicy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.random = options.random ?? Math.random;
    const bindTypes: BindType[] = (options.bindMode ?? 'transceiver') === 'transceiver' ? ['transceiver'] : ['transmitter', 'receiver'];
    this.slots = bindTypes.map((bindType) => ({ bindType, link: null }));
    this.logger = logger.child({
      component: 'smpp-session',
      carrier: options.carrier,
      session: this.id,
      smsc: `${options.endpoint.host}:${options.endpoint.port}`,
      systemId: options.endpoint.systemId,
    });
  }

  get carrier(): string {
    return this.options.carrier;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  /** The submitting bind is up (receipts may still be reconnecting in transmitter+receiver mode). */
  get isBound(): boolean {
    return this.submitLink()?.isBound ?? false;
  }

  /** Bound, window not full, socket not backed up. */
  get hasCapacity(): boolean {
    return this.stateValue === 'bound' && (this.submitLink()?.hasCapacity ?? false);
  }

  get window(): number {
    return this.options.window;
  }

  get outstanding(): number {
    return this.submitLink()?.outstanding ?? 0;
  }

  /** Starts connecting and keeps the bind up until close(). */
  start(): void {
    if (this.stateValue !== 'idle') return;
    this.stateValue = 'connecting';
    this.loops = this.slots.map((slot) => this.keepBound(slot));
  }

  /** Resolves when the submitting bind is up; rejects after `timeoutMs` or when the session closes. */
  waitUntilBound(timeoutMs: number): Promise<void> {
    if (this.isBound) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('bound', onBound);
        this.off('closed', onClosed);
      };
      const onBound = (): void => {
        cleanup();
        resolve();
      };
      const onClosed = (): void => {
        cleanup();
        reject(new Error(`session ${this.id} closed before binding`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`session ${this.id} not bound within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('bound', onBound);
      this.on('closed', onClosed);
    });
  }

  /** One submit_sm on the submitting bind; never rejects (see SubmitResult). */
  submit(message: SubmitSm): Promise<SubmitResult> {
    const link = this.submitLink();
    if (!link || this.stateValue !== 'bound') return Promise.resolve({ kind: 'unsent', reason: 'not-bound' });
    return link.submit(message);
  }

  /** Drops the current connection(s) now and reconnects after the usual back-off. */
  reconnect(reason: string): void {
    for (const slot of this.slots) slot.link?.destroy(reason);
  }

  /** Graceful: lets outstanding submits be answered, unbinds every connection, stops reconnecting. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    if (this.stateValue === 'closing') {
      await Promise.all(this.loops);
      return;
    }
    this.stateValue = 'closing';
    this.abort.abort();
    await Promise.all(this.slots.map((slot) => slot.link?.close()));
    await Promise.all(this.loops);
    this.markClosed();
  }

  /** Immediate: drops every connection (outstanding submits become ambiguous) and stops reconnecting. */
  async destroy(reason: string): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closing';
    this.abort.abort();
    for (const slot of this.slots) slot.link?.destroy(reason);
    await Promise.all(this.loops);
    this.markClosed();
  }

  private markClosed(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.emit('closed');
  }

  private submitLink(): SmppLink | null {
    return (this.slots[0] as Slot).link;
  }

  private isSubmitSlot(slot: Slot): boolean {
    return slot === this.slots[0];
  }

  private async keepBound(slot: Slot): Promise<void> {
    // Both reset only once a bind has stayed up for stableAfterMs, not as soon as one succeeds.
    let failures = 0;
    let refusals = 0;
    while (!this.abort.signal.aborted) {
      const link = new SmppLink(
        {
          carrier: this.options.carrier,
          endpoint: this.options.endpoint,
          systemType: this.options.systemType ?? '',
          bindType: slot.bindType,
          window: this.options.window,
          timeouts: this.timeouts,
          writeHighWaterBytes: this.options.writeHighWaterBytes ?? 256 * 1024,
          ...(this.options.maxUnackedDeliveries === undefined ? {} : { maxUnackedDeliveries: this.options.maxUnackedDeliveries }),
          ...(this.options.counters === undefined ? {} : { counters: this.options.counters }),
          ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
        },
        this.logger,
      );
      link.on('deliver', (deliver, ack) => {
        // Nobody listening: nothing will store it, so answer now rather than never.
        if (this.listenerCount('deliver') === 0) {
          ack();
          return;
        }
        try {
          this.emit('deliver', deliver, ack);
        } catch (error) {
          // Answered as before rather than have the SMSC resend a PDU that fails every time.
          ack();
          this.logger.error({ err: error, event: 'deliver' }, 'session event listener failed');
        }
      });
      if (this.isSubmitSlot(slot)) {
        link.on('capacity', () => this.emitSafely('capacity'));
        link.on('late-response', (late) => this.emitSafely('late-response', late));
      }
      slot.link = link;
      let delay: number;
      try {
        await link.open();
        const boundAt = performance.now();
        this.logger.info({ bindType: slot.bindType }, 'bound');
        if (this.isSubmitSlot(slot)) {
          if (this.stateValue === 'connecting') this.stateValue = 'bound';
          this.emitSafely('bound');
          this.emitSafely('capacity');
        }
        if (this.abort.signal.aborted) link.destroy('session closing');
        const reason = await link.closed;
        if (this.isSubmitSlot(slot)) {
          if (this.stateValue === 'bound') this.stateValue = 'connecting';
          this.emitSafely('unbound', reason);
        }
        if (this.abort.signal.aborted) break;
        const upMs = performance.now() - boundAt;
        if (upMs >= this.reconnectPolicy.stableAfterMs) {
          failures = 0;
          refusals = 0;
        }
        delay = backoffDelay(failures, this.reconnectPolicy, this.random);
        failures += 1;
        this.logger.warn({ bindType: slot.bindType, reason, upMs: Math.round(upMs), attempts: failures, retryInMs: delay }, 'bind lost; reconnecting');
      } catch (error) {
        await link.closed;
        if (this.abort.signal.aborted) break;
        if (error instanceof BindRefusedError && BIND_REFUSED_STATUSES.has(error.status)) {
          delay = backoffDelay(refusals, { baseMs: this.reconnectPolicy.bindRefusedBaseMs, maxMs: this.reconnectPolicy.bindRefusedMaxMs }, this.random);
          refusals += 1;
          const alert: SessionAlert = {
            carrier: this.options.carrier,
            session: this.id,
            bindType: slot.bindType,
            status: error.status,
            description: describeStatus(error.status),
            attempts: refusals,
            retryInMs: delay,
          };
          this.logger.error(alert, 'SMSC refused the bind; backing off');
          this.emitSafely('alert', alert);
        } else {
          delay = backoffDelay(failures, this.reconnectPolicy, this.random);
          failures += 1;
          this.logger.warn({ bindType: slot.bindType, err: error, attempts: failures, retryInMs: delay }, 'cannot bind; retrying');
        }
      }
      await sleep(delay, this.abort.signal);
    }
  }

  /** A listener's exception must not break the reconnect loop nor the package's reader. */
  private emitSafely<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SessionEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.logger.error({ err: error, event }, 'session event listener failed');
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
