/**
 * The native transport, on Deno's own TCP API for plain FTP and on node:tls
 * for FTPS (through the `ByteStream` seam, `byte_stream.ts`; FTPS's data
 * connections are made and secured by a `DataLink`, `native_ftps.ts`, and
 * carry no early data; their TLS starts after the `150`, or with the
 * connection where the server holds it, `early_tls.ts`): the fast path. Per file an
 * upload costs a handful of short writes and reads, with no stream machinery
 * between the file and the socket (npm basic-ftp, through Node's stream and
 * socket layers, spent about 2 ms of CPU per small file here).
 *
 * Pipelining, per file: the next file's EPSV goes in one write with this
 * file's SIZE (`sizeAfterTransfer`, once the `226` is in); the time command
 * and RNFR/RNTO of the last file go out in the write of the next STOR
 * (`sendWithNext`); the data connection is opened while the STOR goes out, and a
 * small file's data goes before the `150` (`native_transfer.ts`). Nothing is
 * sent while a transfer is open: pure-ftpd answers `500 Unknown command` to a
 * command that arrives then, and drops it. Where the server was seen to hold
 * them (`trailing.ts`), this file's SIZE and the next file's EPSV go in the
 * STOR's own write instead, and `sizeAfterTransfer` returns the SIZE's reply.
 *
 * A data connection is made in one place: `openData` picks the port
 * (`passive.ts`, or the EPSV prepared with the last SIZE) and `#connectData`
 * connects, within the control timeout. The file's bytes go out in one loop,
 * `copyFile` in `native_transfer.ts`.
 *
 * @module
 */

import { Throttle } from "./bandwidth.ts";
import { type ActiveData, ActiveMode, type ActiveSettings } from "./active.ts";
import { isCompletion, isNegative, isPreliminary } from "./codes.ts";
import { type Control, timed } from "./control.ts";
import type { ByteStream, DataLink } from "./byte_stream.ts";
import type { Codec } from "./encoding.ts";
import { ConnectionLost, FTPError, ProtocolError } from "./errors.ts";
import type { Reply } from "./reply.ts";
import { DATA_CONNECT_MS, type EpsvPolicy, epsvPort, PassiveMode } from "./passive.ts";
import {
  joinChunks,
  outOfStep,
  type Sent,
  type TransferRequest,
  type Transport,
} from "./transport.ts";
import { Trail, TRAIL_WRITE_MAX, writeBytes } from "./trailing.ts";
import { type EarlyTlsRequest, probeHeld, secureEarly } from "./early_tls.ts";
import {
  closeQuietly,
  connectedData,
  runTransfer,
  type TransferLink,
  TransferState,
} from "./native_transfer.ts";

/** The copy buffer of a transfer: one per connection, taken from the file in one read. */
const CHUNK = 1024 * 1024;

/** How a native transport's data connections are made and paced. */
export interface NativeOptions {
  /** The run's upload rate limit (`--bwlimit`), when there is one. */
  throttle?: Throttle;
  /** EPSV or PASV: `server.epsv`, and what the run learned (`passive.ts`). */
  epsv?: EpsvPolicy;
  /** Active mode (`active.ts`): the server connects to `localHost`. */
  active?: ActiveSettings;
  /** The control connection's local address (active mode listens there). */
  localHost?: string;
  /** FTPS: how data connections are made and secured (`native_ftps.ts`); Deno TCP without. */
  data?: DataLink;
}

/** Commands, replies and data connections on Deno's TCP. */
export class NativeTransport implements Transport {
  /** A small file's data goes before the `150`; not over FTPS (TLS starts after it). */
  readonly earlyData: boolean;
  /** FTPS in passive mode: a data connection's TLS may start with it (`early_tls.ts`). */
  readonly earlyTls: boolean;
  /** Early-TLS probes by what they saw, and data connections secured early (what tests look at). */
  readonly earlyTlsCounts = { held: 0, refused: 0, begun: 0 };
  /** The early TLS of the data connection opened for the next transfer. */
  #tls?: EarlyTlsRequest;
  /** The data connection being opened for the next transfer (connect under way or done). */
  #data?: Promise<ByteStream>;
  /** FTPS data connections; plain Deno TCP when absent. */
  #dataLink?: DataLink;
  #passive: PassiveMode;
  /** Active mode, when configured: the server connects to us. */
  #active?: ActiveMode;
  /** The listener of the next active-mode data connection. */
  #activeData?: ActiveData;
  /** A passive port from an `EPSV` sent with the last file's SIZE, not used yet. */
  #prepared?: number;
  #buffer?: Uint8Array<ArrayBuffer>;
  /** The transfer under way. */
  #transfer?: TransferState;
  #link: TransferLink;
  readonly trailing = true;
  /** Transfers that carried trailing commands, by kind (what tests look at). */
  readonly trails = { probe: 0, size: 0 };
  /** The reply of the SIZE that trailed the last transfer, for `sizeAfterTransfer`. */
  #trailed?: { path: string; reply: Reply };

  constructor(
    readonly control: Control,
    /** Data connections go to the control connection's address (never a PASV-given host). */
    readonly dataHost: string,
    options: NativeOptions = {},
  ) {
    this.#passive = new PassiveMode(options.epsv);
    this.#dataLink = options.data;
    this.earlyData = !options.data;
    this.earlyTls = !!options.data && !options.active;
    if (options.active) {
      this.#active = new ActiveMode(
        options.active,
        options.localHost ?? "127.0.0.1",
        dataHost,
        control.timeoutMs,
      );
    }
    this.#link = {
      control,
      transport: this,
      buffer: () => this.#buffer ??= new Uint8Array(CHUNK),
      throttle: options.throttle,
      data: options.data,
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
    // Only once an EPSV data connection has been opened here (`passive.ts`).
    const trailed = this.#trailed;
    this.#trailed = undefined;
    if (trailed?.path === path) return trailed.reply;
    if (!nextFollows || !this.#passive.proven) return await this.command(`SIZE ${path}`);
    this.#prepared = undefined;
    const [size, epsv] = await this.control.sendAll([`SIZE ${path}`, "EPSV"]);
    this.#prepared = epsvPort(epsv);
    return size;
  }

  sendWithNext(lines: string[]): Promise<Reply[]> {
    return this.control.sendWithNext(lines);
  }

  async flush(): Promise<void> {
    await this.control.flush();
  }

  /**
   * EPSV or PASV (`passive.ts`), or the port prepared with the last SIZE. The connect is
   * started, not waited for: `transfer` sends its command meanwhile. With `tls` (FTPS), TLS
   * starts on it at once (`early_tls.ts`; a probe waits NOOP round trips first).
   */
  async openData(tls?: EarlyTlsRequest): Promise<void> {
    this.#tls = undefined;
    if (this.#active) {
      this.#activeData = await this.#active.open((line) => this.command(line));
      this.#data = this.#activeData.connecting;
      return;
    }
    const port = this.#prepared;
    this.#prepared = undefined;
    if (port !== undefined) {
      this.#data = this.#connectData(port);
    } else await this.#openPassive();
    if (tls && this.earlyTls) await this.#secureEarly(tls);
  }

  /** EPSV or PASV, and the connect to its port started. */
  async #openPassive(): Promise<void> {
    try {
      const opened = await this.#passive.open(
        (line) => this.command(line),
        (p) => this.#connectData(p),
      );
      this.#data = opened.connecting;
    } catch (e) {
      if (e instanceof FTPError || e instanceof ConnectionLost) throw e;
      // Neither EPSV's nor PASV's port could be reached: a network failure.
      throw this.control.lost(e, false, "data socket");
    }
  }

  /**
   * TLS on the data connection now. A probe that sees it refused abandons the connection
   * and opens another, secured after the `150` as before.
   */
  async #secureEarly(tls: EarlyTlsRequest): Promise<void> {
    const raw = this.#data!;
    const link = this.#dataLink!;
    const secured = secureEarly(raw, (c) => link.secure(c), tls);
    if (tls.mode === "probe" && !(await probeHeld(this.control, raw, secured, tls))) {
      this.earlyTlsCounts.refused++;
      void secured.then(closeQuietly, () => {});
      this.abandonData();
      await this.openData();
      return;
    }
    if (tls.mode === "probe") this.earlyTlsCounts.held++;
    this.earlyTlsCounts.begun++;
    this.#data = secured;
    this.#tls = tls;
  }

  /** Starts the data connection to `port` on the control connection's host. */
  #connectData(port: number): Promise<ByteStream> {
    const connecting = timed<ByteStream>(
      this.#dataLink?.connect(this.dataHost, port) ??
        Deno.connect({ hostname: this.dataHost, port }),
      Math.min(this.control.timeoutMs, DATA_CONNECT_MS),
      "Timeout (data socket) while connecting",
    );
    connecting.catch(() => {}); // seen by `transfer`, or dropped with `abandonData`
    return connecting;
  }

  abandonData(): void {
    this.#activeData?.close();
    this.#activeData = undefined;
    this.#data?.then(closeQuietly, () => {});
    this.#data = undefined;
    this.#prepared = undefined;
    // An early handshake under way is cut now, not left to its timeout.
    if (this.#tls?.phase === "connected") closeQuietly(this.#tls.raw);
    this.#tls = undefined;
  }

  async transfer(request: TransferRequest): Promise<Sent> {
    const connecting = this.#data!;
    this.#data = undefined;
    const tls = this.#tls;
    this.#tls = undefined;
    const state = new TransferState();
    this.#transfer = state;
    const active = this.#activeData;
    this.#activeData = undefined;
    // Active mode: a transfer refused before its `150` gets no connection from the server.
    if (active) state.preliminary.promise.then((started) => started || active.close());
    this.#trailed = undefined;
    const trail = this.#trail(request);
    try {
      const sent = await runTransfer(this.#link, connecting, request, state, trail, tls);
      if (tls?.phase === "secured") tls.outcome ??= "held";
      const size = trail?.request.outcome === "held" ? trail.size : undefined;
      if (size) this.#trailed = { path: request.remotePath, reply: size };
      return sent;
    } finally {
      this.#transfer = undefined;
      // The server's passive port now is the trailing EPSV's, also after a refused STOR.
      if (trail?.epsv && !this.closed) this.#prepared = epsvPort(trail.epsv);
    }
  }

  /**
   * The commands to trail `request`'s STOR, as asked: none in a write too big to arrive in
   * one piece with it (`trailing.ts`), nor in a legacy code page (counted in UTF-8 here).
   */
  #trail(request: TransferRequest): Trail | undefined {
    if (!request.trail || this.control.codec) return undefined;
    const epsv = !this.#active && this.#passive.proven;
    const trail = new Trail(request.trail, request.remotePath, epsv);
    const own = [`${request.verb} ${request.remotePath}`, ...trail.lines];
    if (this.control.queuedBytes + writeBytes(own) > TRAIL_WRITE_MAX) return undefined;
    this.trails[request.trail.mode]++;
    return trail;
  }

  async receive(line: string, max: number): Promise<Uint8Array> {
    // A listing's data connection is secured after the `150` (`openData` without `tls`).
    const connecting = this.#data!;
    this.#data = undefined;
    const active = this.#activeData;
    this.#activeData = undefined;
    const drop = () => {
      active?.close();
      void connecting.then(closeQuietly, () => {});
    };
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
    let data: ByteStream;
    try {
      data = await connectedData(this.control, connecting);
      if (this.#dataLink) data = await this.#dataLink.secure(data);
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
    data: ByteStream,
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
