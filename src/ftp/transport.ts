/**
 * What a `Session` needs from the wire: commands and their replies, a data
 * connection, a transfer over it. Two transports implement it:
 * `native_transport.ts` (Deno's own TCP, plain FTP, the fast path) and
 * `basic_ftp_transport.ts` (npm basic-ftp, for FTPS). Tests drive a session
 * with a fake one (`tests/ftp/fake_transport.ts`), no socket needed.
 *
 * @module
 */

import { ConnectionLost } from "./errors.ts";
import type { Codec } from "./encoding.ts";
import type { Reply } from "./reply.ts";
import type { TrailRequest } from "./trailing.ts";
import type { EarlyTlsRequest } from "./early_tls.ts";

/** The local file of a transfer, opened (and positioned at the start offset) before any command. */
export interface LocalSource {
  path: string;
  file: Deno.FsFile;
  /** Bytes this transfer is to send (the file from its start offset). */
  length: number;
}

/** What a transfer moved: bytes read from the file and bytes written to the data connection. */
export interface Sent {
  read: number;
  written: number;
}

/**
 * Largest transfer whose data goes out before the `150` (`abilities.earlyData`); at most
 * this much is sent before it in any case. What a STOR that is refused, or never reaches
 * the server, wastes on the wire stays small.
 */
export const EARLY_DATA_BYTES = 64 * 1024;

/** One STOR or APPE over the data connection `openData` opened. */
export interface TransferRequest {
  verb: "STOR" | "APPE";
  remotePath: string;
  source: LocalSource;
  /** Where in the file the transfer starts (the file is already positioned there). */
  start: number;
  /** The data may go out before the `150` (the transport's `earlyData`, a small file). */
  early: boolean;
  /**
   * Commands to trail the transfer command in its write (`trailing.ts`), where the
   * transport can (`trailing`); the transport sets `outcome` from their replies.
   */
  trail?: TrailRequest;
}

/** Commands, replies and data connections of one logged-in connection. */
export interface Transport {
  /** The server's legacy code page for names (`server.encoding`); absent = UTF-8. */
  readonly codec: Codec | undefined;
  readonly closed: boolean;
  /** Bytes the transfer under way has written to its data connection (0 between transfers). */
  readonly sending: number;
  /** Whether this transport can send a small file's data before the `150`. */
  readonly earlyData: boolean;
  /** Whether this transport can send commands behind a transfer command (`trailing.ts`). */
  readonly trailing?: boolean;
  /** Whether a data connection's TLS can start with it, before the `150` (`early_tls.ts`). */
  readonly earlyTls?: boolean;
  /** Drops the connection, and any data connection with it, at once. */
  close(): void;
  /** Sends one command; returns its final reply (error replies too); a lost connection throws. */
  command(line: string): Promise<Reply>;
  /** Sends commands whose order alone matters (no reply decides the next); one reply each. */
  commands(lines: string[]): Promise<Reply[]>;
  /**
   * SIZE after a transfer's final reply (the reply of a SIZE that trailed the transfer, when
   * one did). `nextFollows`: another file follows on this connection, and the transport may
   * send what it needs for it in the same write.
   */
  sizeAfterTransfer(path: string, nextFollows: boolean): Promise<Reply>;
  /**
   * Queues `lines` to go out in front of the next command (the next file's STOR), their
   * replies, in order, read before its own; `undefined` where the transport cannot.
   */
  sendWithNext(lines: string[]): Promise<Reply[]> | undefined;
  /** Sends whatever `sendWithNext` queued on its own and reads the replies. */
  flush(): Promise<void>;
  /**
   * Opens a data connection (before REST, which must directly precede STOR); with `tls`, its
   * TLS starts at once (`early_tls.ts`); the transport sets the request's `outcome`.
   */
  openData(tls?: EarlyTlsRequest): Promise<void>;
  /** Drops a data connection opened for a transfer that will not happen. */
  abandonData(): void;
  /**
   * Sends a listing command (`MLSD`, `LIST`) over the open data connection and
   * returns what came, at most `max` bytes (more is a ProtocolError and closes
   * the connection). Throws FTPError when the server refuses the command.
   */
  receive(line: string, max: number): Promise<Uint8Array>;
  /**
   * Sends STOR/APPE, streams the file over the open data connection, waits for
   * the final reply. Throws FTPError for a command refused before any data
   * moved, LocalFileError when the file cannot be read, or TransferFailed.
   */
  transfer(request: TransferRequest): Promise<Sent>;
}

/** The replies got out of step with the commands: closes `transport` (never reused). */
export function outOfStep(transport: Transport, line: string, reply: Reply): ConnectionLost {
  transport.close();
  return new ConnectionLost(`reply out of step: ${line.split(" ")[0]} got ${reply.message}`);
}

/** The chunks a data connection delivered, as one array of `total` bytes. */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return bytes;
}
