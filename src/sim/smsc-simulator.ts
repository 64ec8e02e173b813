import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../logger.js';
import { encodeSubmitSmResp } from '../smpp/link-pdus.js';
import { corkUntil, STATUS, smpp, type SmppPdu, type SmppRawSession, type SmppServer } from '../smpp/wire.js';
import { malformedPdu } from './malformed-pdu.js';
import { mulberry32, pick, type Range } from './random.js';
import { formatId, pickOutcome, receiptBehaviourFrom, receiptPdu, type PendingReceipt } from './receipt-generation.js';
import { decodeShortMessage } from './short-message.js';
import { emptyStats, type MalformedPduKind, type RawDeliverSm, type ReceiptBehaviour, type SimulatorStats, type SmscSimulatorOptions, type SubmitRecord } from './simulator-types.js';
import { byDestination, reassemble, type ReassembledMessage } from './submit-records.js';

// The option, record and stats types are part of the simulator's API: importable from here.
export type { MalformedPduKind, RawDeliverSm, ReceiptBehaviour, ReceiptOutcome, ReceiptOutcomeRatios, SimulatorStats, SmscSimulatorOptions, SubmitRecord } from './simulator-types.js';

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

/**
 * A simulated SMSC on `smpp.createServer`, faithful enough to test Loa against: credentials,
 * bind limits, a TPS cap per calendar second, a window cap, hex/decimal message ids, receipts
 * by outcome ratio (sometimes before the submit_sm_resp), redelivery of unacknowledged receipts,
 * latency, and faults on command (drop connections, stop answering, malformed PDUs, restart).
 * It records what it accepted so tests can count losses and duplicates per destination.
 */
export class SmscSimulator extends EventEmitter<SimulatorEvents> {
  readonly submits: SubmitRecord[] = [];
  readonly stats: SimulatorStats = emptyStats();
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
    this.receipts = receiptBehaviourFrom(options.receipts);
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

  /** Changes the temporary errors answered at random (e.g. an SMSC that recovers from ESME_RSYSERR). */
  setTransientErrors(errors: ReadonlyArray<{ status: number; ratio: number }>): void {
    this.options.transientErrors = errors;
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

  /** Fault: silent (socket open, nothing answered, binds included) for `ms`, then answering again. */
  goSilentFor(ms: number): Promise<void> {
    this.stopAnswering();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.resumeAnswering();
        resolve();
      }, ms);
      this.timers.add(timer);
    });
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

  /**
   * Writes one deliver_sm, as given, on every bound connection that takes receipts; returns how
   * many got it. Not stored for redelivery: what the ESME answers is counted in `responses`.
   */
  sendDeliverSm(deliver: RawDeliverSm): number {
    let count = 0;
    for (const connection of this.connections) {
      if (connection.closed || (connection.bindType !== 'transceiver' && connection.bindType !== 'receiver')) continue;
      const pdu = new smpp.PDU('deliver_sm', {
        source_addr: deliver.sourceAddr ?? '84900000001',
        destination_addr: deliver.destinationAddr ?? 'SIM',
        esm_class: deliver.esmClass,
        data_coding: deliver.dataCoding ?? 0,
        short_message: deliver.shortMessage,
        ...(deliver.receiptedMessageId !== undefined ? { receipted_message_id: deliver.receiptedMessageId } : {}),
        ...(deliver.messageState !== undefined ? { message_state: deliver.messageState } : {}),
      });
      if (connection.session.send(pdu)) count += 1;
    }
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
    return byDestination(this.submits);
  }

  /** The messages a handset would show (see `reassemble` in submit-records.ts). */
  reassemble(): ReassembledMessage[] {
    return reassemble(this.submits);
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
    if (!this.answering) {
      if (pdu.command === 'submit_sm') this.stats.ignoredWhileSilent += 1;
      return;
    }
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
    this.stats.maxOutstanding = Math.max(this.stats.maxOutstanding, connection.unanswered + 1);
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
    const outcome = pickOutcome(registeredDelivery, this.receipts.outcomes, this.random);
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
    // Encoded by hand: the package's PDU object and filters cost more CPU than the rest of a submit here.
    this.respondLater(connection, encodeSubmitSmResp(pdu.sequence_number, messageId));
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
      const pdu = receiptPdu(receipt, (this.options.messageIds ?? { submit: 'hex', receipt: 'hex' }).receipt, this.receipts);
      // Receipts due together come from separate timers: one write for all of them.
      corkUntil(target.session.socket, 'turn');
      if (!target.session.send(pdu)) {
        this.receiptQueue.unshift(receipt);
        return;
      }
      target.receiptsInFlight.set(pdu.sequence_number, receipt);
      this.stats.receiptsSent += 1;
    }
  }

  private respondLater(connection: Connection, response: SmppPdu | Buffer): void {
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

  /** A PDU, or one already encoded (written as is: responses need nothing of the session). */
  private reply(connection: Connection, pdu: SmppPdu | Buffer): void {
    if (connection.closed) return;
    const socket = connection.session.socket;
    corkUntil(socket, 'tick');
    if (Buffer.isBuffer(pdu)) {
      if (socket.writable) socket.write(pdu);
    } else {
      connection.session.send(pdu);
    }
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
