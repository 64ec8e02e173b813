import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { MessageIdFormat } from '../domain/carrier.js';
import { createLogger, type Logger } from '../logger.js';
import { STATUS, smpp, type SmppPdu, type SmppRawSession, type SmppServer } from '../smpp/wire.js';
import { decodeShortMessage, type Concatenation } from './short-message.js';

export type ReceiptOutcome = 'delivered' | 'undeliverable' | 'expired' | 'rejected';
export type ReceiptOutcomeRatios = Record<ReceiptOutcome, number>;
type Range = number | { min: number; max: number };

export interface ReceiptBehaviour {
  /** Relative weights of the final outcome of each accepted part. */
  outcomes: ReceiptOutcomeRatios;
  /** Delay between accepting a part and sending its receipt. */
  delayMs: Range;
  /** Probability that the receipt is written before the submit_sm_resp (it happens with real SMSCs). */
  earlyProbability: number;
  /** `tlv+text`: receipted_message_id and message_state TLVs plus the Appendix B text; `text`: the text only. */
  style: 'tlv+text' | 'text';
  /** data_coding written on receipts; some SMSCs claim UCS-2 (8) for an ASCII receipt text. */
  dataCoding: number;
}

export interface SmscSimulatorOptions {
  carrier: string;
  host?: string;
  /** 0 (default): an ephemeral port; listen() resolves the one bound. */
  port?: number;
  systemId: string;
  password: string;
  /** Accepted submits per calendar second over all binds; above it ESME_RTHROTTLED. 0: uncapped. */
  tps?: number;
  /** Unanswered submits per bind; above it ESME_RMSGQFUL. 0: unlimited. */
  window?: number;
  /** Concurrent binds; an extra bind is refused with ESME_RBINDFAIL. 0: unlimited (still measured). */
  maxBinds?: number;
  /** How message ids are written in submit_sm_resp and in receipts (e.g. hex then decimal). */
  messageIds?: { submit: MessageIdFormat; receipt: MessageIdFormat };
  receipts?: Partial<ReceiptBehaviour>;
  /** Delay before each submit_sm_resp. */
  latencyMs?: Range;
  /** Temporary errors answered at random instead of accepting (e.g. ESME_RSYSERR 1 %). */
  transientErrors?: ReadonlyArray<{ status: number; ratio: number }>;
  /** A permanent status for some destinations (e.g. ESME_RINVDSTADR); 0 accepts. */
  rejectDestination?: (destination: string) => number;
  /** Keep a record of every accepted submit (default true; a long benchmark turns it off). */
  recordSubmits?: boolean;
  /** Seed of the simulator's random choices, for reproducible runs. */
  seed?: number;
  logger?: Logger;
}

/** One accepted submit_sm as the simulator saw it. */
export interface SubmitRecord {
  destination: string;
  source: string;
  dataCoding: number;
  esmClass: number;
  /** The part's payload decoded per data_coding (UCS-2 or GSM 03.38), UDH removed. */
  text: string;
  udh: Concatenation | null;
  /** As written in submit_sm_resp. */
  messageId: string;
  /** As written in this part's receipt (null when no receipt was asked for). */
  receiptMessageId: string | null;
  outcome: ReceiptOutcome | null;
  registeredDelivery: number;
  at: number;
  connection: number;
}

export interface SimulatorStats {
  /** submit_sm received while bound (accepted or not). */
  received: number;
  accepted: number;
  throttled: number;
  queueFull: number;
  rejected: number;
  transientErrors: number;
  notBound: number;
  receiptsSent: number;
  receiptsAcked: number;
  receiptsRedelivered: number;
  bindsAccepted: number;
  bindsRefused: number;
  currentBinds: number;
  maxConcurrentBinds: number;
  connections: number;
}

export type MalformedPduKind = 'oversized' | 'short-header' | 'bad-tlv';

interface PendingReceipt {
  messageNumber: bigint;
  source: string;
  destination: string;
  outcome: ReceiptOutcome;
  submittedAt: Date;
  text: string;
}

interface Connection {
  id: number;
  session: SmppRawSession;
  bindType: 'transceiver' | 'transmitter' | 'receiver' | null;
  /** submit_sm answered later (latency) and not yet. */
  unanswered: number;
  receiptsInFlight: Map<number, PendingReceipt>;
  closed: boolean;
}

interface SimulatorEvents {
  bind: [connection: number, bindType: string];
  unbind: [connection: number];
  submit: [record: SubmitRecord];
}

const MESSAGE_STATE: Record<ReceiptOutcome, number> = { delivered: 2, expired: 3, undeliverable: 5, rejected: 8 };
const STAT: Record<ReceiptOutcome, string> = { delivered: 'DELIVRD', expired: 'EXPIRED', undeliverable: 'UNDELIV', rejected: 'REJECTD' };
const ERR: Record<ReceiptOutcome, string> = { delivered: '000', expired: '000', undeliverable: '001', rejected: '011' };

const DEFAULT_RECEIPTS: ReceiptBehaviour = {
  outcomes: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 },
  delayMs: { min: 5, max: 50 },
  earlyProbability: 0,
  style: 'tlv+text',
  dataCoding: 0,
};

/**
 * A simulated SMSC on `smpp.createServer`, faithful enough to test Loa against: credentials,
 * bind limits, a TPS cap per calendar second, a window cap, hex/decimal message ids, receipts
 * by outcome ratio (sometimes before the submit_sm_resp), redelivery of unacknowledged receipts,
 * latency, and faults on command (drop connections, stop answering, malformed PDUs, restart).
 * It records what it accepted so tests can count losses and duplicates per destination.
 */
export class SmscSimulator extends EventEmitter<SimulatorEvents> {
  readonly submits: SubmitRecord[] = [];
  readonly stats: SimulatorStats = {
    received: 0,
    accepted: 0,
    throttled: 0,
    queueFull: 0,
    rejected: 0,
    transientErrors: 0,
    notBound: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsRedelivered: 0,
    bindsAccepted: 0,
    bindsRefused: 0,
    currentBinds: 0,
    maxConcurrentBinds: 0,
    connections: 0,
  };
  /** Accepted submits per calendar second (epoch second → count). */
  readonly acceptedPerSecond = new Map<number, number>();
  /** submit_sm received while bound per calendar second, whatever the answer (epoch second → count). */
  readonly receivedPerSecond = new Map<number, number>();
  /** Responses received from ESMEs, by command (deliver_sm_resp, enquire_link_resp, unbind_resp, …). */
  readonly responses = new Map<string, number>();
  /** Every change in the number of concurrent binds, in order. */
  readonly bindTimeline: Array<{ at: number; binds: number }> = [];

  private server: SmppServer | null = null;
  private readonly connections = new Set<Connection>();
  private readonly receiptQueue: PendingReceipt[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly receipts: ReceiptBehaviour;
  private nextConnection = 0;
  private nextMessageNumber: bigint;
  private answering = true;
  private readingPaused = false;
  private currentSecond = 0;
  private acceptedThisSecond = 0;
  private boundPort: number;

  constructor(private readonly options: SmscSimulatorOptions) {
    super();
    this.random = mulberry32(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.logger = (options.logger ?? createLogger('silent')).child({ component: 'smsc-simulator', carrier: options.carrier });
    this.receipts = {
      ...DEFAULT_RECEIPTS,
      ...options.receipts,
      outcomes: { ...(options.receipts?.outcomes ? { delivered: 0, undeliverable: 0, expired: 0, rejected: 0 } : DEFAULT_RECEIPTS.outcomes), ...options.receipts?.outcomes },
    };
    // Ids start high enough that hex and decimal forms differ visibly.
    this.nextMessageNumber = BigInt(0x10000000 + Math.floor(this.random() * 0x0fffffff));
    this.boundPort = options.port ?? 0;
  }

  get carrier(): string {
    return this.options.carrier;
  }

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  get tps(): number {
    return this.options.tps ?? 0;
  }

  /** Submits answered ESME_RTHROTTLED, ESME_RMSGQFUL, … are not in `submits`; this is every bound connection now. */
  get boundConnections(): number {
    return this.stats.currentBinds;
  }

  /** Starts listening; resolves the port (useful with port 0). */
  async listen(): Promise<number> {
    if (this.server) return this.boundPort;
    const server = smpp.createServer((session) => this.onSession(session));
    server.on('error', (error: Error) => this.logger.error({ err: error }, 'simulator server error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.logger.debug({ host: this.host, port: this.boundPort }, 'simulated SMSC listening');
    return this.boundPort;
  }

  /** Stops listening, drops every connection and forgets pending receipts. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.receiptQueue.length = 0;
    await this.stopServer();
  }

  /** Changes the TPS cap (0: uncapped) while running. */
  setTps(tps: number): void {
    this.options.tps = tps;
  }

  setLatency(latencyMs: Range): void {
    this.options.latencyMs = latencyMs;
  }

  // ---- faults ---------------------------------------------------------------------------------

  /** Fault: every TCP connection is cut at once, as when a link or SMSC node fails. */
  dropAllConnections(): number {
    const count = this.connections.size;
    for (const connection of this.connections) connection.session.destroy();
    return count;
  }

  /** Fault: the SMSC keeps the connections but answers nothing (no responses, no receipts). */
  stopAnswering(): void {
    this.answering = false;
  }

  resumeAnswering(): void {
    this.answering = true;
    this.dispatchReceipts();
  }

  /** Fault: writes a malformed PDU on every bound connection; returns how many got one. */
  sendMalformedPdu(kind: MalformedPduKind = 'oversized'): number {
    let count = 0;
    for (const connection of this.connections) {
      if (!connection.bindType || connection.closed) continue;
      connection.session.socket.write(malformedPdu(kind));
      count += 1;
    }
    this.logger.info({ kind, count }, 'sent malformed PDU');
    return count;
  }

  /** Fault: the SMSC stops reading its sockets (TCP backpressure builds up at the ESME) until resumeReading(). */
  pauseReading(): void {
    this.readingPaused = true;
    for (const connection of this.connections) connection.session.pause();
  }

  resumeReading(): void {
    this.readingPaused = false;
    for (const connection of this.connections) connection.session.resume();
  }

  /** Sends `unbind` (the SMSC ends the session) or `enquire_link` to every bound connection; returns how many. */
  sendToAll(command: 'unbind' | 'enquire_link'): number {
    let count = 0;
    for (const connection of this.connections) {
      if (!connection.bindType || connection.closed) continue;
      if (connection.session.send(new smpp.PDU(command))) count += 1;
    }
    return count;
  }

  /** Fault: the SMSC restarts: connections drop, the port is closed for `downMs`, then it listens again. Stored receipts survive. */
  async restart(downMs = 0): Promise<void> {
    await this.stopServer();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.listen();
  }

  // ---- queries for tests ----------------------------------------------------------------------

  /** Highest accepted count in any calendar second. */
  maxAcceptedPerSecond(): number {
    let max = 0;
    for (const count of this.acceptedPerSecond.values()) max = Math.max(max, count);
    return max;
  }

  /** Accepted parts per destination. */
  submitsByDestination(): Map<string, SubmitRecord[]> {
    const byDestination = new Map<string, SubmitRecord[]>();
    for (const record of this.submits) {
      const list = byDestination.get(record.destination);
      if (list) list.push(record);
      else byDestination.set(record.destination, [record]);
    }
    return byDestination;
  }

  /**
   * The messages a handset would show: parts grouped by (destination, UDH reference, part count)
   * and joined in part order. `complete` is false when a part is missing; `duplicates` counts
   * parts received more than once.
   */
  reassemble(): Array<{ destination: string; reference: number | null; text: string; complete: boolean; duplicates: number }> {
    const groups = new Map<string, { destination: string; reference: number | null; count: number; parts: Map<number, string>; duplicates: number }>();
    const singles: Array<{ destination: string; reference: null; text: string; complete: boolean; duplicates: number }> = [];
    for (const record of this.submits) {
      if (!record.udh) {
        singles.push({ destination: record.destination, reference: null, text: record.text, complete: true, duplicates: 0 });
        continue;
      }
      const key = `${record.destination}|${record.udh.reference}|${record.udh.partCount}`;
      let group = groups.get(key);
      if (!group) {
        group = { destination: record.destination, reference: record.udh.reference, count: record.udh.partCount, parts: new Map(), duplicates: 0 };
        groups.set(key, group);
      }
      if (group.parts.has(record.udh.partNumber)) group.duplicates += 1;
      else group.parts.set(record.udh.partNumber, record.text);
    }
    const joined = [...groups.values()].map((group) => {
      let text = '';
      for (let part = 1; part <= group.count; part++) text += group.parts.get(part) ?? '';
      return { destination: group.destination, reference: group.reference, text, complete: group.parts.size === group.count, duplicates: group.duplicates };
    });
    return [...singles, ...joined];
  }

  // ---- protocol -------------------------------------------------------------------------------

  private onSession(session: SmppRawSession): void {
    const connection: Connection = { id: ++this.nextConnection, session, bindType: null, unanswered: 0, receiptsInFlight: new Map(), closed: false };
    this.connections.add(connection);
    this.stats.connections += 1;
    session.socket.setNoDelay(true);
    if (this.readingPaused) session.pause();
    session.on('error', (error: Error) => {
      this.logger.debug({ err: error, connection: connection.id }, 'connection error');
      session.destroy();
    });
    session.on('close', () => this.onClose(connection));
    session.on('pdu', (pdu: SmppPdu) => {
      try {
        this.onPdu(connection, pdu);
      } catch (error) {
        this.logger.error({ err: error, command: pdu.command }, 'simulator failed to handle a PDU');
      }
    });
  }

  private onClose(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    this.connections.delete(connection);
    if (connection.bindType) this.changeBinds(-1);
    if (connection.receiptsInFlight.size > 0) {
      // Unacknowledged receipts are stored again and redelivered on another (or the next) bind.
      const again = [...connection.receiptsInFlight.values()];
      connection.receiptsInFlight.clear();
      this.stats.receiptsRedelivered += again.length;
      this.receiptQueue.unshift(...again);
    }
    if (connection.bindType) this.emit('unbind', connection.id);
    this.dispatchReceipts();
  }

  private onPdu(connection: Connection, pdu: SmppPdu): void {
    if (!this.answering) return;
    if (pdu.isResponse()) {
      this.responses.set(pdu.command, (this.responses.get(pdu.command) ?? 0) + 1);
      if (pdu.command === 'deliver_sm_resp' || pdu.command === 'generic_nack') this.onReceiptAck(connection, pdu);
      return;
    }
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver':
        this.onBind(connection, pdu);
        return;
      case 'submit_sm':
        this.onSubmit(connection, pdu);
        return;
      case 'enquire_link':
        this.reply(connection, pdu.response());
        return;
      case 'unbind':
        this.reply(connection, pdu.response());
        if (connection.bindType) {
          connection.bindType = null;
          this.changeBinds(-1);
          this.emit('unbind', connection.id);
        }
        connection.session.close();
        return;
      default: {
        const hasResponse = pdu.command === 'unknown' || Boolean(smpp.commands[`${pdu.command}_resp`]);
        if (hasResponse) this.reply(connection, pdu.response({ command_status: STATUS.ESME_RINVCMDID }));
      }
    }
  }

  private onBind(connection: Connection, pdu: SmppPdu): void {
    const refuse = (status: number): void => {
      this.stats.bindsRefused += 1;
      this.reply(connection, pdu.response({ command_status: status }));
    };
    if (connection.bindType) return refuse(STATUS.ESME_RALYBND);
    if (pdu.system_id !== this.options.systemId) return refuse(STATUS.ESME_RINVSYSID);
    if (pdu.password !== this.options.password) return refuse(STATUS.ESME_RINVPASWD);
    const maxBinds = this.options.maxBinds ?? 0;
    if (maxBinds > 0 && this.stats.currentBinds >= maxBinds) return refuse(STATUS.ESME_RBINDFAIL);
    connection.bindType = pdu.command.slice('bind_'.length) as Connection['bindType'];
    this.stats.bindsAccepted += 1;
    this.changeBinds(+1);
    this.reply(connection, pdu.response({ system_id: `SIM-${this.options.carrier}`.slice(0, 15) }));
    this.emit('bind', connection.id, connection.bindType as string);
    this.dispatchReceipts();
  }

  private onSubmit(connection: Connection, pdu: SmppPdu): void {
    if (connection.bindType !== 'transceiver' && connection.bindType !== 'transmitter') {
      this.stats.notBound += 1;
      this.reply(connection, pdu.response({ command_status: STATUS.ESME_RINVBNDSTS }));
      return;
    }
    this.stats.received += 1;
    const receivedSecond = Math.floor(Date.now() / 1000);
    this.receivedPerSecond.set(receivedSecond, (this.receivedPerSecond.get(receivedSecond) ?? 0) + 1);
    const window = this.options.window ?? 0;
    if (window > 0 && connection.unanswered >= window) {
      this.stats.queueFull += 1;
      this.reply(connection, pdu.response({ command_status: STATUS.ESME_RMSGQFUL }));
      return;
    }
    const destination = String(pdu.destination_addr ?? '');
    const rejectStatus = this.options.rejectDestination?.(destination) ?? 0;
    if (rejectStatus !== 0) {
      this.stats.rejected += 1;
      this.respondLater(connection, pdu.response({ command_status: rejectStatus }));
      return;
    }
    const transient = this.pickTransientError();
    if (transient !== 0) {
      this.stats.transientErrors += 1;
      this.respondLater(connection, pdu.response({ command_status: transient }));
      return;
    }
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.currentSecond) {
      this.currentSecond = second;
      this.acceptedThisSecond = 0;
    }
    const tps = this.options.tps ?? 0;
    if (tps > 0 && this.acceptedThisSecond >= tps) {
      this.stats.throttled += 1;
      this.respondLater(connection, pdu.response({ command_status: STATUS.ESME_RTHROTTLED }));
      return;
    }
    this.acceptedThisSecond += 1;
    this.acceptedPerSecond.set(second, this.acceptedThisSecond);
    this.stats.accepted += 1;

    const number = this.nextMessageNumber++;
    const formats = this.options.messageIds ?? { submit: 'hex', receipt: 'hex' };
    const messageId = formatId(number, formats.submit, 'submit');
    const registeredDelivery = typeof pdu.registered_delivery === 'number' ? pdu.registered_delivery : 0;
    const outcome = this.pickOutcome(registeredDelivery);
    const shortMessage = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
    const dataCoding = typeof pdu.data_coding === 'number' ? pdu.data_coding : 0;
    const esmClass = typeof pdu.esm_class === 'number' ? pdu.esm_class : 0;
    const decoded = decodeShortMessage(shortMessage, dataCoding, esmClass);
    const source = String(pdu.source_addr ?? '');
    const record: SubmitRecord = {
      destination,
      source,
      dataCoding,
      esmClass,
      text: decoded.text,
      udh: decoded.udh,
      messageId,
      receiptMessageId: outcome ? formatId(number, formats.receipt, 'receipt') : null,
      outcome,
      registeredDelivery,
      at: now,
      connection: connection.id,
    };
    if (this.options.recordSubmits !== false) this.submits.push(record);
    this.emit('submit', record);

    const receipt: PendingReceipt | null = outcome
      ? { messageNumber: number, source, destination, outcome, submittedAt: new Date(now), text: decoded.text }
      : null;
    if (receipt && this.random() < this.receipts.earlyProbability) {
      // The receipt overtakes the response: it is written before submit_sm_resp on the wire.
      this.queueReceipt(receipt, connection);
    } else if (receipt) {
      this.after(pick(this.receipts.delayMs, this.random), () => this.queueReceipt(receipt, null));
    }
    this.respondLater(connection, pdu.response({ message_id: messageId }));
  }

  private onReceiptAck(connection: Connection, pdu: SmppPdu): void {
    const receipt = connection.receiptsInFlight.get(pdu.sequence_number);
    if (!receipt) return;
    connection.receiptsInFlight.delete(pdu.sequence_number);
    if (pdu.command_status === STATUS.ESME_ROK) {
      this.stats.receiptsAcked += 1;
      return;
    }
    // Refused by the ESME: store it again and retry a little later.
    this.stats.receiptsRedelivered += 1;
    this.after(1000, () => this.queueReceipt(receipt, null));
  }

  private queueReceipt(receipt: PendingReceipt, preferred: Connection | null): void {
    this.receiptQueue.push(receipt);
    this.dispatchReceipts(preferred);
  }

  private dispatchReceipts(preferred: Connection | null = null): void {
    if (!this.answering || this.receiptQueue.length === 0) return;
    const receivers = [...this.connections].filter((c) => !c.closed && (c.bindType === 'transceiver' || c.bindType === 'receiver'));
    if (receivers.length === 0) return;
    let turn = 0;
    while (this.receiptQueue.length > 0) {
      const receipt = this.receiptQueue.shift() as PendingReceipt;
      const target = preferred && receivers.includes(preferred) ? preferred : (receivers[turn++ % receivers.length] as Connection);
      const pdu = this.receiptPdu(receipt);
      if (!target.session.send(pdu)) {
        this.receiptQueue.unshift(receipt);
        return;
      }
      target.receiptsInFlight.set(pdu.sequence_number, receipt);
      this.stats.receiptsSent += 1;
    }
  }

  private receiptPdu(receipt: PendingReceipt): SmppPdu {
    const formats = this.options.messageIds ?? { submit: 'hex', receipt: 'hex' };
    const id = formatId(receipt.messageNumber, formats.receipt, 'receipt');
    const delivered = receipt.outcome === 'delivered' ? '001' : '000';
    const text =
      `id:${id} sub:001 dlvrd:${delivered} submit date:${smscDate(receipt.submittedAt)} done date:${smscDate(new Date())} ` +
      `stat:${STAT[receipt.outcome]} err:${ERR[receipt.outcome]} text:${asciiPreview(receipt.text)}`;
    const fields: Record<string, unknown> = {
      service_type: '',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: receipt.destination,
      dest_addr_ton: 5,
      dest_addr_npi: 0,
      destination_addr: receipt.source,
      esm_class: 0x04,
      data_coding: this.receipts.dataCoding,
      short_message: Buffer.from(text, 'latin1'),
    };
    if (this.receipts.style === 'tlv+text') {
      fields.receipted_message_id = id;
      fields.message_state = MESSAGE_STATE[receipt.outcome];
      if (receipt.outcome !== 'delivered') fields.network_error_code = Buffer.from([0x03, 0x00, Number(ERR[receipt.outcome])]);
    }
    return new smpp.PDU('deliver_sm', fields);
  }

  private respondLater(connection: Connection, response: SmppPdu): void {
    const latency = pick(this.options.latencyMs ?? 0, this.random);
    if (latency <= 0) {
      this.reply(connection, response);
      return;
    }
    connection.unanswered += 1;
    this.after(latency, () => {
      connection.unanswered -= 1;
      if (this.answering) this.reply(connection, response);
    });
  }

  private reply(connection: Connection, pdu: SmppPdu): void {
    if (connection.closed) return;
    connection.session.send(pdu);
  }

  private pickTransientError(): number {
    const errors = this.options.transientErrors;
    if (!errors || errors.length === 0) return 0;
    let r = this.random();
    for (const { status, ratio } of errors) {
      if (r < ratio) return status;
      r -= ratio;
    }
    return 0;
  }

  private pickOutcome(registeredDelivery: number): ReceiptOutcome | null {
    const wanted = registeredDelivery & 0x03;
    if (wanted === 0) return null;
    const { outcomes } = this.receipts;
    const total = outcomes.delivered + outcomes.undeliverable + outcomes.expired + outcomes.rejected;
    let r = this.random() * (total > 0 ? total : 1);
    let outcome: ReceiptOutcome = 'delivered';
    for (const candidate of ['delivered', 'undeliverable', 'expired', 'rejected'] as const) {
      if (r < outcomes[candidate]) {
        outcome = candidate;
        break;
      }
      r -= outcomes[candidate];
    }
    // registered_delivery 2: a receipt on failure only (SMPP 3.4 §5.2.17).
    if (wanted === 2 && outcome === 'delivered') return null;
    return outcome;
  }

  private changeBinds(delta: number): void {
    this.stats.currentBinds += delta;
    this.stats.maxConcurrentBinds = Math.max(this.stats.maxConcurrentBinds, this.stats.currentBinds);
    this.bindTimeline.push({ at: Date.now(), binds: this.stats.currentBinds });
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private async stopServer(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const connection of this.connections) connection.session.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function formatId(number: bigint, format: MessageIdFormat, where: 'submit' | 'receipt'): string {
  // Different spellings on each side on purpose: upper-case hex in responses, lower-case padded
  // hex or zero-padded decimal in receipts, as real SMSCs do; Loa must normalise both.
  if (format === 'hex') return where === 'submit' ? number.toString(16).toUpperCase() : number.toString(16).padStart(10, '0');
  return where === 'submit' ? number.toString(10) : number.toString(10).padStart(12, '0');
}

/** `YYMMDDhhmm` in Vietnam time (UTC+7, no DST), as the carriers' SMSCs write it. */
function smscDate(date: Date): string {
  const local = new Date(date.getTime() + 7 * 3600_000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(local.getUTCFullYear() % 100)}${two(local.getUTCMonth() + 1)}${two(local.getUTCDate())}${two(local.getUTCHours())}${two(local.getUTCMinutes())}`;
}

function asciiPreview(text: string): string {
  return text
    .slice(0, 20)
    .normalize('NFD')
    .replace(/[^\x20-\x7e]/g, '');
}

function pick(range: Range, random: () => number): number {
  if (typeof range === 'number') return range;
  return range.min + random() * (range.max - range.min);
}

function malformedPdu(kind: MalformedPduKind): Buffer {
  switch (kind) {
    case 'oversized': {
      // command_length far above the package's 16384 limit: its reader throws and freezes.
      const header = Buffer.alloc(16);
      header.writeUInt32BE(0x00100000, 0);
      header.writeUInt32BE(0x00000005, 4);
      header.writeUInt32BE(0, 8);
      header.writeUInt32BE(0x7ffffff0, 12);
      return header;
    }
    case 'short-header': {
      // command_length 12 < the 16-octet header.
      const pdu = Buffer.alloc(12);
      pdu.writeUInt32BE(12, 0);
      pdu.writeUInt32BE(0x00000005, 4);
      pdu.writeUInt32BE(0, 8);
      return pdu;
    }
    case 'bad-tlv': {
      // A deliver_sm whose message_state TLV announces one octet that is not there.
      const fields = Buffer.from([0, 1, 1, ...Buffer.from('84900000001'), 0, 5, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const tlv = Buffer.from([0x04, 0x27, 0x00, 0x01]);
      const length = 16 + fields.length + tlv.length;
      const header = Buffer.alloc(16);
      header.writeUInt32BE(length, 0);
      header.writeUInt32BE(0x00000005, 4);
      header.writeUInt32BE(0, 8);
      header.writeUInt32BE(0x7ffffff1, 12);
      return Buffer.concat([header, fields, tlv]);
    }
  }
}

/** Small seedable PRNG (mulberry32): reproducible simulator runs. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
