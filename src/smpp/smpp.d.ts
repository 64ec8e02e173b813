// Our own typings for the parts of the `smpp` npm package (0.5.1) that Loa uses; none exist on npm.
// Only src/smpp/wire.ts imports the package: everything else goes through it.
declare module 'smpp' {
  import { EventEmitter } from 'node:events';
  import type { Socket, Server as NetServer } from 'node:net';
  import type { Readable } from 'node:stream';

  namespace smpp {
    /** One field filter: `encode` runs in `toBuffer()`, `decode` after parsing. `this` is the PDU. */
    interface PduFilter {
      encode(this: PDU, value: unknown, flag?: boolean): unknown;
      decode(this: PDU, value: unknown, flag?: boolean): unknown;
    }

    interface PduParamDef {
      type: unknown;
      default?: unknown;
      filter?: PduFilter;
    }

    interface CommandDef {
      id: number;
      command: string;
      params?: Record<string, PduParamDef>;
    }

    interface TlvDef {
      id: number;
      tag: string;
      type: unknown;
      filter?: PduFilter;
      multiple?: boolean;
    }

    class PDU {
      /** Build a PDU to send; with `command_status` set, the body is left out (error responses have none). */
      constructor(command: string, options?: Record<string, unknown>);
      /** Parse a complete PDU; throws on a malformed one. */
      constructor(buffer: Buffer);
      command: string;
      command_id: number;
      command_length: number;
      command_status: number;
      /** Assigned by `Session.send()` for requests (0 until then). */
      sequence_number: number;
      [field: string]: unknown;
      isResponse(): boolean;
      response(options?: Record<string, unknown>): PDU;
      toBuffer(): Buffer;
      /** 16384: longer PDUs throw in the reader (and freeze it, issues #109, #168). */
      static maxLength: number;
      static fromBuffer(buffer: Buffer): PDU | false;
      /** The reader's first step: command_length of the next PDU, false until 4 octets are readable; throws above maxLength. */
      static commandLength(stream: Readable): number | false;
    }

    interface SessionOptions {
      host?: string;
      port?: number;
      socket?: Socket;
      tls?: boolean;
      auto_enquire_link_period?: number;
    }

    class Session extends EventEmitter {
      /** Connects at once (net.connect) unless `options.socket` is given. */
      constructor(options: SessionOptions);
      readonly socket: Socket;
      sequence: number;
      paused: boolean;
      server?: Server;
      /**
       * Writes `pdu` (assigning its sequence number when it is a request). Returns false, writing
       * nothing, when the socket is not writable. Ignores backpressure. Throws when the PDU cannot
       * be encoded (e.g. a number in a string field).
       */
      send(pdu: PDU, responseCallback?: (response: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
      pause(): void;
      resume(): void;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
    }

    class Server extends NetServer {
      readonly sessions: Session[];
    }

    function createServer(listener: (session: Session) => void): Server;
    function createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;

    const commands: Record<string, CommandDef>;
    const commandsById: Record<number, CommandDef>;
    const tlvs: Record<string, TlvDef>;
    const filters: { message: PduFilter; time: PduFilter };
    /** GSM 03.38 (one septet per octet, unpacked) with the package's national shift tables. */
    const gsmCoder: {
      encode(text: string, table?: number): Buffer;
      decode(septets: Buffer, table?: number): string;
    };
    const errors: Record<string, number>;
  }

  export = smpp;
}
