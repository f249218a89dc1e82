/**
 * The plain-FTP transport on Deno's own TCP API: the fast path. Per file an
 * upload costs a handful of short writes and reads, with no stream machinery
 * between the file and the socket (npm basic-ftp, through Node's stream and
 * socket layers, spent about 2 ms of CPU per small file here).
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
import { FTPError, LocalFileError, ProtocolError, TransferFailed } from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { joinChunks, type LocalSource, type Sent, Session } from "./session.ts";

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
    let reply = await control.send(`USER ${user}`);
    if (reply.code === Code.UsernameOk || reply.code === Code.NeedAccount) {
      const password = server.password ?? (server.user ? "" : "anonymous@");
      reply = await control.send(`PASS ${password}`).catch((e) => {
        throw e instanceof UnencodableName ? passwordUnencodable(codec!) : e;
      });
    }
    if (isNegative(reply.code)) throw new FTPError(reply);
    control.loggedIn = true;
    // Servers that answer 5xx here still take UTF-8 names; the reply does not matter. A
    // server in a legacy code page is not asked: it could switch to UTF-8 for real.
    if (!codec) await control.send("OPTS UTF8 ON");
    const type = await control.send("TYPE I");
    if (isNegative(type.code)) throw new FTPError(type);
    const features = parseFeatures(await control.send("FEAT"));
    return new NativeSession(control, features, (conn.remoteAddr as Deno.NetAddr).hostname);
  } catch (e) {
    control.close();
    throw e;
  }
}

export class NativeSession extends Session {
  #data?: Deno.TcpConn;
  #epsv?: boolean;
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

  /** EPSV, or PASV from the first time a server does not offer EPSV (500/502 to it). */
  protected async openData(): Promise<void> {
    let port: number | undefined;
    if (this.#epsv !== false) {
      const reply = await this.command("EPSV");
      const m = reply.code === Code.ExtendedPassiveMode
        ? reply.message.match(/\(\|\|\|(\d+)\|\)/)
        : null;
      this.#epsv = m !== null;
      if (m) port = Number(m[1]);
    }
    if (port === undefined) {
      const reply = await this.command("PASV");
      const m = reply.message.match(/(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/);
      if (reply.code !== Code.PassiveMode || !m) throw new FTPError(reply);
      port = Number(m[5]) * 256 + Number(m[6]);
    }
    this.#data = await timed(
      Deno.connect({ hostname: this.dataHost, port }),
      this.control.timeoutMs,
      "Timeout (data socket) while connecting",
    ).catch((e) => {
      // The server waits for this connection: the session is out of step.
      this.close();
      throw this.control.lost(e, false, "data socket");
    });
  }

  protected abandonData(): void {
    closeQuietly(this.#data);
    this.#data = undefined;
  }

  protected async transfer(
    verb: "STOR" | "APPE",
    remotePath: string,
    source: LocalSource,
  ): Promise<Sent> {
    const data = this.#data!;
    this.#data = undefined;
    let reply: Reply;
    try {
      reply = await this.control.send(`${verb} ${remotePath}`, { preliminary: true });
    } catch (e) {
      closeQuietly(data);
      throw new TransferFailed(e, 0);
    }
    if (!isPreliminary(reply.code)) {
      closeQuietly(data);
      if (isNegative(reply.code)) throw new FTPError(reply);
      throw new TransferFailed(this.outOfStep(verb, reply), 0);
    }
    const progress = { read: 0, sent: 0 };
    this.inFlight = () => progress.sent;
    let sending = true;
    let ended = false;
    let failed = false;
    // The final reply is read while the data goes out: a server that gives up mid-transfer
    // (`552` disk full) is heard at once, even one that keeps the data connection open, and
    // a control connection that dies stops the sending.
    const final = this.control.read({ armed: false }).then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    ).then((result) => {
      ended = true;
      if (sending) {
        // Before the end of the data: whatever the server said, the transfer is over.
        failed = true;
        closeQuietly(data);
      }
      return result;
    });
    // Registered with the control connection: closing the session (an interrupt) or its
    // watchdog cuts the transfer at once.
    this.control.data = data;
    let cut: unknown; // why the data did not all go out, when the server had not said first
    try {
      await this.#send(data, source.file, progress);
      sending = false;
      closeQuietly(data); // end of file for the server
    } catch (e) {
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
    const result = await final;
    this.control.disarm();
    if ("error" in result) throw new TransferFailed(cut ?? result.error, progress.sent);
    const done = result.reply;
    if (isNegative(done.code)) throw new TransferFailed(new FTPError(done), progress.sent);
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
    const data = this.#data!;
    this.#data = undefined;
    let reply: Reply;
    try {
      reply = await this.control.send(line, { preliminary: true });
    } catch (e) {
      closeQuietly(data);
      throw e;
    }
    if (!isPreliminary(reply.code)) {
      closeQuietly(data);
      if (isNegative(reply.code)) throw new FTPError(reply);
      throw this.outOfStep(line, reply);
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
        const w = await data.write(buf.subarray(off, n));
        off += w;
        progress.sent += w;
      }
    }
  }
}

function closeQuietly(c: Deno.Conn | undefined): void {
  try {
    c?.close();
  } catch { /* already closed */ }
}
