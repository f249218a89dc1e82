/**
 * The plain-FTP transport on Deno's own TCP API: the fast path. Per file an
 * upload costs a handful of short writes and reads, with no stream machinery
 * between the file and the socket (npm basic-ftp, through Node's stream and
 * socket layers, spent about 2 ms of CPU per small file here).
 *
 * Per file, on a pipelined connection: the next file's EPSV goes with this
 * file's SIZE (`sizeAfter`), the data connection is opened while the STOR goes
 * out, and a small file's data goes before the `150` (`abilities.earlyData`).
 * Over 350 lines: login, the data connection, the transfer (its replies read
 * while the data goes out) and listings share one control connection's state;
 * the transfer, the hot path, stays readable in one place.
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
import {
  ConnectionLost,
  FTPError,
  LocalFileError,
  ProtocolError,
  TransferFailed,
} from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { EARLY_DATA_BYTES, joinChunks, type LocalSource, type Sent, Session } from "./session.ts";

const CHUNK = 1024 * 1024;
/**
 * How long to wait for the server's word after the data connection broke: a
 * server that runs out of space (`552`, `452`) says so on the control
 * connection and closes the data connection; the reply is what the user needs.
 */
const BROKEN_TRANSFER_REPLY_MS = 2000;

/**
 * Connect, log in, `OPTS UTF8 ON` (any reply is fine; not sent to a server
 * configured with a legacy encoding), binary mode, FEAT.
 */
export async function openNativeSession(
  server: FtpLogin,
  timeoutMs: number,
): Promise<NativeSession> {
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
    return new NativeSession(control, features, (conn.remoteAddr as Deno.NetAddr).hostname);
  } catch (e) {
    control.close();
    throw e;
  }
}

export class NativeSession extends Session {
  /** The data connection being opened for the next transfer (connect under way or done). */
  #data?: Promise<Deno.TcpConn>;
  #epsv?: boolean;
  /** A passive port from an `EPSV` sent with the last file's SIZE, not used yet. */
  #prepared?: number;
  #buffer?: Uint8Array<ArrayBuffer>;

  constructor(
    readonly control: Control,
    features: Map<string, string>,
    /** Data connections go to the control connection's address (never a PASV-given host). */
    readonly dataHost: string,
  ) {
    super(features);
  }

  get codec(): Codec | undefined {
    return this.control.codec;
  }

  get closed(): boolean {
    return this.control.closed;
  }

  close(): void {
    this.abandonData();
    this.control.close();
  }

  protected command(line: string): Promise<Reply> {
    return this.control.send(line);
  }

  protected override commands(lines: string[]): Promise<Reply[]> {
    return this.control.sendAll(lines);
  }

  /**
   * SIZE after a transfer; with `prepare`, the next file's `EPSV` in the same write (safe:
   * the transfer's final reply is in, nothing is open). Its port waits in `#prepared`.
   */
  protected override async sizeAfter(path: string, prepare: boolean): Promise<Reply> {
    if (!prepare || this.#epsv !== true) return await this.command(`SIZE ${path}`);
    this.#prepared = undefined;
    const [size, epsv] = await this.control.sendAll([`SIZE ${path}`, "EPSV"]);
    this.#prepared = epsvPort(epsv);
    return size;
  }

  override rideRename(from: string, to: string, before?: string): Promise<Reply[]> {
    const lines = [`RNFR ${from}`, `RNTO ${to}`];
    return this.control.ride(before === undefined ? lines : [before, ...lines]);
  }

  override async flush(): Promise<void> {
    await this.control.flush();
  }

  /**
   * EPSV, or PASV from the first time a server does not offer EPSV (500/502 to it); a port
   * prepared with the last SIZE is used instead when there is one. The connect is started,
   * not waited for: `transfer` sends its command meanwhile.
   */
  protected async openData(): Promise<void> {
    let port = this.#prepared;
    this.#prepared = undefined;
    if (port === undefined && this.#epsv !== false) {
      const reply = await this.command("EPSV");
      port = epsvPort(reply);
      this.#epsv = port !== undefined;
    }
    if (port === undefined) {
      const reply = await this.command("PASV");
      const m = reply.message.match(/(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/);
      if (reply.code !== Code.PassiveMode || !m) throw new FTPError(reply);
      port = Number(m[5]) * 256 + Number(m[6]);
    }
    const connecting = timed(
      Deno.connect({ hostname: this.dataHost, port }),
      this.control.timeoutMs,
      "Timeout (data socket) while connecting",
    );
    connecting.catch(() => {}); // seen by `transfer`, or dropped with `abandonData`
    this.#data = connecting;
  }

  protected abandonData(): void {
    this.#data?.then(closeQuietly, () => {});
    this.#data = undefined;
    this.#prepared = undefined;
  }

  /**
   * The data connection `openData` started. A failed connect is a cut transfer: the
   * server's word on the control connection is waited for briefly (a session closed
   * meanwhile says so), then the session is closed as out of step.
   */
  async #connected(connecting: Promise<Deno.TcpConn>): Promise<Deno.TcpConn> {
    try {
      return await connecting;
    } catch (e) {
      throw this.control.lost(e, false, "data socket");
    }
  }

  protected async transfer(
    verb: "STOR" | "APPE",
    remotePath: string,
    source: LocalSource,
  ): Promise<Sent> {
    const connecting = this.#data!;
    this.#data = undefined;
    // Only a transfer that fits: for a big file the round trip saved is noise, and a
    // refused or lost STOR would waste more on the wire.
    const early = this.abilities.earlyData !== false && source.length <= EARLY_DATA_BYTES;
    const progress = { read: 0, sent: 0 };
    this.inFlight = () => progress.sent;
    let sending = false;
    let ended = false; // the server has said its last word on this transfer
    let failed = false;
    let data: Deno.TcpConn | undefined;
    let cut: unknown; // why the data did not all go out, when the server had not said first
    // Resolves true when the `150` came, false when the replies ended without one.
    const preliminary = Promise.withResolvers<boolean>();
    // The replies (the `150`, then the final one) are read while the data goes out: a server
    // that gives up mid-transfer (`552` disk full) is heard at once, even one that keeps the
    // data connection open, and a control connection that dies stops the sending.
    const replies = (async () => {
      try {
        const first = await this.control.send(`${verb} ${remotePath}`, { preliminary: true });
        if (!isPreliminary(first.code)) return { first };
        // Reading the `150` took the deadline; the data's progress keeps one from now on.
        if (sending) this.control.arm();
        preliminary.resolve(true);
        return { first, done: await this.control.read({ armed: false }) };
      } finally {
        preliminary.resolve(false);
      }
    })().then(
      (r) => ({ ...r, error: undefined }),
      (error: unknown) => ({ first: undefined, done: undefined, error }),
    ).then((result) => {
      ended = true;
      if (sending || !result.done) {
        // Before the end of the data: whatever the server said, the transfer is over.
        failed = true;
        closeQuietly(data);
      }
      return result;
    });
    const gate = { open: !early, wait: preliminary.promise };
    try {
      data = await this.#connected(connecting);
      // Without early data, nothing goes out unless the `150` came.
      const go = early || await preliminary.promise;
      if (go && !ended) {
        // Registered with the control connection: closing the session (an interrupt) or its
        // watchdog cuts the transfer at once.
        this.control.data = data;
        sending = true;
        await this.#send(data, source.file, progress, gate);
        sending = false;
      }
      closeQuietly(data); // end of file for the server
    } catch (e) {
      sending = false;
      closeQuietly(data);
      if (e instanceof LocalFileError) {
        // The server got a short file and will answer for it: not worth reading.
        this.close();
        throw e;
      }
      failed = true;
      if (!ended) cut = this.control.lost(e, false, "data socket");
    } finally {
      sending = false;
      this.control.data = undefined;
    }
    // The final reply's deadline starts now; after a cut, only a short wait for the server's
    // word: it is what the user needs (`552`), and reading it keeps the session in step.
    this.control.arm(failed ? BROKEN_TRANSFER_REPLY_MS : this.control.timeoutMs);
    const { first, done, error } = await replies;
    this.control.disarm();
    if (error !== undefined) {
      // Closed between commands (nothing of the STOR answered): that says more than the data
      // connection that went down with it.
      const idle = error instanceof ConnectionLost && error.idle;
      throw new TransferFailed(idle ? error : cut ?? error, progress.sent);
    }
    if (first && !isPreliminary(first.code)) {
      // Refused before the transfer began (data sent early went nowhere): the local file
      // is put back where it was, so the same transfer can be tried again.
      if (progress.read > 0) source.file.seekSync(-progress.read, Deno.SeekMode.Current);
      if (isNegative(first.code)) throw new FTPError(first);
      throw new TransferFailed(this.outOfStep(verb, first), 0);
    }
    if (!done) throw new TransferFailed(cut ?? new Error("no final reply"), progress.sent);
    if (isNegative(done.code)) {
      // A server that would not take data sent before its `150` (a `425`/`426` here): wait
      // for the `150` from now on. A `552` turns it off too, which costs only time.
      if (early) this.abilities.earlyData = false;
      throw new TransferFailed(new FTPError(done), progress.sent);
    }
    if (!isCompletion(done.code)) {
      throw new TransferFailed(this.outOfStep(verb, done), progress.sent);
    }
    if (failed) {
      const early = new Error(`the server ended the transfer early: ${done.message}`);
      throw new TransferFailed(cut ?? early, progress.sent);
    }
    return { read: progress.read, written: progress.sent };
  }

  protected async receive(line: string, max: number): Promise<Uint8Array> {
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
      throw this.outOfStep(line, reply);
    }
    let data: Deno.TcpConn;
    try {
      data = await this.#connected(connecting);
    } catch (e) {
      this.close(); // the server waits for this connection: out of step
      throw e;
    }
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
    const done = await this.control.read();
    if (isNegative(done.code)) throw new FTPError(done);
    if (!isCompletion(done.code)) throw this.outOfStep(line, done);
    return joinChunks(chunks, total);
  }

  /**
   * Copies the file to the data connection, counting in `progress` as it goes.
   * File reads are synchronous on purpose: each connection has its own worker thread, and a
   * sync read from the page cache costs far less than the async calls it replaces.
   */
  async #send(
    data: Deno.Conn,
    file: Deno.FsFile,
    progress: { read: number; sent: number },
    /** Until `open` (the `150` came), at most EARLY_DATA_BYTES go out; then `wait` for it. */
    gate: { open: boolean; wait: Promise<boolean> },
  ): Promise<void> {
    const buf = this.#buffer ??= new Uint8Array(CHUNK);
    for (;;) {
      let n: number | null;
      try {
        n = file.readSync(buf);
      } catch (e) {
        throw new LocalFileError(`local file unreadable: ${e instanceof Error ? e.message : e}`);
      }
      if (n === null) return;
      progress.read += n;
      this.control.arm(); // progress: a slow link is fine, a stalled one is not
      // Count each write as it lands: a chunk cut halfway must still count what the kernel took.
      for (let off = 0; off < n;) {
        if (!gate.open && progress.sent >= EARLY_DATA_BYTES) {
          // No `150`, no more data: the reply that came instead says why.
          if (!(await gate.wait)) throw new Error("the server did not start the transfer");
          gate.open = true;
        }
        const end = gate.open ? n : Math.min(n, off + EARLY_DATA_BYTES - progress.sent);
        const w = await data.write(buf.subarray(off, end));
        off += w;
        progress.sent += w;
      }
    }
  }
}

/** The port in a `229 ... (|||port|)` reply; undefined for any other reply. */
function epsvPort(reply: Reply): number | undefined {
  if (reply.code !== Code.ExtendedPassiveMode) return undefined;
  const m = reply.message.match(/\(\|\|\|(\d+)\|\)/);
  return m ? Number(m[1]) : undefined;
}

function closeQuietly(c: Deno.Conn | undefined): void {
  try {
    c?.close();
  } catch { /* already closed */ }
}
