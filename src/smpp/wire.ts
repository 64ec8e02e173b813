import smpp from 'smpp';

/**
 * The one door to the `smpp` package: src/smpp and src/sim import it from here so the package
 * is adjusted once, before any PDU is parsed.
 *
 * The package decodes `short_message` (and `message_payload`) on arrival with a charset picked
 * from `data_coding & 0x0F`: receipts that claim UCS-2 but carry ASCII come out garbled, GSM
 * text loses characters outside its table, and the UDH is split off into objects
 * (../shared/reference/smpp.md, Encoding). Loa wants the octets as they were on the wire, so the
 * decode step of these two fields is replaced by the identity; encoding keeps the package's
 * filter, which passes Buffers through untouched (Loa always sends Buffers with an explicit
 * data_coding, so the package never picks a charset for us).
 */
const rawMessage: smpp.PduFilter = {
  encode(value, flag) {
    return smpp.filters.message.encode.call(this, value, flag);
  },
  decode(value) {
    return value;
  },
};

for (const command of ['submit_sm', 'deliver_sm']) {
  const param = smpp.commands[command]?.params?.short_message;
  if (!param) throw new Error(`smpp package layout changed: ${command}.short_message not found`);
  param.filter = rawMessage;
}
const payload = smpp.tlvs.message_payload;
if (!payload) throw new Error('smpp package layout changed: message_payload TLV not found');
payload.filter = rawMessage;

/** SMPP 3.4 §3.2: every PDU starts with a 16-octet header, command_length included. */
export const MIN_PDU_LENGTH = 16;

/**
 * The package's reader checks command_length only against its maximum. A header declaring fewer
 * than 16 octets leaves it stuck without an error: `read(command_length - 4)` of zero or fewer
 * octets returns null, which the reader takes for "wait for more data", forever (and 0 is read as
 * "no length yet"). The connection would then die only by our enquire_link timeout, with submits
 * in flight waiting that long. Throwing here takes the reader's own error path, as an oversized
 * PDU does: 'error' on the Session, and SmppLink drops the connection at once.
 */
const readCommandLength = smpp.PDU.commandLength;
smpp.PDU.commandLength = function commandLength(stream) {
  const length = readCommandLength.call(this, stream);
  if (length !== false && length < MIN_PDU_LENGTH) {
    throw new Error(`PDU length was too small (${length}, minimum is ${MIN_PDU_LENGTH}).`);
  }
  return length;
};

const corkedSockets = new WeakSet<object>();

/**
 * Corks `socket` until the end of the current tick, or with 'turn' of this turn of the event loop
 * (so the callbacks of timers due together, and several socket reads, share it too): what is
 * written meanwhile leaves in one writev instead of one syscall per PDU.
 */
export function corkUntil(socket: { cork(): void; uncork(): void }, until: 'tick' | 'turn'): void {
  if (corkedSockets.has(socket)) return;
  corkedSockets.add(socket);
  socket.cork();
  const uncork = () => {
    corkedSockets.delete(socket);
    socket.uncork();
  };
  if (until === 'tick') process.nextTick(uncork);
  else setImmediate(uncork);
}

export { smpp };
export type SmppPdu = smpp.PDU;
export type SmppRawSession = smpp.Session;
export type SmppServer = smpp.Server;

/** SMPP 3.4 interface_version sent on bind; the package's default is 0x50 (SMPP 5.0). */
export const INTERFACE_VERSION_34 = 0x34;
/** Longest PDU the package's reader accepts; a longer one freezes it (issues #109, #168). */
export const MAX_PDU_LENGTH = smpp.PDU.maxLength;
/** SMPP 3.4 §5.2.21: short_message holds at most 254 octets. */
export const MAX_SHORT_MESSAGE_OCTETS = 254;

/** Command status values Loa refers to by name (SMPP 3.4 §5.1.3). */
export const STATUS = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVSRCADR: 0x0a,
  ESME_RINVDSTADR: 0x0b,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RMSGQFUL: 0x14,
  ESME_RSUBMITFAIL: 0x45,
  ESME_RTHROTTLED: 0x58,
  ESME_RX_T_APPN: 0x64,
  ESME_RX_P_APPN: 0x65,
} as const;

const statusNames = new Map<number, string>(Object.entries(smpp.errors).map(([name, code]) => [code, name]));

/** `0x58` → `ESME_RTHROTTLED (0x58)`, for logs and error messages. */
export function describeStatus(status: number): string {
  const hex = `0x${status.toString(16).padStart(2, '0').toUpperCase()}`;
  const name = statusNames.get(status) ?? (status >= 0x400 && status <= 0x4ff ? 'vendor specific' : 'unknown');
  return `${name} (${hex})`;
}

/** Bind refusals after which reconnecting at once only hammers the SMSC (wrong credentials, too many binds). */
export const BIND_REFUSED_STATUSES: ReadonlySet<number> = new Set([STATUS.ESME_RBINDFAIL, STATUS.ESME_RINVPASWD, STATUS.ESME_RINVSYSID]);
