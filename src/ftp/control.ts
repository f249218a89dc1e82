/**
 * The control connection on Deno's TCP: CRLF command lines out, (multi-line)
 * replies in, in order, so commands can be pipelined; one watchdog timer per
 * connection bounds how long any read or write may stall.
 *
 * @module
 */

import type { Reply } from "./reply.ts";

const encoder = new TextEncoder();

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
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<number> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  return off;
}

/** Rejects with `message` when `p` takes longer than `ms`; `onTimeout` unblocks the operation. */
export function timed<T>(
  p: Promise<T>,
  ms: number,
  message: string,
  onTimeout?: () => void,
): Promise<T> {
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
