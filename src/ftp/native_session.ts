/**
 * The plain-FTP transport on Deno's own TCP API: the fast path. Per file an
 * upload costs a handful of short writes and reads, with no stream machinery
 * between the file and the socket (npm basic-ftp, through Node's stream and
 * socket layers, spent about 2 ms of CPU per small file here).
 *
 * @module
 */

import type { FtpLogin } from "./open_session.ts";
import { Control, timed, writeAll } from "./control.ts";
import { FTPError, TransferFailed } from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { type Sent, Session } from "./session.ts";
const CHUNK = 1024 * 1024;

/** Connect, log in, `OPTS UTF8 ON` (any reply is fine), binary mode, FEAT. */
export async function openNativeSession(
  server: FtpLogin,
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
