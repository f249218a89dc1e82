/**
 * The control connection on Deno's TCP: CRLF command lines out, (multi-line)
 * replies in, in order, so commands can be pipelined. The bytes are turned
 * into replies by `reply_parser.ts` (which caps a line and a reply); here the
 * preliminary (1xx) replies before a final one are capped, and each reply
 * has a deadline (`timeoutMs` from when the client starts waiting for it,
 * however slowly its bytes drip in). One watchdog timer per connection
 * enforces the deadlines and a data connection's inactivity limit.
 *
 * Pipelined commands (`sendWithNext`): queued to go out in front of the next write, so
 * one file's rename travels with the next file's `STOR` instead of costing a
 * round trip of its own; their replies are read, in order, before the reply
 * of anything sent after them.
 *
 * Names travel in the server's encoding: UTF-8 unless a legacy code page's
 * `Codec` is given (`encoding.ts`); the UTF-8 path never touches the codec.
 *
 * Errors: `ConnectionLost` when the connection is gone (closed, reset, timed
 * out, or closed here because the replies got out of step), `ProtocolError`
 * for a reply that is unreadable or over a cap; either way the connection is
 * closed and never used again.
 *
 * @module
 */

import { Code, isPreliminary } from "./codes.ts";
import { ConnectionLost, ProtocolError } from "./errors.ts";
import type { ByteStream } from "./byte_stream.ts";
import type { Codec } from "./encoding.ts";
import type { Reply } from "./reply.ts";
import { ReplyParser } from "./reply_parser.ts";
import { writeBytes } from "./trailing.ts";

const encoder = new TextEncoder();
/** Most preliminary (1xx) replies skipped while waiting for one final reply. */
const MAX_PRELIMINARY = 16;

/** How to read a reply. */
export interface ReadOptions {
  /** Return a 1xx reply instead of skipping it (STOR/APPE: the 150 that opens the transfer). */
  preliminary?: boolean;
  /**
   * `false`: no deadline of its own; the caller keeps one with `arm` (the final reply of
   * a transfer, read while the data goes out and the data's progress extends the deadline).
   */
  armed?: boolean;
}

/** Commands queued to go out in front of a later write, and where their replies go. */
interface Pipelined {
  lines: string[];
  replies: Reply[];
  resolve(replies: Reply[]): void;
  reject(e: unknown): void;
}

/** The control connection: CRLF lines out, (multi-line) replies in. */
export class Control {
  /** Queued by `sendWithNext`, not sent yet. */
  #queued: Pipelined[] = [];
  /** Sent; their replies come before those of anything sent after them. */
  #awaitingReplies: Pipelined[] = [];
  #parser: ReplyParser;
  #chunk = new Uint8Array(16 * 1024);
  #closed = false;
  // One watchdog per connection instead of a timer per read and write (CPU on the hot path).
  #deadline = 0;
  #timedOut?: string;
  #watchdog: ReturnType<typeof setInterval>;
  /** Final replies still expected for commands sent (the greeting counts as one). */
  #pending = 1;
  /** Commands went out with no reply expected and nothing buffered, and no byte has come back since. */
  #quiet = false;
  /** The data connection in use: closed with the control connection, and when the watchdog fires. */
  data?: ByteStream;
  /**
   * Set once logged in: from then on a `421` reply means the server is closing the
   * connection (vsftpd's `421 Timeout.`, ProFTPD's `421 Idle timeout`), reported as
   * ConnectionLost. Before, a 421 is a login refusal ("too many users") the caller reads.
   */
  loggedIn = false;

  /** `codec`: the server's legacy code page; absent = UTF-8. */
  constructor(readonly conn: ByteStream, readonly timeoutMs: number, readonly codec?: Codec) {
    this.#parser = new ReplyParser(codec?.decoder());
    this.#watchdog = setInterval(() => {
      if (this.#deadline !== 0 && performance.now() > this.#deadline) {
        this.#timedOut = this.data ? "Timeout (data socket)" : "Timeout (control socket)";
        this.close();
      }
    }, Math.max(50, Math.min(1000, timeoutMs / 4)));
    // Never what keeps a process alive.
    const timer = this.#watchdog as unknown as { unref?: () => void };
    if (typeof timer.unref === "function") timer.unref();
    else Deno.unrefTimer(this.#watchdog as unknown as number);
  }

  /** Starts (or extends, on progress) the time a data transfer may stall, or a reply take. */
  arm(ms = this.timeoutMs): void {
    this.#deadline = performance.now() + ms;
  }

  disarm(): void {
    this.#deadline = 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection and its data connection at once (an interrupt cuts the transfer). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    const lost = this.lost(undefined);
    for (const r of this.#queued.splice(0).concat(this.#awaitingReplies.splice(0))) r.reject(lost);
    for (const c of [this.data, this.conn]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
  }

  /** What a failed socket call means: the timeout or the close that caused it, else `e`. */
  lost(e: unknown, idle = false, socket = "control socket"): ConnectionLost {
    if (e instanceof ConnectionLost) return e;
    if (this.#timedOut) return new ConnectionLost(this.#timedOut);
    if (this.#closed) return new ConnectionLost(`connection closed (${socket})`);
    const text = e instanceof Error ? e.message : String(e);
    return new ConnectionLost(`${text} (${socket})`, idle);
  }

  /** Closes the connection and returns `e` to throw. */
  #fail<E>(e: E): E {
    this.close();
    return e;
  }

  async send(line: string, options?: ReadOptions): Promise<Reply> {
    await this.write(line);
    return await this.read(options);
  }

  /** Pipelines commands in one write; reads one final reply for each, in order. */
  async sendAll(lines: string[]): Promise<Reply[]> {
    await this.write(...lines);
    const replies: Reply[] = [];
    for (let i = 0; i < lines.length; i++) replies.push(await this.read());
    return replies;
  }

  /**
   * Queues `lines` to go out in front of the next write (or `flush`); resolves with their
   * replies (negative ones too), rejects when the connection is lost first.
   */
  sendWithNext(lines: string[]): Promise<Reply[]> {
    if (lines.some((l) => /[\r\n\0]/.test(l))) throw new Error("command contains CR, LF or NUL");
    // A name the code page lacks throws UnencodableName now, not in some later write.
    if (this.codec) this.codec.encode(lines.join("\r\n"));
    if (this.#closed) return Promise.reject(this.lost(undefined));
    const { promise, resolve, reject } = Promise.withResolvers<Reply[]>();
    // Never an unhandled rejection: a caller that stopped waiting learns nothing new from it.
    promise.catch(() => {});
    this.#queued.push({ lines, replies: [], resolve, reject });
    return promise;
  }

  /** Bytes the queued pipelined commands take in the next write (UTF-8, CRLFs included). */
  get queuedBytes(): number {
    let n = 0;
    for (const group of this.#queued) n += writeBytes(group.lines);
    return n;
  }

  /** Sends the queued pipelined commands on their own and reads their replies. */
  async flush(): Promise<void> {
    if (this.#queued.length === 0 && this.#awaitingReplies.length === 0) return;
    if (this.#queued.length > 0) await this.write();
    await this.#drain();
  }

  /** Sends commands (in one write) without waiting; the caller reads the replies, in order. */
  async write(...own: string[]): Promise<void> {
    if (own.some((l) => /[\r\n\0]/.test(l))) throw new Error("command contains CR, LF or NUL");
    if (this.#closed) throw this.lost(undefined);
    const pipelined = this.#queued;
    const lines = pipelined.flatMap((r) => r.lines).concat(own);
    const text = lines.map((l) => l + "\r\n").join("");
    // Before anything is counted or sent: a name the code page lacks throws UnencodableName.
    const bytes = this.codec ? this.codec.encode(text) : encoder.encode(text);
    this.#queued = [];
    this.#awaitingReplies.push(...pipelined);
    if (this.#pending === 0 && this.#parser.buffered) {
      // Bytes nobody asked for: a reply to come would be matched to the wrong command.
      throw this.#fail(
        new ConnectionLost(`reply out of step (control socket): ${this.#parser.head}`),
      );
    }
    this.#quiet = this.#pending === 0;
    this.#pending += lines.length;
    try {
      this.arm();
      await writeAll(this.conn, bytes);
    } catch (e) {
      throw this.#fail(this.lost(e, this.#quiet));
    } finally {
      this.disarm();
    }
  }

  /**
   * Reads one final reply (1xx replies before it skipped, unless `preliminary`),
   * within one deadline however slowly it arrives.
   */
  async read(options: ReadOptions = {}): Promise<Reply> {
    await this.#drain();
    return await this.#final(options);
  }

  /** Reads the replies expected for pipelined commands already sent, and hands them over. */
  async #drain(): Promise<void> {
    if (this.#awaitingReplies.length === 0) return;
    while (this.#awaitingReplies.length > 0) {
      const group = this.#awaitingReplies[0];
      try {
        while (group.replies.length < group.lines.length) group.replies.push(await this.#final());
      } catch (e) {
        for (const r of this.#awaitingReplies.splice(0)) r.reject(e);
        throw e;
      }
      this.#awaitingReplies.shift();
      group.resolve(group.replies);
    }
    // Every reply expected before the caller's commands is in: a connection found closed now,
    // with nothing more come back, was closed between commands (as when nothing was pipelined).
    this.#quiet = !this.#parser.buffered;
  }

  async #final(options: ReadOptions = {}): Promise<Reply> {
    const quiet = this.#quiet;
    if (options.armed !== false) this.arm();
    try {
      for (let skipped = 0;; skipped++) {
        const reply = await this.#reply();
        this.#quiet = false;
        if (isPreliminary(reply.code)) {
          if (options.preliminary) return reply;
          if (skipped >= MAX_PRELIMINARY) {
            throw this.#fail(new ProtocolError(`more than ${MAX_PRELIMINARY} 1xx replies`));
          }
          continue;
        }
        this.#pending--;
        if (this.loggedIn && reply.code === Code.ServiceNotAvailable) {
          throw this.#fail(new ConnectionLost(reply.message, quiet));
        }
        return reply;
      }
    } finally {
      this.disarm();
    }
  }

  /** One reply, 1xx or final, read as far as it takes. */
  async #reply(): Promise<Reply> {
    for (;;) {
      let reply: Reply | undefined;
      try {
        reply = this.#parser.next();
      } catch (e) {
        throw this.#fail(e);
      }
      if (reply) return reply;
      if (this.#closed) throw this.lost(undefined);
      let n: number | null;
      try {
        n = await this.conn.read(this.#chunk);
      } catch (e) {
        throw this.#fail(this.lost(e, this.#quiet));
      }
      if (n === null) {
        throw this.#fail(
          this.lost(new Error("Server closed connection unexpectedly"), this.#quiet),
        );
      }
      this.#quiet = false;
      this.#parser.push(this.#chunk.subarray(0, n));
    }
  }
}

/** Writes all of `bytes`; returns their count. */
async function writeAll(conn: ByteStream, bytes: Uint8Array): Promise<number> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  return off;
}

/** Rejects with `message` when `p` takes longer than `ms`. */
export function timed<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
