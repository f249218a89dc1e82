/**
 * A node:net or node:tls socket as a `ByteStream` (`byte_stream.ts`), for
 * FTPS on the native transport: reads are served from the chunks the socket
 * delivered (the socket is paused while a backlog waits), a write resolves
 * once the socket took the bytes (the caller reuses its buffer).
 *
 * `startTls` upgrades the stream in place (the control connection after
 * `AUTH TLS`), so the `Control` over it keeps reading the same object.
 *
 * Loaded only for FTPS: importing node:net or node:tls sets up Node
 * compatibility in the worker, which costs plain FTP's start-up.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import type { ByteStream } from "./byte_stream.ts";

/** Bytes held before the socket is paused (a reader that lags). */
const BACKLOG_BYTES = 1024 * 1024;
/** A closed stream whose peer never answers the close is destroyed after this long. */
const LINGER_MS = 5_000;

/** A node socket as a `ByteStream`. */
export class NodeStream implements ByteStream {
  #socket: Socket;
  #chunks: Uint8Array[] = [];
  #held = 0;
  #ended = false;
  #error?: Error;
  #wake?: () => void;
  /** Writes handed to the socket and not yet taken (a close then destroys at once). */
  #writing = 0;
  /** The latest resumable TLS session the server gave (TLS only). */
  #session?: Buffer;
  /** A TLS handshake is under way (`startTls`): a close cuts it at once. */
  #upgrading = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  get socket(): Socket {
    return this.#socket;
  }

  #listen(socket: Socket): void {
    socket.on("data", (c: Uint8Array) => {
      this.#chunks.push(c);
      this.#held += c.length;
      if (this.#held >= BACKLOG_BYTES) socket.pause();
      this.#wakeUp();
    });
    socket.on("end", () => this.#stop());
    socket.on("close", () => this.#stop());
    socket.on("error", (e: Error) => this.#stop(e));
  }

  #stop(e?: Error): void {
    this.#ended = true;
    this.#error ??= e;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((r) => (this.#wake = r));
    }
    const c = this.#chunks[0];
    const n = Math.min(c.length, p.length);
    p.set(n === c.length ? c : c.subarray(0, n));
    if (n === c.length) this.#chunks.shift();
    else this.#chunks[0] = c.subarray(n);
    this.#held -= n;
    if (this.#held < BACKLOG_BYTES && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended || this.#socket.destroyed) {
      return Promise.reject(new Error("connection closed"));
    }
    this.#writing++;
    return new Promise<number>((resolve, reject) => {
      this.#socket.write(p, (e) => {
        this.#writing--;
        if (e) reject(e);
        else resolve(p.length);
      });
    });
  }

  /**
   * Ends the stream: a TLS close_notify and a FIN after the bytes written (the end of a
   * file for the server); destroyed at once when a write is still pending (a cut transfer).
   */
  close(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (this.#writing > 0 || this.#error || this.#upgrading) {
      socket.destroy();
      return;
    }
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    Deno.unrefTimer(timer);
    socket.once("close", () => clearTimeout(timer));
  }

  /**
   * Starts TLS over this stream's socket (after `AUTH TLS`, or at once for implicit FTPS).
   * Rejects with the TLS error (an untrusted certificate says so in its message).
   */
  async startTls(options: ConnectionOptions, timeoutMs: number): Promise<void> {
    const raw = this.#socket;
    raw.removeAllListeners("data");
    raw.removeAllListeners("end");
    raw.removeAllListeners("close");
    raw.removeAllListeners("error");
    this.#upgrading = true;
    let tls: TLSSocket;
    try {
      tls = await secureSocket(raw, options, timeoutMs);
    } finally {
      this.#upgrading = false;
    }
    tls.on("session", (s: Buffer) => (this.#session = s));
    this.#socket = tls;
    this.#listen(tls);
  }

  /** The session a data connection resumes: the latest the server gave. */
  session(): Buffer | undefined {
    return this.#session ?? (this.#socket as TLSSocket).getSession?.();
  }
}

/** TLS over `raw`, its handshake done within `timeoutMs`; `raw` is destroyed on failure. */
export function secureSocket(
  raw: Socket,
  options: ConnectionOptions,
  timeoutMs: number,
): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const tls = tlsConnect({ ...options, socket: raw }, () => {
      clearTimeout(timer);
      tls.off("error", fail);
      resolve(tls);
    });
    const fail = (e: Error) => {
      clearTimeout(timer);
      tls.destroy();
      raw.destroy();
      reject(e);
    };
    const timer = setTimeout(
      () => fail(new Error("Timeout (TLS handshake)")),
      timeoutMs,
    );
    tls.once("error", fail);
  });
}

/** A TCP connection on node:net (so TLS can start over it later). */
export function connectSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({ host, port }, () => {
      clearTimeout(timer);
      socket.off("error", fail);
      resolve(socket);
    });
    socket.setNoDelay(true);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const timer = setTimeout(
      () => fail(new Error(`Timeout while connecting to ${host}:${port}`)),
      timeoutMs,
    );
    socket.once("error", fail);
  });
}
