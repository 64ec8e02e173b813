import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import { BindRefusedError, DEFAULT_MAX_UNACKED_DELIVERIES, type BindType, type LinkOptions } from './link-options.js';
import { encodeDeliverSmResp, encodeSubmitSm, toDeliverSm, type DeliverAck, type DeliverSm, type LateResponse, type SubmitResult, type SubmitSm } from './link-pdus.js';
import { newTransportCounters, type TransportCounters } from './transport-counters.js';
import { PduWindow } from './window.js';
import { corkUntil, INTERFACE_VERSION_34, MAX_SHORT_MESSAGE_OCTETS, STATUS, smpp, type SmppPdu, type SmppRawSession } from './wire.js';

type LinkState = 'new' | 'connecting' | 'binding' | 'bound' | 'unbinding' | 'closed';

interface PendingControl {
  command: string;
  deadline: number;
  resolve(pdu: SmppPdu): void;
  reject(error: Error): void;
}

interface PendingSubmit {
  sequence: number;
  settle(result: SubmitResult): void;
}

/** How long, and for how many PDUs, a timed-out submit's sequence number is remembered for a late response. */
export const LATE_RESPONSE_TTL_MS = 120_000;
export const LATE_RESPONSE_MAX = 10_000;

let linkCounter = 0;

interface LinkEvents {
  /** Once, when the connection is gone; every outstanding submit has been answered or failed by then. */
  closed: [reason: string];
  /** A deliver_sm, not answered yet: `ack` sends deliver_sm_resp (once its receipt is durable). */
  deliver: [deliver: DeliverSm, ack: DeliverAck];
  /** A window slot freed or the socket drained: more can be submitted. */
  capacity: [];
  /** A submit_sm_resp for a submit already reported ambiguous (response-timeout). */
  'late-response': [late: LateResponse];
}

const AMBIGUOUS_LOST: SubmitResult = Object.freeze({ kind: 'ambiguous', reason: 'connection-lost' });
const UNSENT_NOT_BOUND: SubmitResult = Object.freeze({ kind: 'unsent', reason: 'not-bound' });
const UNSENT_WINDOW_FULL: SubmitResult = Object.freeze({ kind: 'unsent', reason: 'window-full' });
const UNSENT_NOT_WRITABLE: SubmitResult = Object.freeze({ kind: 'unsent', reason: 'not-writable' });

/**
 * One TCP connection and its bind, used once: after it closes a new link (and a new
 * `smpp.Session`) is made, because an old Session keeps stale parser state (issues #90, #248).
 * Owns the window map of outstanding PDUs with their timeouts, answers what the SMSC asks
 * (deliver_sm, enquire_link, unbind) and reports each submit's result. It never retries.
 */
export class SmppLink extends EventEmitter<LinkEvents> {
  /** Process-unique: sequence numbers start over on every connection. */
  readonly connection = ++linkCounter;
  private state: LinkState = 'new';
  private raw: SmppRawSession | null = null;
  private readonly submits: PduWindow<PendingSubmit>;
  private readonly controls = new Map<number, PendingControl>();
  /** Sequence numbers of submits reported ambiguous on timeout → when to forget them (insertion order = expiry order). */
  private readonly timedOut = new Map<number, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  private congested = false;
  /** deliver_sm not answered yet; at maxUnacked the link stops reading (readPaused). */
  private unacked = 0;
  private readPaused = false;
  private readonly maxUnacked: number;
  private readonly counters: TransportCounters;
  private readonly now: () => number;
  private rebindRequested = false;
  /** A submit timed out and the enquire_link probe has not been answered yet: no submits meanwhile. */
  private suspect = false;
  /**
   * The probe was answered but no submit since: one submit at a time until one is answered. An
   * SMSC whose front end answers enquire_link while its core is stuck then costs one PDU per
   * response timeout, not a window.
   */
  private probation = false;
  private closeReason: string | null = null;
  private openSettle: { resolve(): void; reject(error: Error): void } | null = null;
  private readonly closedPromise: Promise<string>;
  private resolveClosed!: (reason: string) => void;
  private readonly logger: Logger;

  constructor(
    private readonly options: LinkOptions,
    logger: Logger,
  ) {
    super();
    this.submits = new PduWindow(options.window, options.timeouts.submitResponseMs);
    this.maxUnacked = Math.max(1, options.maxUnackedDeliveries ?? DEFAULT_MAX_UNACKED_DELIVERIES);
    this.counters = options.counters ?? newTransportCounters();
    this.now = options.clock ?? (() => performance.now());
    this.logger = logger.child({ bindType: options.bindType });
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get bindType(): BindType {
    return this.options.bindType;
  }

  get isBound(): boolean {
    return this.state === 'bound';
  }

  /** Bound, able to submit, window not full, socket not backed up and being read (responses must come back). */
  get hasCapacity(): boolean {
    return (
      this.state === 'bound' &&
      this.options.bindType !== 'receiver' &&
      !this.rebindRequested &&
      !this.suspect &&
      !this.congested &&
      !this.readPaused &&
      (this.probation ? this.submits.size === 0 : !this.submits.isFull)
    );
  }

  /** A submit timed out and the link waits for its enquire_link probe before taking more. */
  get isSuspect(): boolean {
    return this.suspect;
  }

  /** deliver_sm received and not answered yet (their receipts are on their way to PostgreSQL). */
  get unackedDeliveries(): number {
    return this.unacked;
  }

  /** True while the link does not read its socket because too many deliver_sm wait for their ack. */
  get isReadPaused(): boolean {
    return this.readPaused;
  }

  get outstanding(): number {
    return this.submits.size;
  }

  /** Resolves with the reason once the connection is gone. */
  get closed(): Promise<string> {
    return this.closedPromise;
  }

  /** Connects and binds; rejects with BindRefusedError or a network/timeout error (the link is then closed). */
  open(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error('an SmppLink is used once'));
    this.state = 'connecting';
    return new Promise<void>((resolve, reject) => {
      this.openSettle = { resolve, reject };
      const { host, port } = this.options.endpoint;
      let raw: SmppRawSession;
      try {
        raw = new smpp.Session({ host, port });
      } catch (error) {
        this.finalize(`connect failed: ${(error as Error).message}`);
        return;
      }
      this.raw = raw;
      raw.on('error', (error: Error) => this.onRawError(error));
      raw.on('close', () => this.finalize(this.closeReason ?? 'connection closed by peer'));
      raw.on('connect', () => this.onConnect());
      raw.on('pdu', (pdu: SmppPdu) => this.onPdu(pdu));
      raw.socket.setNoDelay(true);
      raw.socket.setKeepAlive(true, 30_000);
      this.later(this.options.timeouts.connectMs, () => {
        if (this.state === 'connecting') this.destroy(`connect timeout after ${this.options.timeouts.connectMs} ms`);
      });
    });
  }

  /**
   * Sends one submit_sm. Never rejects: the result says whether the SMSC accepted it, refused it,
   * may have got it (ambiguous) or never saw it (unsent).
   */
  submit(message: SubmitSm): Promise<SubmitResult> {
    if (this.state !== 'bound' || this.rebindRequested || this.suspect || this.options.bindType === 'receiver') return Promise.resolve(UNSENT_NOT_BOUND);
    if (this.submits.isFull || (this.probation && this.submits.size > 0)) return Promise.resolve(UNSENT_WINDOW_FULL);
    if (message.shortMessage.length > MAX_SHORT_MESSAGE_OCTETS) {
      return Promise.resolve({ kind: 'unsent', reason: 'invalid', detail: `short_message of ${message.shortMessage.length} octets exceeds ${MAX_SHORT_MESSAGE_OCTETS}` });
    }
    const raw = this.raw as SmppRawSession;
    const socket = raw.socket;
    if (!socket.writable) return Promise.resolve(UNSENT_NOT_WRITABLE);
    // The sequence number the package's send() would assign (it numbers every request it sends).
    const sequence = raw.sequence === 0x7fffffff ? 1 : raw.sequence + 1;
    let buffer: Buffer;
    try {
      buffer = encodeSubmitSm(message, sequence);
    } catch (error) {
      // A field out of range: nothing was written.
      return Promise.resolve({ kind: 'unsent', reason: 'invalid', detail: (error as Error).message });
    }
    raw.sequence = sequence;
    // Written straight to the socket (responses are matched by our window, not by the package's
    // callbacks); corked until this turn of the event loop ends, so the submits of one turn go out in one write.
    corkUntil(socket, 'turn');
    socket.write(buffer);
    this.watchBackpressure(raw);
    return new Promise<SubmitResult>((resolve) => {
      this.submits.add(sequence, { sequence, settle: resolve }, this.now());
    });
  }

  /**
   * Graceful close: stop taking submits, let outstanding ones be answered (up to drainMs), unbind,
   * wait for unbind_resp and the socket close; whatever remains outstanding is reported ambiguous.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state !== 'bound') {
      this.destroy('closed before bound');
      await this.closedPromise;
      return;
    }
    this.state = 'unbinding';
    const { drainMs, unbindMs } = this.options.timeouts;
    if (this.submits.size > 0) {
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          this.off('capacity', check);
          this.off('closed', finish);
          resolve();
        };
        const check = (): void => {
          if (this.submits.size === 0) finish();
        };
        const timer = this.later(drainMs, finish);
        this.on('capacity', check);
        this.once('closed', finish);
      });
    }
    if (this.isClosed()) return;
    try {
      await this.control(new smpp.PDU('unbind'), unbindMs);
    } catch (error) {
      this.logger.debug({ err: error }, 'unbind not answered');
    }
    if (this.isClosed()) return;
    this.closeReason ??= 'unbound by us';
    this.raw?.close();
    this.later(unbindMs, () => this.destroy('socket did not close after unbind'));
    await this.closedPromise;
  }

  /** Drops the connection now; outstanding submits are reported ambiguous. */
  destroy(reason: string): void {
    if (this.state === 'closed') return;
    this.closeReason ??= reason;
    if (this.raw) this.raw.destroy();
    else this.finalize(reason);
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private onConnect(): void {
    if (this.state !== 'connecting') return;
    this.state = 'binding';
    const { systemId, password } = this.options.endpoint;
    const bind = new smpp.PDU(`bind_${this.options.bindType}`, {
      system_id: systemId,
      password,
      system_type: this.options.systemType,
      interface_version: INTERFACE_VERSION_34,
      addr_ton: 0,
      addr_npi: 0,
      address_range: '',
    });
    this.startSweeping();
    this.control(bind, this.options.timeouts.bindMs).then(
      (response) => {
        if (this.state !== 'binding') return;
        if (response.command_status !== STATUS.ESME_ROK) {
          const error = new BindRefusedError(response.command_status);
          this.settleOpen(error);
          this.destroy(error.message);
          return;
        }
        this.state = 'bound';
        this.startEnquireLink();
        this.settleOpen(null);
      },
      (error: Error) => {
        this.settleOpen(error);
        this.destroy(`bind failed: ${error.message}`);
      },
    );
  }

  private onPdu(pdu: SmppPdu): void {
    // Runs inside the package's reader: an exception here would escape to the socket's
    // 'readable' handler and crash the process.
    try {
      if (pdu.isResponse()) this.onResponse(pdu);
      else this.onRequest(pdu);
    } catch (error) {
      this.logger.error({ err: error, command: pdu.command }, 'failed to handle an incoming PDU');
    }
  }

  private onResponse(pdu: SmppPdu): void {
    const pending = this.submits.take(pdu.sequence_number);
    if (pending) {
      this.probation = false;
      const status = pdu.command_status;
      if (status === STATUS.ESME_ROK) {
        this.counters.submitted += 1;
        pending.settle({ kind: 'ok', messageId: typeof pdu.message_id === 'string' ? pdu.message_id : '' });
      } else {
        if (status === STATUS.ESME_RINVBNDSTS) this.requestRebind();
        if (status === STATUS.ESME_RTHROTTLED) this.counters.throttled += 1;
        else this.counters.refused += 1;
        pending.settle({ kind: 'error', status });
      }
      this.afterSubmitSettled();
      return;
    }
    const control = this.controls.get(pdu.sequence_number);
    if (control) {
      this.controls.delete(pdu.sequence_number);
      control.resolve(pdu);
      return;
    }
    if (pdu.command === 'submit_sm_resp' && this.timedOut.delete(pdu.sequence_number)) {
      // Slow, not stuck: the full window again.
      this.probation = false;
      const status = pdu.command_status;
      const late: LateResponse = {
        connection: this.connection,
        sequence: pdu.sequence_number,
        messageId: status === STATUS.ESME_ROK && typeof pdu.message_id === 'string' ? pdu.message_id : null,
        status,
      };
      this.logger.info({ sequence: late.sequence, status }, 'submit_sm_resp after its timeout');
      this.emit('late-response', late);
      return;
    }
    this.logger.debug({ command: pdu.command, sequence: pdu.sequence_number }, 'response to nothing outstanding');
  }

  private onRequest(pdu: SmppPdu): void {
    const raw = this.raw;
    if (!raw) return;
    switch (pdu.command) {
      case 'deliver_sm': {
        // Answered only once the receipt is durable (DESIGN.md, Delivery semantics): a receipt
        // acknowledged but still in memory is lost to a kill -9, whereas one not acknowledged is
        // delivered again by the SMSC, and a repeated receipt is a no-op.
        let answered = false;
        const ack: DeliverAck = (status = STATUS.ESME_ROK) => {
          if (answered) return;
          answered = true;
          this.unacked -= 1;
          if (this.raw === raw && (this.state === 'bound' || this.state === 'unbinding')) {
            try {
              // Encoded by hand and corked like submits: one deliver_sm_resp per receipt.
              const socket = raw.socket;
              if (socket.writable) {
                const response = encodeDeliverSmResp(pdu.sequence_number, status);
                corkUntil(socket, 'turn');
                socket.write(response);
              }
            } catch (error) {
              this.logger.warn({ err: error }, 'deliver_sm_resp not sent');
            }
          }
          if (this.readPaused && this.unacked <= this.maxUnacked / 2) this.resumeReading();
        };
        this.unacked += 1;
        if (this.unacked >= this.maxUnacked) this.pauseReading();
        let deliver: DeliverSm;
        try {
          deliver = toDeliverSm(pdu);
        } catch (error) {
          ack();
          throw error;
        }
        try {
          // Nobody listening: nothing will store it, so answer now rather than never.
          if (!this.emit('deliver', deliver, ack)) ack();
        } catch (error) {
          // A listener failed before taking the receipt: answer, as before, rather than have the
          // SMSC send a PDU that fails every time for ever.
          ack();
          throw error;
        }
        return;
      }
      case 'enquire_link':
        raw.send(pdu.response());
        return;
      case 'unbind':
        raw.send(pdu.response());
        this.closeReason ??= 'unbound by the SMSC';
        if (this.state === 'bound') this.state = 'unbinding';
        raw.close();
        this.later(this.options.timeouts.unbindMs, () => this.destroy('socket did not close after the SMSC unbound'));
        return;
      case 'alert_notification':
      case 'outbind':
        return;
      default: {
        // A request we do not serve: ESME_RINVCMDID (generic_nack for an unknown command id).
        const hasResponse = pdu.command === 'unknown' || Boolean(smpp.commands[`${pdu.command}_resp`]);
        if (hasResponse) raw.send(pdu.response({ command_status: STATUS.ESME_RINVCMDID }));
        this.logger.warn({ command: pdu.command, commandId: pdu.command_id }, 'unexpected request from the SMSC');
      }
    }
  }

  private onRawError(error: Error): void {
    // Socket errors, and parser errors (oversized or malformed PDU) after which the package's
    // reader is frozen for good: either way this connection is finished.
    const reason = `${error.message}`;
    if (this.state === 'bound' || this.state === 'unbinding') this.logger.warn({ err: error }, 'SMPP connection error; dropping it');
    else this.logger.debug({ err: error }, 'SMPP connection error');
    this.destroy(reason);
  }

  /** `label` names it in the pending map (the sweep drops the connection for an unanswered periodic enquire_link). */
  private control(pdu: SmppPdu, timeoutMs: number, label: string = pdu.command): Promise<SmppPdu> {
    const raw = this.raw;
    if (!raw) return Promise.reject(new Error('not connected'));
    return new Promise<SmppPdu>((resolve, reject) => {
      let sent: boolean;
      try {
        sent = raw.send(pdu);
      } catch (error) {
        reject(error as Error);
        return;
      }
      if (!sent) {
        reject(new Error(`${pdu.command} not sent: socket not writable`));
        return;
      }
      this.controls.set(pdu.sequence_number, { command: label, deadline: this.now() + timeoutMs, resolve, reject });
    });
  }

  private startSweeping(): void {
    const { submitResponseMs, enquireLinkResponseMs, probeResponseMs, bindMs } = this.options.timeouts;
    const period = Math.max(20, Math.min(500, submitResponseMs / 10, enquireLinkResponseMs / 10, probeResponseMs / 10, bindMs / 10));
    this.sweepTimer = setInterval(() => this.sweep(), period);
  }

  private sweep(): void {
    const now = this.now();
    const expired = this.submits.takeExpired(now);
    if (expired.length > 0) {
      this.logger.warn({ count: expired.length, timeoutMs: this.options.timeouts.submitResponseMs }, 'submit_sm_resp timed out; reporting ambiguous');
      this.counters.ambiguous += expired.length;
      for (const pending of expired) {
        this.rememberTimedOut(pending.sequence, now);
        pending.settle({ kind: 'ambiguous', reason: 'response-timeout', connection: this.connection, sequence: pending.sequence });
      }
      this.probe();
      this.afterSubmitSettled();
    }
    for (const [sequence, forgetAt] of this.timedOut) {
      if (forgetAt > now) break;
      this.timedOut.delete(sequence);
    }
    for (const [sequence, control] of this.controls) {
      if (control.deadline > now) continue;
      this.controls.delete(sequence);
      control.reject(new Error(`${control.command} not answered in time`));
      // While we do not read (receipts waiting for PostgreSQL) the answer may well be in our buffer.
      if (control.command === 'enquire_link' && !this.readPaused) this.destroy('enquire_link not answered in time');
    }
  }

  /**
   * The first response timeout makes the connection suspect: offering its freed slots again would
   * only feed a dead SMSC (each PDU then ending ambiguous). It takes nothing until an
   * enquire_link, sent at once, is answered; unanswered, the connection is dropped (its
   * outstanding PDUs become ambiguous) and the session binds again.
   */
  private probe(): void {
    if (this.suspect || this.state !== 'bound') return;
    this.suspect = true;
    const timeoutMs = this.options.timeouts.probeResponseMs;
    this.logger.warn({ timeoutMs }, 'submit response timed out; no more submits on this connection until it answers an enquire_link');
    this.control(new smpp.PDU('enquire_link'), timeoutMs, 'enquire_link probe').then(
      () => {
        if (this.state !== 'bound' || !this.suspect) return;
        this.suspect = false;
        this.probation = true;
        this.logger.info('enquire_link answered after a submit response timeout; submitting again, one at a time until a submit is answered');
        this.emit('capacity');
      },
      (error: Error) => {
        // While reading is paused (receipts waiting for PostgreSQL) the answer may be in our buffer:
        // no capacity is offered until reading resumes anyway; the next timeout then probes again.
        if (this.readPaused && this.state === 'bound') {
          this.suspect = false;
          return;
        }
        this.destroy(`enquire_link probe not answered within ${timeoutMs} ms after a submit response timeout (${error.message})`);
      },
    );
  }

  private rememberTimedOut(sequence: number, now: number): void {
    this.timedOut.set(sequence, now + LATE_RESPONSE_TTL_MS);
    if (this.timedOut.size > LATE_RESPONSE_MAX) {
      const oldest = this.timedOut.keys().next();
      if (!oldest.done) this.timedOut.delete(oldest.value);
    }
  }

  private pauseReading(): void {
    if (this.readPaused || !this.raw) return;
    this.readPaused = true;
    this.logger.warn({ unacked: this.unacked }, 'receipts not yet durable: not reading from the SMSC until they are');
    this.raw.pause();
  }

  private resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.logger.info({ unacked: this.unacked }, 'reading from the SMSC again');
    const raw = this.raw;
    // resume() parses what is buffered at once: not from inside an ack (possibly in a PDU handler).
    if (raw) setImmediate(() => {
      if (!this.readPaused && this.state !== 'closed') raw.resume();
    });
    this.emit('capacity');
  }

  private startEnquireLink(): void {
    this.enquireTimer = setInterval(() => {
      if (this.state !== 'bound' || this.readPaused) return;
      for (const control of this.controls.values()) if (control.command === 'enquire_link') return;
      this.control(new smpp.PDU('enquire_link'), this.options.timeouts.enquireLinkResponseMs).catch((error: Error) => {
        this.logger.debug({ err: error }, 'enquire_link failed');
      });
    }, this.options.timeouts.enquireLinkIntervalMs);
  }

  private watchBackpressure(raw: SmppRawSession): void {
    // The package's send() ignores backpressure: stop offering capacity until the socket drains.
    if (this.congested || raw.socket.writableLength <= this.options.writeHighWaterBytes) return;
    this.congested = true;
    raw.socket.once('drain', () => {
      this.congested = false;
      this.emit('capacity');
    });
  }

  private requestRebind(): void {
    // ESME_RINVBNDSTS: the SMSC no longer considers us bound. Take no more submits, let the
    // ones in flight be answered, then drop the connection so the session binds again.
    if (this.rebindRequested) return;
    this.rebindRequested = true;
    this.logger.warn('SMSC answered ESME_RINVBNDSTS; rebinding');
    this.afterSubmitSettled();
  }

  private afterSubmitSettled(): void {
    if (this.rebindRequested && this.submits.size === 0) {
      this.destroy('SMSC reported the bind as lost (ESME_RINVBNDSTS)');
      return;
    }
    // After the result's own promise callbacks (queued first): whoever reacts to the result
    // (slowing down on 0x58, stopping a run) does so before the freed slot is refilled.
    queueMicrotask(() => {
      try {
        this.emit('capacity');
      } catch (error) {
        this.logger.error({ err: error }, 'capacity listener failed');
      }
    });
  }

  private settleOpen(error: Error | null): void {
    const settle = this.openSettle;
    this.openSettle = null;
    if (!settle) return;
    if (error) settle.reject(error);
    else settle.resolve();
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private finalize(reason: string): void {
    if (this.state === 'closed') return;
    const wasBound = this.state === 'bound' || this.state === 'unbinding';
    this.state = 'closed';
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const lost = this.submits.takeAll();
    if (lost.length > 0) this.logger.warn({ count: lost.length, reason }, 'connection lost with submits outstanding; reporting them ambiguous');
    this.counters.ambiguous += lost.length;
    for (const pending of lost) pending.settle(AMBIGUOUS_LOST);
    this.timedOut.clear();
    const controls = [...this.controls.values()];
    this.controls.clear();
    for (const control of controls) control.reject(new Error(`connection closed: ${reason}`));
    this.settleOpen(new Error(`connection closed: ${reason}`));
    if (wasBound) this.logger.info({ reason }, 'SMPP connection closed');
    this.resolveClosed(reason);
    this.emit('closed', reason);
  }
}
