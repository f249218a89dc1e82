/**
 * The FTPS transport: npm basic-ftp, which does the TLS upgrade (AUTH TLS or
 * implicit). basic-ftp has no REST for uploads, so the shared resume logic
 * in `session.ts` drives the transfer: data connection, then `REST n`, then
 * `STOR`.
 *
 * Data connections under TLS are made here rather than by basic-ftp, for two
 * server quirks:
 * - pyftpdlib closes a data connection that receives anything (a TLS
 *   ClientHello) before the transfer command, and basic-ftp starts TLS as soon
 *   as the TCP connection is up. Here the data connection stays plain TCP
 *   until the `150`/`125` reply to STOR/APPE, then TLS starts (as lftp and
 *   Python's ftplib do); vsftpd, pure-ftpd and proftpd accept that order too.
 * - proftpd (mod_tls defaults) requires each data connection to resume the
 *   control connection's TLS session, and under TLS 1.3 accepts each session
 *   ticket once ("client did not reuse TLS session, rejecting data
 *   connection"). A client would have to offer a fresh ticket per data
 *   connection, but Deno 2.9.6's node:tls emits no `session` event for TLS 1.3
 *   tickets, so every data connection offers the same one. FTPS connections
 *   are therefore capped at TLS 1.2, whose session id every data connection
 *   may resume (clean on proftpd, vsftpd `require_ssl_reuse`, pure-ftpd,
 *   pyftpdlib).
 * - Implicit FTPS: the control connection is TLS over a TCP socket, or vsftpd refuses the
 *   data connections (`basic_ftp_implicit.ts`).
 * - Active mode (`server.active`): the listener is on node:net (`active_node.ts`).
 *
 * @module
 */

import { Client, FTPError as BasicFtpError } from "basic-ftp";
import { downloadTo, uploadFrom } from "basic-ftp/dist/transfer.js";
import { createReadStream } from "node:fs";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, TLSSocket } from "node:tls";
import { pipeline, Writable } from "node:stream";
import { Throttle } from "./bandwidth.ts";
import { throttled } from "./bandwidth_stream.ts";
import { isCertificateFailure, isPrematureClose, VERDICT_MS } from "./tls_data_break.ts";
import { connectImplicitByUpgrade } from "./basic_ftp_implicit.ts";
import type { FtpLogin } from "./login.ts";
import { type Codec, isUtf8, legacyCodec } from "./encoding.ts";
import { useServerEncoding } from "./basic_ftp_encoding.ts";
import { FTPError, ProtocolError, TransferFailed } from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { Session } from "./session.ts";
import { DATA_CONNECT_MS, type EpsvPolicy, PassiveMode } from "./passive.ts";
import { ActiveMode, type ActiveSettings } from "./active.ts";
import { openActiveNode } from "./active_node.ts";
import { withoutPassword } from "./server_text.ts";
import { joinChunks, type Sent, type TransferRequest, type Transport } from "./transport.ts";

/**
 * Connect, TLS as configured, `OPTS UTF8 ON` (errors ignored; not sent to a server in a
 * legacy encoding), login, binary mode, FEAT.
 */
export async function openBasicFtpSession(
  server: FtpLogin,
  timeoutMs: number,
): Promise<Session> {
  const client = new Client(timeoutMs);
  // A legacy code page (`server.encoding`) is loaded only when configured.
  const legacy = isUtf8(server.encoding) ? undefined : await legacyCodec(server.encoding!);
  useServerEncoding(client, legacy);
  connectImplicitByUpgrade(client);
  try {
    await ftpReplies(client.access({
      host: server.host,
      port: server.port,
      user: server.user ?? "anonymous",
      password: server.password ?? (server.user ? "" : "anonymous@"),
      secure: server.secure,
      // TLS 1.2: see the module doc (proftpd's single-use TLS 1.3 tickets).
      secureOptions: { maxVersion: "TLSv1.2" },
    }));
    const feat = await client.sendIgnoringError("FEAT");
    const throttle = server.bandwidth ? new Throttle(server.bandwidth) : undefined;
    const epsv = { epsv: server.epsv, learned: server.epsvLearned };
    const transport = new BasicFtpTransport(client, legacy, throttle, epsv, server.active);
    return new Session(transport, parseFeatures(feat));
  } catch (e) {
    client.close();
    // The login's replies may echo the password: kept out of the error here, and only here.
    throw withoutPassword(e, server.password);
  }
}

/** Commands, replies and data connections through npm basic-ftp. */
export class BasicFtpTransport implements Transport {
  /** basic-ftp writes the data only after the `150`. */
  readonly earlyData = false;
  /**
   * The plain TCP data connection of the next transfer, when the control connection is TLS
   * (still to come from the server in active mode).
   */
  #plainData: Promise<Socket> | undefined;
  /** Active mode, when configured (`active.ts`): the server connects to us. */
  #active?: ActiveMode;
  /** Stops waiting for the next active-mode data connection. */
  #activeClose?: () => void;
  #passive: PassiveMode;
  /** The transfer under way: its count of bytes written so far. */
  #inFlight?: () => number;

  constructor(
    readonly client: Client,
    readonly codec: Codec | undefined = undefined,
    /** The run's upload rate limit (`--bwlimit`), when there is one. */
    readonly throttle: Throttle | undefined = undefined,
    /** EPSV or PASV: `server.epsv`, and what the run learned (`passive.ts`). */
    epsv: EpsvPolicy = {},
    active?: ActiveSettings,
  ) {
    this.#passive = new PassiveMode(epsv);
    const socket = client.ftp.socket;
    if (active && socket.localAddress && socket.remoteAddress) {
      this.#active = new ActiveMode(
        active,
        socket.localAddress,
        socket.remoteAddress,
        client.ftp.timeout,
      );
    }
  }

  get #tls(): TLSSocket | undefined {
    const control = this.client.ftp.socket;
    return control instanceof TLSSocket ? control : undefined;
  }

  get closed(): boolean {
    return this.client.closed;
  }

  close(): void {
    this.client.close();
  }

  get sending(): number {
    return this.#inFlight?.() ?? 0;
  }

  command(line: string): Promise<Reply> {
    return this.client.sendIgnoringError(line);
  }

  async commands(lines: string[]): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const line of lines) replies.push(await this.command(line));
    return replies;
  }

  sizeAfterTransfer(path: string): Promise<Reply> {
    return this.command(`SIZE ${path}`);
  }

  /** basic-ftp sends one command at a time: nothing is pipelined. */
  sendWithNext(): undefined {
    return undefined;
  }

  async flush(): Promise<void> {}

  async openData(): Promise<void> {
    if (!this.#tls) {
      await this.client.prepareTransfer(this.client.ftp);
      return;
    }
    if (this.#active) {
      const opened = await openActiveNode(this.#active, (line) => this.command(line));
      this.#plainData = opened.connecting;
      this.#activeClose = opened.close;
      return;
    }
    // Always to the control connection's address, never a host a PASV reply names.
    const host = this.client.ftp.socket.remoteAddress!;
    const timeout = Math.min(this.client.ftp.timeout, DATA_CONNECT_MS);
    const connect = (port: number) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = tcpConnect({ host, port }, () => {
          socket.setTimeout(0);
          socket.off("error", reject);
          resolve(socket);
        });
        socket.setTimeout(timeout, () => {
          socket.destroy();
          reject(new Error(`Timeout (data socket) while connecting to ${host}:${port}`));
        });
        socket.once("error", reject);
      });
    try {
      // EPSV, or PASV where EPSV's port cannot be reached (`passive.ts`).
      const opened = await this.#passive.open((line) => this.command(line), connect);
      this.#plainData = Promise.resolve(await opened.connecting);
    } catch (e) {
      if (e instanceof FTPError) throw e;
      this.close(); // the server waits for this connection: the session is out of step
      throw e;
    }
  }

  abandonData(): void {
    this.#activeClose?.();
    this.#activeClose = undefined;
    this.#plainData?.then((s) => s.destroy(), () => {});
    this.#plainData = undefined;
    this.client.ftp.dataSocket?.destroy();
    this.client.ftp.dataSocket = undefined;
  }

  async transfer(request: TransferRequest): Promise<Sent> {
    try {
      return await this.#transfer(request);
    } finally {
      this.#inFlight = undefined;
    }
  }

  async #transfer({ verb, remotePath, source: local, start }: TransferRequest): Promise<Sent> {
    if (this.#plainData) return this.#tlsTransfer(verb, remotePath, local.path, start);
    const ftp = this.client.ftp;
    const dataSocket = ftp.dataSocket;
    const source = createReadStream(local.path, { start });
    // Bytes handed to the data connection, not merely read from disk.
    const sent = () => dataSocket?.bytesWritten ?? source.bytesRead;
    this.#inFlight = sent;
    source.once("error", (e: Error) => ftp.closeWithError(e));
    try {
      await uploadFrom(throttled(source, this.throttle), {
        ftp,
        tracker: (this.client as unknown as { _progressTracker: never })._progressTracker,
        command: verb,
        remotePath,
        type: "upload",
      });
      return { read: source.bytesRead, written: sent() };
    } catch (e) {
      throw transferError(e, sent());
    } finally {
      source.destroy();
    }
  }

  /** Over TLS: the transfer command, the file streamed once TLS is up on the data connection. */
  async #tlsTransfer(
    verb: "STOR" | "APPE",
    remotePath: string,
    localPath: string,
    start: number,
  ): Promise<Sent> {
    const source = createReadStream(localPath, { start });
    let data: TLSSocket | undefined;
    const sent = () => data?.bytesWritten ?? 0;
    this.#inFlight = sent;
    try {
      await this.#overTlsData(`${verb} ${remotePath}`, (socket, done, fail) => {
        data = socket;
        socket.once("secureConnect", () => {
          pipeline(throttled(source, this.throttle), socket, (err) => err ? fail(err) : done());
        });
      });
      return { read: source.bytesRead, written: sent() };
    } catch (e) {
      throw transferError(e, sent());
    } finally {
      source.destroy();
    }
  }

  async receive(line: string, max: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    /** Keeps a chunk; the error to stop with when the listing goes over `max`. */
    const keep = (chunk: Uint8Array): Error | undefined => {
      total += chunk.length;
      if (total > max) return new ProtocolError(`folder listing over ${max} bytes (${line})`);
      chunks.push(chunk);
    };
    try {
      if (this.#plainData) {
        await this.#overTlsData(line, (socket, done, fail) => {
          socket.on("data", (chunk: Uint8Array) => {
            const over = keep(chunk);
            if (over) fail(over);
          });
          socket.once("end", done);
        });
      } else {
        await downloadTo(
          new Writable({ write: (chunk, _enc, callback) => callback(keep(chunk)) }),
          {
            ftp: this.client.ftp,
            tracker: (this.client as unknown as { _progressTracker: never })._progressTracker,
            command: line,
            remotePath: "",
            type: "list",
          },
        );
      }
    } catch (e) {
      const err = asReplyError(e);
      // Anything but a refusal leaves the session in an unknown state: not used again.
      if (!(err instanceof FTPError)) this.close();
      throw err;
    }
    return joinChunks(chunks, total);
  }

  /**
   * Over TLS: sends `command`, and starts TLS on the (plain, already connected)
   * data connection only once the server answered 150/125; `use` drives the
   * data connection and calls `done` at its end or `fail`. Resolves on the
   * final 2xx reply after `done`.
   */
  async #overTlsData(
    command: string,
    use: (data: TLSSocket, done: () => void, fail: (e: Error) => void) => void,
  ): Promise<void> {
    const ftp = this.client.ftp;
    const control = this.#tls!;
    const raw = this.#plainData!;
    this.#plainData = undefined;
    const stopWaiting = this.#activeClose;
    this.#activeClose = undefined;
    let started = false;
    let data: TLSSocket | undefined;
    let dataDone = false;
    let reply: Reply | undefined;
    let verdict: ReturnType<typeof setTimeout> | undefined;
    let failure: Error | undefined;
    try {
      await ftp.handle(command, (res, task) => {
        // The data connection broke: the server's reply says why (vsftpd `522 SSL connection
        // failed` once the handshake is done; `426`, `552` mid-transfer), and is what the retry
        // policy must see rather than a network failure. It gets a moment to arrive.
        const dataBroke = (e: Error) => {
          if (failure || isCertificateFailure(e)) return task.reject(e);
          failure = e;
          if (reply) return task.reject(e); // the server took it as complete; this side did not
          verdict = setTimeout(() => task.reject(e), Math.min(ftp.timeout, VERDICT_MS));
        };
        if (res instanceof Error) {
          task.reject(res);
        } else if ((res.code === 150 || res.code === 125) && !started) {
          started = true;
          // Active mode: the server's connection may come after its `150`.
          raw.then((socket) => {
            // The control connection's session, resumed (servers require it: see the module doc).
            const tls = data = tlsConnect({
              ...ftp.tlsOptions,
              socket,
              session: control.getSession(),
            });
            tls.setTimeout(ftp.timeout, () => tls.destroy(new Error("Timeout (data socket)")));
            tls.once("error", dataBroke);
            use(tls, () => {
              dataDone = true;
              if (reply) task.resolve(reply);
            }, (e) => isPrematureClose(e) ? dataBroke(e) : task.reject(e));
          }, (e) => task.reject(e));
        } else if (res.code >= 200 && res.code < 300) {
          reply = { code: res.code, message: res.message };
          if (failure) task.reject(failure);
          else if (dataDone) task.resolve(reply);
        } else if (res.code >= 300) {
          task.reject(new FTPError({ code: res.code, message: res.message }));
        }
      });
    } finally {
      clearTimeout(verdict);
      stopWaiting?.(); // a refused command: the server will not connect
      raw.then((s) => s.destroy(), () => {});
      data?.destroy();
    }
  }
}

/** basic-ftp's error replies as this project's FTPError, so one classifier serves both transports. */
function asReplyError(e: unknown): unknown {
  return e instanceof BasicFtpError ? new FTPError({ code: e.code, message: e.message }) : e;
}

async function ftpReplies<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw asReplyError(e);
  }
}

/** A refusal before any data moved stays an FTPError; anything later is a broken transfer. */
function transferError(e: unknown, sent: number): Error {
  const err = asReplyError(e);
  return err instanceof FTPError && sent === 0 ? err : new TransferFailed(err, sent);
}
