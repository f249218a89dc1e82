/**
 * The plain-FTP transport on Deno's own TCP API: the fast path. Per file an
 * upload costs a handful of short writes and reads, with no stream machinery
 * between the file and the socket (npm basic-ftp, through Node's stream and
 * socket layers, spent about 2 ms of CPU per small file here).
 *
 * Pipelining, per file: the next file's EPSV goes in one write with this
 * file's SIZE (`sizeAfterTransfer`, once the `226` is in); the time command
 * and RNFR/RNTO of the last file ride in the write of the next STOR
 * (`ride`); the data connection is opened while the STOR goes out, and a
 * small file's data goes before the `150` (`native_transfer.ts`). Nothing is
 * sent while a transfer is open: pure-ftpd answers `500 Unknown command` to a
 * command that arrives then, and drops it.
 *
 * A data connection is made in one place: `openData` picks the port
 * (`passive.ts`, or the EPSV prepared with the last SIZE) and `#connectData`
 * connects, within the control timeout. The file's bytes go out in one loop,
 * `copyFile` in `native_transfer.ts`.
 *
 * @module
 */

import type { FtpLogin } from "./login.ts";
import { Code, isCompletion, isNegative, isPreliminary } from "./codes.ts";
import { Control, timed } from "./control.ts";
import {
  type Codec,
  isUtf8,
  legacyCodec,
  passwordUnencodable,
  UnencodableName,
} from "./encoding.ts";
import { FTPError, ProtocolError } from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { Session } from "./session.ts";
import { epsvPort, PassiveMode } from "./passive.ts";
import {
  joinChunks,
  outOfStep,
  type Sent,
  type TransferRequest,
  type Transport,
} from "./transport.ts";
import {
  closeQuietly,
  connectedData,
  runTransfer,
  type TransferLink,
  TransferState,
} from "./native_transfer.ts";

/** The copy buffer of a transfer: one per connection, taken from the file in one read. */
const CHUNK = 1024 * 1024;

/**
 * Connect, log in, `OPTS UTF8 ON` (any reply is fine; not sent to a server
 * configured with a legacy encoding), binary mode, FEAT.
 */
export async function openNativeSession(
  server: FtpLogin,
  timeoutMs: number,
): Promise<Session> {
  // Loaded only for a legacy code page; UTF-8 takes no code-page library at all.
  const codec = isUtf8(server.encoding) ? undefined : await legacyCodec(server.encoding!);
  const conn = await timed(
    Deno.connect({ hostname: server.host, port: server.port }),
    timeoutMs,
    "Timeout (control socket) while connecting",
  );
  conn.setNoDelay(true);
  const control = new Control(conn, timeoutMs, codec);
  try {
    // A `120` (ready in n minutes) may come first: `read` skips 1xx replies.
    const greeting = await control.read();
    if (isNegative(greeting.code)) throw new FTPError(greeting);
    const user = server.user ?? "anonymous";
    const password = server.password ?? (server.user ? "" : "anonymous@");
    const needsPassword = (r: Reply) => r.code === Code.UsernameOk || r.code === Code.NeedAccount;
    let reply: Reply;
    if (!codec) {
      // USER and PASS in one write (a round trip less per connection). The USER reply is
      // read first: a refusal (421 "too many") is reported as such; a server that logs in
      // on USER alone answers the PASS with some reply that is read and not needed.
      await control.write(`USER ${user}`, `PASS ${password}`);
      reply = await control.read();
      const pass = await control.read().catch((e) => {
        if (isNegative(reply.code)) return reply;
        throw e;
      });
      if (needsPassword(reply)) reply = pass;
    } else {
      reply = await control.send(`USER ${user}`);
      if (needsPassword(reply)) {
        reply = await control.send(`PASS ${password}`).catch((e) => {
          throw e instanceof UnencodableName ? passwordUnencodable(codec) : e;
        });
      }
    }
    if (isNegative(reply.code)) throw new FTPError(reply);
    control.loggedIn = true;
    // After the login, in one write. Servers that answer 5xx to OPTS still take UTF-8
    // names; its reply does not matter. A server in a legacy code page is not asked: it
    // could switch to UTF-8 for real.
    const replies = await control.sendAll([...(codec ? [] : ["OPTS UTF8 ON"]), "TYPE I", "FEAT"]);
    const [type, feat] = replies.slice(-2);
    if (isNegative(type.code)) throw new FTPError(type);
    const features = parseFeatures(feat);
    const transport = new NativeTransport(control, (conn.remoteAddr as Deno.NetAddr).hostname);
    return new Session(transport, features);
  } catch (e) {
    control.close();
    throw e;
  }
}

/** Commands, replies and data connections on Deno's TCP. */
export class NativeTransport implements Transport {
  readonly earlyData = true;
  /** The data connection being opened for the next transfer (connect under way or done). */
  #data?: Promise<Deno.TcpConn>;
  #passive = new PassiveMode();
  /** A passive port from an `EPSV` sent with the last file's SIZE, not used yet. */
  #prepared?: number;
  #buffer?: Uint8Array<ArrayBuffer>;
  /** The transfer under way. */
  #transfer?: TransferState;
  #link: TransferLink;

  constructor(
    readonly control: Control,
    /** Data connections go to the control connection's address (never a PASV-given host). */
    readonly dataHost: string,
  ) {
    this.#link = {
      control,
      transport: this,
      buffer: () => this.#buffer ??= new Uint8Array(CHUNK),
    };
  }

  get codec(): Codec | undefined {
    return this.control.codec;
  }

  get closed(): boolean {
    return this.control.closed;
  }

  get sending(): number {
    return this.#transfer?.sent ?? 0;
  }

  close(): void {
    this.abandonData();
    this.control.close();
  }

  command(line: string): Promise<Reply> {
    return this.control.send(line);
  }

  commands(lines: string[]): Promise<Reply[]> {
    return this.control.sendAll(lines);
  }

  /**
   * SIZE after a transfer; with `nextFollows`, the next file's `EPSV` in the same write
   * (safe: the transfer's final reply is in, nothing is open). Its port waits in `#prepared`.
   */
  async sizeAfterTransfer(path: string, nextFollows: boolean): Promise<Reply> {
    if (!nextFollows || this.#passive.epsv !== true) return await this.command(`SIZE ${path}`);
    this.#prepared = undefined;
    const [size, epsv] = await this.control.sendAll([`SIZE ${path}`, "EPSV"]);
    this.#prepared = epsvPort(epsv);
    return size;
  }

  ride(lines: string[]): Promise<Reply[]> {
    return this.control.ride(lines);
  }

  async flush(): Promise<void> {
    await this.control.flush();
  }

  /**
   * EPSV or PASV (`passive.ts`), or the port prepared with the last SIZE. The connect is
   * started, not waited for: `transfer` sends its command meanwhile.
   */
  async openData(): Promise<void> {
    let port = this.#prepared;
    this.#prepared = undefined;
    port ??= await this.#passive.port((line) => this.command(line));
    this.#data = this.#connectData(port);
  }

  /** Starts the data connection to `port` on the control connection's host. */
  #connectData(port: number): Promise<Deno.TcpConn> {
    const connecting = timed(
      Deno.connect({ hostname: this.dataHost, port }),
      this.control.timeoutMs,
      "Timeout (data socket) while connecting",
    );
    connecting.catch(() => {}); // seen by `transfer`, or dropped with `abandonData`
    return connecting;
  }

  abandonData(): void {
    this.#data?.then(closeQuietly, () => {});
    this.#data = undefined;
    this.#prepared = undefined;
  }

  async transfer(request: TransferRequest): Promise<Sent> {
    const connecting = this.#data!;
    this.#data = undefined;
    const state = new TransferState();
    this.#transfer = state;
    try {
      return await runTransfer(this.#link, connecting, request, state);
    } finally {
      this.#transfer = undefined;
    }
  }

  async receive(line: string, max: number): Promise<Uint8Array> {
    const connecting = this.#data!;
    this.#data = undefined;
    const drop = () => void connecting.then(closeQuietly, () => {});
    let reply: Reply;
    try {
      reply = await this.control.send(line, { preliminary: true });
    } catch (e) {
      drop();
      throw e;
    }
    if (!isPreliminary(reply.code)) {
      drop();
      if (isNegative(reply.code)) throw new FTPError(reply);
      throw outOfStep(this, line, reply);
    }
    let data: Deno.TcpConn;
    try {
      data = await connectedData(this.control, connecting);
    } catch (e) {
      this.close(); // the server waits for this connection: out of step
      throw e;
    }
    const listing = await this.#readListing(data, line, max);
    const done = await this.control.read();
    if (isNegative(done.code)) throw new FTPError(done);
    if (!isCompletion(done.code)) throw outOfStep(this, line, done);
    return listing;
  }

  /** Reads a listing's data connection to its end, at most `max` bytes. */
  async #readListing(
    data: Deno.TcpConn,
    line: string,
    max: number,
  ): Promise<Uint8Array> {
    this.control.data = data;
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        this.control.arm(); // each chunk extends the deadline; a stalled listing times out
        const n = await data.read(buf);
        if (n === null) break;
        total += n;
        if (total > max) {
          this.close();
          throw new ProtocolError(`folder listing over ${max} bytes (${line})`);
        }
        chunks.push(buf.slice(0, n));
      }
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      throw this.control.lost(e, false, "data socket");
    } finally {
      this.control.disarm();
      this.control.data = undefined;
      closeQuietly(data);
    }
    return joinChunks(chunks, total);
  }
}
