import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { BindEndpoint, CarrierConfig } from '../config.js';
import type { CarrierId, CarrierProfile, MessageIdFormat } from '../domain/carrier.js';
import type { MessageState } from '../domain/message-state.js';
import { isDeliveryReceipt, parseReceipt } from '../domain/receipt.js';
import type { Logger } from '../logger.js';
import { SmppSession, type DeliverSm, type SessionAlert, type SessionOptions } from './session.js';

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
}

/** Where receipts go. deliver_sm_resp has already been sent when accept() is called, so the sink must not lose them. */
export interface ReceiptSink {
  accept(receipt: CarrierReceipt): void | Promise<void>;
}

export interface BindPoolOptions {
  carrier: CarrierConfig;
  profile: CarrierProfile;
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
  /** Passed to every session. */
  session?: Pick<SessionOptions, 'timeouts' | 'reconnect' | 'writeHighWaterBytes' | 'random'>;
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
}

// Renew and release only a lease we still own (compare, then act), atomically.
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

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
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private running = false;
  private sessionList: SmppSession[] = [];

  constructor(private readonly options: BindPoolOptions) {
    super();
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 15_000;
    if (this.leaseMs < 300) throw new RangeError('leaseMs must be at least 300');
    this.renewEveryMs = this.leaseMs / 3;
    this.safetyMs = Math.max(100, this.leaseMs / 5);
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

  /** Binds the carrier allows across all processes. */
  get allowedBinds(): number {
    return this.slots.length;
  }

  /** Segments/s each bind may send so that all allowed binds together stay within the carrier's TPS. */
  get tpsPerBind(): number {
    return this.options.carrier.tps / this.slots.length;
  }

  get messageIdFormats(): { submit: MessageIdFormat; receipt: MessageIdFormat } {
    return this.options.carrier.messageId ?? this.options.profile.defaults.messageId;
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

  /** Starts taking leases and binding; returns at once (binds come up in the background, see 'bound'). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.tick();
    const every = Math.max(50, Math.min(this.renewEveryMs / 2, 1_000));
    this.timer = setInterval(() => {
      // Checked here, not only after a renewal: a Redis call that hangs must not keep a bind alive.
      this.expireOverdue();
      void this.tick();
    }, every);
  }

  /** Unbinds every session gracefully, then releases their leases. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.all(
      this.slots.map(async (slot) => {
        const held = slot.held;
        if (!held) return;
        await held.session.close();
        this.forgetSlot(slot);
        await this.release(slot);
      }),
    );
  }

  private tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.runTick()
      .catch((error: unknown) => this.logger.error({ err: error }, 'bind pool tick failed'))
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    await Promise.all(this.slots.filter((slot) => slot.held).map((slot) => this.renew(slot)));
    if (!this.running) return;
    const limit = this.options.maxLocalBinds ?? this.slots.length;
    for (const slot of this.slots) {
      if (!this.running || this.heldCount >= limit) break;
      if (!slot.held) await this.acquire(slot);
    }
  }

  private async renew(slot: Slot): Promise<void> {
    const held = slot.held;
    if (!held) return;
    const now = performance.now();
    if (now - held.lastRenewAt >= this.renewEveryMs) {
      try {
        const renewed = await this.options.redis.eval(RENEW, 1, slot.key, this.owner, String(this.leaseMs));
        if (slot.held !== held) return;
        if (Number(renewed) === 1) {
          held.validUntil = now + this.leaseMs;
          held.lastRenewAt = now;
        } else {
          this.lose(slot, 'lease taken by another process or expired');
          return;
        }
      } catch (error) {
        this.logger.warn({ err: error, slot: slot.index }, 'cannot renew bind lease');
      }
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
      acquired = await this.options.redis.set(slot.key, this.owner, 'PX', this.leaseMs, 'NX');
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
      },
      this.options.logger,
    );
    session.on('bound', () => this.emit('bound', session));
    session.on('unbound', (reason) => this.emit('unbound', session, reason));
    session.on('alert', (alert) => this.emit('alert', alert));
    session.on('deliver', (deliver) => this.onDeliver(deliver));
    slot.held = { session, validUntil: now + this.leaseMs, lastRenewAt: now };
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
      await this.options.redis.eval(RELEASE, 1, slot.key, this.owner);
    } catch (error) {
      this.logger.warn({ err: error, slot: slot.index }, 'cannot release bind lease; it will expire');
    }
  }

  private onDeliver(deliver: DeliverSm): void {
    if (!isDeliveryReceipt(deliver.esmClass)) {
      this.logger.info({ source_addr: deliver.sourceAddr }, 'mobile-originated message ignored');
      this.emit('mo', deliver);
      return;
    }
    let receipt: CarrierReceipt;
    try {
      const parsed = parseReceipt(
        {
          esmClass: deliver.esmClass,
          shortMessage: deliver.shortMessage,
          receiptedMessageId: deliver.receiptedMessageId,
          messageState: deliver.messageState,
          networkErrorCode: deliver.networkErrorCode,
        },
        this.messageIdFormats.receipt,
      );
      if (!parsed) return;
      receipt = {
        carrier: this.options.carrier.id,
        messageId: parsed.messageId,
        state: parsed.state,
        error: parsed.error,
        doneAt: parsed.doneAt,
        intermediate: parsed.intermediate,
        raw: deliver.shortMessage.toString('latin1'),
      };
    } catch (error) {
      this.logger.error({ err: error, raw: deliver.shortMessage.toString('latin1') }, 'unreadable receipt');
      return;
    }
    try {
      const accepted = this.options.receiptSink.accept(receipt);
      if (accepted && typeof (accepted as Promise<void>).then === 'function') {
        (accepted as Promise<void>).catch((error: unknown) => this.logger.error({ err: error, messageId: receipt.messageId }, 'receipt sink failed'));
      }
    } catch (error) {
      this.logger.error({ err: error, messageId: receipt.messageId }, 'receipt sink failed');
    }
  }
}
