/**
 * The plain-FTP transport on Deno's own TCP API: the fast path. Per file an
 * upload costs a handful of short writes and reads, with no stream machinery
 * between the file and the socket (npm basic-ftp, through Node's stream and
 * socket layers, spent about 2 ms of CPU per small file here).
 *
 * @module
 */

import type { WorkerServer } from "./messages.ts";
import {
  FTPError,
  parseFeatures,
  type Reply,
  type Sent,
  Session,
  TransferFailed,
} from "./session.ts";

const encoder = new TextEncoder();
const CHUNK = 1024 * 1024;

/** Connect, log in, `OPTS UTF8 ON` (any reply is fine), binary mode, FEAT. */
export async function openNativeSession(
  server: WorkerServer,
  timeoutMs: number,
): Promise<NativeSession> {
  const conn = await timed(
    Deno.connect({ hostname: server.host, port: server.port }),
    timeoutMs,
    "Timeout (control socket) while connecting",
  );
  conn.setNoDelay(true);
  const control = new Control(conn, timeoutMs);
  try {
    const greeting = await control.read();
    if (greeting.code >= 400) throw new FTPError(greeting);
    const user = server.user ?? "anonymous";
    let reply = await control.send(`USER ${user}`);
    if (reply.code === 331 || reply.code === 332) {
      reply = await control.send(`PASS ${server.password ?? (server.user ? "" : "anonymous@")}`);
    }
    if (reply.code >= 400) throw new FTPError(reply);
    // Servers that answer 5xx here still take UTF-8 names; the reply does not matter.
    await control.send("OPTS UTF8 ON");
    const type = await control.send("TYPE I");
    if (type.code >= 400) throw new FTPError(type);
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

  protected async openData(): Promise<void> {
    let port: number | undefined;
    if (this.#epsv !== false) {
      const reply = await this.command("EPSV");
      const m = reply.code === 229 ? reply.message.match(/\(\|\|\|(\d+)\|\)/) : null;
      this.#epsv = m !== null;
      if (m) port = Number(m[1]);
    }
    if (port === undefined) {
      const reply = await this.command("PASV");
      const m = reply.message.match(/(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/);
      if (reply.code !== 227 || !m) throw new FTPError(reply);
      port = Number(m[5]) * 256 + Number(m[6]);
    }
    const data = await timed(
      Deno.connect({ hostname: this.dataHost, port }),
      this.control.timeoutMs,
      "Timeout (data socket) while connecting",
    ).catch((e) => {
      this.close(); // the server waits for this connection: the session is out of step
      throw e;
    });
    this.#data = data;
  }

  protected abandonData(): void {
    try {
      this.#data?.close();
    } catch { /* already closed */ }
    this.#data = undefined;
  }

  protected async transfer(
    verb: "STOR" | "APPE",
    remotePath: string,
    localPath: string,
    start: number,
  ): Promise<Sent> {
    const data = this.#data!;
    this.#data = undefined;
    let sent = 0;
    try {
      const reply = await this.control.send(`${verb} ${remotePath}`);
      if (reply.code !== 150 && reply.code !== 125) {
        data.close();
        throw new FTPError(reply);
      }
      this.control.data = data;
      const progress = { sent: 0 };
      try {
        await this.#send(data, localPath, start, progress);
      } finally {
        sent = progress.sent;
        this.control.disarm();
        this.control.data = undefined;
      }
      data.close(); // end of file for the server
      // Servers take commands in order and answer this one only after the transfer: asking now
      // saves a round trip per file. Its answer decides nothing before the transfer's own reply.
      await this.control.write(`SIZE ${remotePath}`);
    } catch (e) {
      try {
        data.close();
      } catch { /* already closed */ }
      if (e instanceof FTPError) throw e;
      const cause = this.control.failure(e);
      // The server will answer the broken transfer some time: drop the session rather than
      // read a late reply as the answer to the next command.
      this.control.close();
      throw new TransferFailed(cause, sent);
    }
    let done: Reply;
    let sizeAfter: Reply | undefined;
    try {
      done = await this.control.read();
      sizeAfter = await this.control.read();
    } catch (e) {
      throw new TransferFailed(e, sent);
    }
    if (done.code === 213 && sizeAfter.code !== 213) {
      // A server that reads commands during a transfer answered SIZE before the transfer was
      // done: that size proves nothing, so the caller asks again.
      [done, sizeAfter] = [sizeAfter, undefined];
    }
    if (done.code >= 400) throw new TransferFailed(new FTPError(done), sent);
    return { read: sent, written: sent, ...(sizeAfter ? { sizeAfter } : {}) };
  }

  /**
   * Copies the file from `start` to the data connection, counting in `progress` as it goes.
   * File reads are synchronous on purpose: each connection has its own worker thread, and a
   * sync read from the page cache costs far less than the async calls it replaces.
   */
  async #send(
    data: Deno.Conn,
    localPath: string,
    start: number,
    progress: { sent: number },
  ): Promise<void> {
    const file = Deno.openSync(localPath, { read: true });
    try {
      if (start > 0) file.seekSync(start, Deno.SeekMode.Start);
      const buf = this.#buffer ??= new Uint8Array(CHUNK);
      for (;;) {
        const n = file.readSync(buf);
        if (n === null) return;
        this.control.arm(); // progress: a slow link is fine, a stalled one is not
        progress.sent += await writeAll(data, buf.subarray(0, n));
      }
    } finally {
      file.close();
    }
  }
}

/** The control connection: CRLF lines out, (multi-line) replies in. */
export class Control {
  #decoder = new TextDecoder();
  #text = "";
  #chunk = new Uint8Array(16 * 1024);
  #closed = false;
  // One watchdog per connection instead of a timer per read and write (CPU on the hot path).
  #deadline = 0;
  #timedOut?: string;
  #watchdog: ReturnType<typeof setInterval>;
  /** The data connection in use, closed too when the watchdog fires. */
  data?: Deno.Conn;

  constructor(readonly conn: Deno.TcpConn, readonly timeoutMs: number) {
    this.#watchdog = setInterval(() => {
      if (this.#deadline !== 0 && performance.now() > this.#deadline) {
        this.#timedOut = this.data ? "Timeout (data socket)" : "Timeout (control socket)";
        try {
          this.data?.close();
        } catch { /* already closed */ }
        this.close();
      }
    }, Math.max(50, Math.min(1000, timeoutMs / 4)));
    // Never what keeps a process alive.
    const timer = this.#watchdog as unknown as { unref?: () => void };
    if (typeof timer.unref === "function") timer.unref();
    else Deno.unrefTimer(this.#watchdog as unknown as number);
  }

  /** Starts (or extends, on progress) the time the current operation may take. */
  arm(): void {
    this.#deadline = performance.now() + this.timeoutMs;
  }

  disarm(): void {
    this.#deadline = 0;
  }

  /** The error to report for a failed socket call: the timeout, when that is what closed it. */
  failure(e: unknown): unknown {
    return this.#timedOut ? new Error(this.#timedOut) : e;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async send(line: string): Promise<Reply> {
    await this.write(line);
    return await this.read();
  }

  /** Pipelines commands in one write; reads one reply for each, in order. */
  async sendAll(lines: string[]): Promise<Reply[]> {
    await this.write(...lines);
    const replies: Reply[] = [];
    for (let i = 0; i < lines.length; i++) replies.push(await this.read());
    return replies;
  }

  /** Sends commands (in one write) without waiting; the caller reads the replies, in order. */
  async write(...lines: string[]): Promise<void> {
    if (lines.some((l) => /[\r\n\0]/.test(l))) throw new Error("command contains CR, LF or NUL");
    if (this.#closed) throw new Error("connection closed (control socket)");
    try {
      this.arm();
      await writeAll(this.conn, encoder.encode(lines.map((l) => l + "\r\n").join("")));
    } catch (e) {
      this.close();
      throw this.failure(e);
    }
  }

  /** Reads one reply: `ddd text`, or `ddd-` lines up to the `ddd ` line. */
  async read(): Promise<Reply> {
    const first = await this.#line();
    const code = Number(first.slice(0, 3));
    if (!/^\d{3}[ -]?/.test(first) || Number.isNaN(code)) {
      this.close();
      throw new Error(`unreadable reply (control socket): ${first.slice(0, 80)}`);
    }
    const lines = [first];
    if (first[3] === "-") {
      const end = `${first.slice(0, 3)} `;
      for (;;) {
        const line = await this.#line();
        lines.push(line);
        if (line.startsWith(end) || line === first.slice(0, 3)) break;
      }
    }
    return { code, message: lines.join("\n") };
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#text.indexOf("\n");
      if (i >= 0) {
        const line = this.#text.slice(0, i).replace(/\r$/, "");
        this.#text = this.#text.slice(i + 1);
        return line;
      }
      if (this.#closed) throw new Error("connection closed (control socket)");
      let n: number | null;
      try {
        this.arm();
        n = await this.conn.read(this.#chunk);
      } catch (e) {
        this.close();
        throw this.failure(e);
      } finally {
        this.disarm();
      }
      if (n === null) {
        this.close();
        throw new Error("Server closed connection unexpectedly (control socket)");
      }
      this.#text += this.#decoder.decode(this.#chunk.subarray(0, n), { stream: true });
    }
  }
}

/** Writes all of `bytes`; returns their count. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<number> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  return off;
}

/** Rejects with `message` when `p` takes longer than `ms`; `onTimeout` unblocks the operation. */
function timed<T>(p: Promise<T>, ms: number, message: string, onTimeout?: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } catch { /* already closed */ }
      reject(new Error(message));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
