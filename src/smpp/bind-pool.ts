import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { BindEndpoint, CarrierConfig } from '../config.js';
import type { CarrierId, MessageIdFormat } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';
import { normalizeMsisdn } from '../domain/msisdn.js';
import { isDeliveryReceipt, parseReceipt } from '../domain/receipt.js';
import type { Logger } from '../logger.js';
import { withinMs } from '../within.js';
import type { CarrierFaultPolicy } from './submitter-types.js';
import { newTransportCounters, type TransportCounters } from './transport-counters.js';
import { SmppSession, type DeliverAck, type DeliverSm, type LateResponse, type SessionAlert, type SessionOptions } from './session.js';

/** A delivery receipt as the rest of Loa sees it, whatever the carrier wrote. */
export interface CarrierReceipt {
  carrier: CarrierId;
  /** Normalised per the carrier's receipt id format: equal to the submit outcome's normalised messageId. */
  messageId: string;
  state: MessageState;
  /** The carrier's error code, null when none. */
  error: string | null;
  doneAt: Date | null;
  /** An intermediate notification (esm_class 0x20): not final. */
  intermediate: boolean;
  /** The receipt text as received (Latin-1), for audits and for what the parser does not read. */
  raw: string;
  /**
   * The handset: a receipt's source_addr is the original message's destination (SMPP 3.4
   * Appendix B), normalised like messages.msisdn; null when it is not a Vietnamese number. Parked
   * with the receipt, it resolves an `ambiguous` message whose SMSC id was never stored.
   */
  msisdn?: string | null;
}

/**
 * Where receipts go. deliver_sm_resp is sent when the promise a method returns resolves, so it
 * must resolve only once the receipt is durable (a method that returns nothing: at once). A
 * rejected promise leaves the deliver_sm unanswered: the SMSC delivers it again.
 */
export interface ReceiptSink {
  accept(receipt: CarrierReceipt): void | Promise<void>;
  /**
   * A deliver_sm marked as a receipt that could not be read (no message id, unknown state, …).
   * Once answered the SMSC will not send it again: keep it for an audit. `raw` is the
   * text as received (Latin-1) with C0 control characters other than \t \n \r removed.
   */
  unreadable(receipt: { carrier: CarrierId; raw: string; reason: string; receivedAt: Date }): void | Promise<void>;
}

export interface BindPoolOptions {
  carrier: CarrierConfig;
  /** A client without a keyPrefix; the pool's keys are `${prefix}:bind:${carrier}:${slot}`. */
  redis: Redis;
  prefix: string;
  receiptSink: ReceiptSink;
  logger: Logger;
  /** Lease time-to-live; a dead process's binds are taken over after it. */
  leaseMs?: number;
  /** Most binds this process holds (default: every allowed bind it can get). */
  maxLocalBinds?: number;
  /** Identifies this process in the lease values. */
  owner?: string;
  /** How long the carrier may fail before its runs stop (read by the Submitter over this pool). */
  faultPolicy?: CarrierFaultPolicy;
  /** Passed to every session. */
  session?: Pick<SessionOptions, 'timeouts' | 'reconnect' | 'writeHighWaterBytes' | 'maxUnackedDeliveries' | 'random' | 'clock'>;
}

interface Slot {
  index: number;
  key: string;
  endpoint: BindEndpoint;
  held: {
    session: SmppSession;
    /** Local monotonic time until which the lease is certainly ours (measured from before the Redis call). */
    validUntil: number;
    lastRenewAt: number;
    /** A renewal is in flight (each is bounded by the command timeout). */
    renewing: boolean;
  } | null;
}

interface BindPoolEvents {
  bound: [session: SmppSession];
  unbound: [session: SmppSession, reason: string];
  alert: [alert: SessionAlert];
  'lease-acquired': [slot: number];
  'lease-lost': [slot: number, reason: string];
  /** A deliver_sm that is not a receipt (mobile-originated). */
  mo: [deliver: DeliverSm];
  /** A submit_sm_resp for a submit already reported ambiguous on `session` (see the Submitter's header). */
  'late-response': [session: SmppSession, late: LateResponse];
}

// Renew and release only a lease we still own (compare, then act), atomically. A renewal finds
// the key gone only when Redis lost its data (FLUSHALL, a restart without persistence: we renew
// well before our own expiry): nobody holds the slot, so it is taken again rather than the bind
// and its window of submits dropped (issue 9, item 4).
const RENEW =
  "local v = redis.call('get', KEYS[1]) if v == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) elseif not v then return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') and 1 or 0 else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

// C0 controls but \t \n \r: PostgreSQL text cannot hold NUL (one in a batch fails the whole batch),
// and SMSCs pad receipt texts with NULs.
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;

/** `text` without the C0 control characters a database text column or a log line should not get. */
export function withoutControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '');
}

/** A receipt's source_addr as messages.msisdn writes it, or null. */
function handset(sourceAddr: string | undefined): string | null {
  if (!sourceAddr) return null;
  const normalized = normalizeMsisdn(sourceAddr);
  return normalized.ok ? normalized.msisdn : null;
}

/**
 * `command` or a TimeoutError after `ms`. The worker's Redis client retries for ever
 * (maxRetriesPerRequest: null, as BullMQ needs), so an unbounded lease command would hang start-up,
 * renewals and shutdown for as long as Redis is away. A command that lands after its timeout is
 * harmless: a renewal only extends a lease we treat as lost, and a late SET NX leaves a lease of
 * ours that nobody binds on and that expires after leaseMs.
 */
function redisWithinMs<T>(command: Promise<T>, ms: number, what: string): Promise<T> {
  return withinMs(command, ms, `${what}: no answer from Redis within ${Math.round(ms)} ms`);
}

/**
 * The binds of one carrier across every worker process. Each allowed bind (the sum of `count`
 * over the carrier's endpoints) is a slot with a Redis lease (`SET NX PX`, renewed by
 * compare-and-pexpire, released by compare-and-del); a process binds only on the slots it holds,
 * so all processes together never exceed the carrier's limit. A lease that cannot be renewed in
 * time closes its bind before it can expire, and a dead process's slots are taken over when
 * their leases expire. Receipts from every bind are parsed and handed to the ReceiptSink.
 */
export class BindPool extends EventEmitter<BindPoolEvents> {
  readonly owner: string;
  private readonly slots: Slot[];
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  private readonly safetyMs: number;
  private readonly logger: Logger;
  private readonly commandTimeoutMs: number;
  private readonly releaseTimeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  private acquiring: Promise<void> | null = null;
  private running = false;
  private sessionList: SmppSession[] = [];
  /** Everything this process's binds of the carrier did (for /metrics). */
  readonly counters: TransportCounters = newTransportCounters();

  constructor(private readonly options: BindPoolOptions) {
    super();
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 15_000;
    if (this.leaseMs < 300) throw new RangeError('leaseMs must be at least 300');
    this.renewEveryMs = this.leaseMs / 3;
    this.safetyMs = Math.max(100, this.leaseMs / 5);
    this.commandTimeoutMs = this.leaseMs / 3;
    // Releasing is a courtesy (the lease expires anyway): it must not hold up a shutdown.
    this.releaseTimeoutMs = Math.min(this.commandTimeoutMs, 2_000);
    const carrier = options.carrier;
    let index = 0;
    this.slots = carrier.binds.flatMap((endpoint) =>
      Array.from({ length: endpoint.count }, () => {
        const slot: Slot = { index, key: `${options.prefix}:bind:${carrier.id}:${index}`, endpoint, held: null };
        index += 1;
        return slot;
      }),
    );
    this.logger = options.logger.child({ component: 'bind-pool', carrier: carrier.id });
  }

  get carrierId(): CarrierId {
    return this.options.carrier.id;
  }

  get faultPolicy(): CarrierFaultPolicy | undefined {
    return this.options.faultPolicy;
  }

  /** Binds the carrier allows across all processes. */
  get allowedBinds(): number {
    return this.slots.length;
  }

  /** Segments/s each bind may send so that all allowed binds together stay within the carrier's TPS. */
  get tpsPerBind(): number {
    return this.options.carrier.tps / this.slots.length;
  }

  get messageIdFormats(): { submit: MessageIdFormat; receipt: MessageIdFormat } {
    return this.options.carrier.messageId;
  }

  /** Sessions on the slots this process holds (bound or reconnecting). */
  get sessions(): readonly SmppSession[] {
    return this.sessionList;
  }

  get boundSessions(): SmppSession[] {
    return this.sessionList.filter((session) => session.isBound);
  }

  get boundCount(): number {
    let count = 0;
    for (const session of this.sessionList) if (session.isBound) count += 1;
    return count;
  }

  /** Slots this process holds a lease on. */
  get heldCount(): number {
    return this.sessionList.length;
  }

  /**
   * Starts taking leases and binding; returns at once, without waiting for Redis (binds come up
   * in the background, see 'bound'): a worker whose Redis is away must still start and serve /health.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const every = Math.max(50, Math.min(this.renewEveryMs / 2, 1_000));
    this.timer = setInterval(() => this.beat(), every);
    this.beat();
  }

  /**
   * Unbinds every session gracefully, then releases their leases. Renewals go on until each
   * session is closed (a graceful close can take drainMs + 2 × unbindMs); a lease that cannot be
   * kept meanwhile closes its bind by force before it can expire. Every Redis call is bounded, so
   * this ends even with Redis gone.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // An acquisition in flight is not awaited: it releases what it gets once it sees running is false.
    try {
      await Promise.all(
        this.slots.map(async (slot) => {
          const held = slot.held;
          if (!held) return;
          await held.session.close();
          // Lost while closing: lose() destroyed the session and released the lease already.
          if (slot.held !== held) return;
          this.forgetSlot(slot);
          await this.release(slot);
        }),
      );
    } finally {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
  }

  private beat(): void {
    // Checked on every beat, not only after a renewal: a Redis call that hangs must not keep a bind alive.
    this.expireOverdue();
    for (const slot of this.slots) if (slot.held) void this.renew(slot);
    if (this.running) void this.acquireRound();
  }

  private acquireRound(): Promise<void> {
    this.acquiring ??= this.runAcquireRound()
      .catch((error: unknown) => this.logger.error({ err: error }, 'bind lease round failed'))
      .finally(() => {
        this.acquiring = null;
      });
    return this.acquiring;
  }

  private async runAcquireRound(): Promise<void> {
    const limit = this.options.maxLocalBinds ?? this.slots.length;
    for (const slot of this.slots) {
      if (!this.running || this.heldCount >= limit) break;
      if (!slot.held) await this.acquire(slot);
    }
  }

  private async renew(slot: Slot): Promise<void> {
    const held = slot.held;
    if (!held || held.renewing) return;
    const now = performance.now();
    if (now - held.lastRenewAt < this.renewEveryMs) return;
    held.renewing = true;
    try {
      const renewed = await redisWithinMs(this.options.redis.eval(RENEW, 1, slot.key, this.owner, String(this.leaseMs)), this.commandTimeoutMs, 'renew bind lease');
      if (slot.held !== held) return;
      if (Number(renewed) === 1) {
        held.validUntil = now + this.leaseMs;
        held.lastRenewAt = now;
      } else {
        this.lose(slot, 'lease taken by another process or expired');
        return;
      }
    } catch (error) {
      // Failed or timed out: tried again next beat; expireOverdue closes the bind before the lease can expire.
      this.logger.warn({ err: error, slot: slot.index }, 'cannot renew bind lease');
    } finally {
      held.renewing = false;
    }
    this.expireOverdue();
  }

  /** Closes every bind whose lease may expire soon: a taker must never bind while we still are. */
  private expireOverdue(): void {
    const now = performance.now();
    for (const slot of this.slots) {
      if (slot.held && now >= slot.held.validUntil - this.safetyMs) {
        this.lose(slot, 'lease could not be renewed in time');
        void this.release(slot);
      }
    }
  }

  private async acquire(slot: Slot): Promise<void> {
    const now = performance.now();
    let acquired: string | null;
    try {
      acquired = await redisWithinMs(this.options.redis.set(slot.key, this.owner, 'PX', this.leaseMs, 'NX'), this.commandTimeoutMs, 'take bind lease');
    } catch (error) {
      this.logger.warn({ err: error, slot: slot.index }, 'cannot take bind lease');
      return;
    }
    if (acquired !== 'OK') return;
    if (!this.running) {
      await this.release(slot);
      return;
    }
    const { carrier } = this.options;
    const session = new SmppSession(
      {
        carrier: carrier.id,
        endpoint: slot.endpoint,
        systemType: carrier.systemType,
        bindMode: carrier.bindMode,
        window: carrier.window,
        label: `${carrier.id}/${slot.index}`,
        ...this.options.session,
        counters: this.counters,
      },
      this.options.logger,
    );
    session.on('bound', () => this.emit('bound', session));
    session.on('unbound', (reason) => this.emit('unbound', session, reason));
    session.on('alert', (alert) => this.emit('alert', alert));
    session.on('late-response', (late) => this.emit('late-response', session, late));
    session.on('deliver', (deliver, ack) => this.onDeliver(deliver, ack));
    slot.held = { session, validUntil: now + this.leaseMs, lastRenewAt: now, renewing: false };
    this.sessionList = [...this.sessionList, session];
    this.logger.info({ slot: slot.index, owner: this.owner }, 'bind lease acquired');
    this.emit('lease-acquired', slot.index);
    session.start();
  }

  private lose(slot: Slot, reason: string): void {
    const held = slot.held;
    if (!held) return;
    this.logger.warn({ slot: slot.index, reason }, 'bind lease lost; closing the bind');
    this.forgetSlot(slot);
    // Immediately: another process may bind on this slot as soon as the lease is gone.
    void held.session.destroy(reason);
    this.emit('lease-lost', slot.index, reason);
  }

  private forgetSlot(slot: Slot): void {
    const held = slot.held;
    if (!held) return;
    slot.held = null;
    this.sessionList = this.sessionList.filter((session) => session !== held.session);
  }

  private async release(slot: Slot): Promise<void> {
    try {
      await redisWithinMs(this.options.redis.eval(RELEASE, 1, slot.key, this.owner), this.releaseTimeoutMs, 'release bind lease');
    } catch (error) {
      this.logger.warn({ err: error, slot: slot.index }, 'cannot release bind lease; it will expire');
    }
  }

  private onDeliver(deliver: DeliverSm, ack: DeliverAck): void {
    if (!isDeliveryReceipt(deliver.esmClass)) {
      ack();
      this.logger.info({ source_addr: deliver.sourceAddr }, 'mobile-originated message ignored');
      this.emit('mo', deliver);
      return;
    }
    const carrier = this.options.carrier.id;
    this.counters.receipts += 1;
    const receivedAt = new Date();
    const raw = withoutControlCharacters(deliver.shortMessage.toString('latin1'));
    let parsed: ReturnType<typeof parseReceipt>;
    try {
      parsed = parseReceipt(
        {
          esmClass: deliver.esmClass,
          shortMessage: deliver.shortMessage,
          receiptedMessageId: deliver.receiptedMessageId === undefined ? undefined : withoutControlCharacters(deliver.receiptedMessageId),
          messageState: deliver.messageState,
          networkErrorCode: deliver.networkErrorCode,
        },
        this.messageIdFormats.receipt,
      );
    } catch (error) {
      // Once acknowledged the SMSC will not send it again, so it goes to the sink to be kept (and
      // acknowledged when it is), not only to a log line.
      const reason = withoutControlCharacters(error instanceof Error ? error.message : String(error));
      this.logger.error({ reason, rawLength: raw.length }, 'unreadable receipt');
      this.toSink(() => this.options.receiptSink.unreadable({ carrier, raw, reason, receivedAt }), ack, { unreadable: true });
      return;
    }
    if (!parsed) {
      ack();
      return;
    }
    const receipt: CarrierReceipt = {
      carrier,
      messageId: withoutControlCharacters(parsed.messageId),
      state: parsed.state,
      error: parsed.error === null ? null : withoutControlCharacters(parsed.error),
      doneAt: parsed.doneAt,
      intermediate: parsed.intermediate,
      raw,
      msisdn: handset(deliver.sourceAddr),
    };
    this.toSink(() => this.options.receiptSink.accept(receipt), ack, { messageId: receipt.messageId });
  }

  /**
   * Calls the sink and answers the deliver_sm once the sink has the receipt durable. A rejected
   * promise is logged and leaves it unanswered: the SMSC delivers it again.
   */
  private toSink(call: () => void | Promise<void>, ack: DeliverAck, context: Record<string, unknown>): void {
    try {
      const accepted = call();
      if (accepted && typeof (accepted as Promise<void>).then === 'function') {
        (accepted as Promise<void>).then(
          () => ack(),
          // The sink logs its own failure once (e.g. closed with receipts unwritten): one line per receipt would flood.
          (error: unknown) => this.logger.debug({ err: error, ...context }, 'receipt not stored; deliver_sm left unanswered for the SMSC to resend'),
        );
      } else {
        ack();
      }
    } catch (error) {
      // A sink that throws at once would throw again on every redelivery: answer, as before.
      ack();
      this.logger.error({ err: error, ...context }, 'receipt sink failed');
    }
  }
}
