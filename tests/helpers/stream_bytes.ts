/**
 * Byte-stream pieces the test and bench network helpers share (the latency
 * proxy, the raw FTP client, the fault proxy, the scripted server): whole
 * writes, quiet closes, and an FTP control stream split into lines without
 * decoding it.
 *
 * @module
 */

/** Writes all of `data` (a `write` may take part of it). */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Closes `c` unless it is closed already. */
export function closeQuietly(c: { close(): void } | undefined): void {
  try {
    c?.close();
  } catch {
    // closed already
  }
}

/** Sends FIN on `c` unless it is closed or reset already. */
export async function closeWriteQuietly(c: Deno.TcpConn): Promise<void> {
  try {
    await c.closeWrite();
  } catch {
    // closed already or reset
  }
}

/** The parts one after the other. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Longer than this without a line end is not an FTP control line. */
const MAX_LINE = 64 * 1024;

/** Splits a byte stream into lines ending in LF (kept), without decoding. */
export class LineSplitter {
  #buf = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = concat([this.#buf, chunk]);
    const lines: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i < joined.length; i++) {
      if (joined[i] === 0x0a) {
        lines.push(joined.slice(start, i + 1));
        start = i + 1;
      }
    }
    this.#buf = joined.slice(start);
    if (this.#buf.length > MAX_LINE) throw new Error("control line too long");
    return lines;
  }

  /** What is left without a line end (sent as is when the stream ends); taken out. */
  rest(): Uint8Array {
    const rest = this.#buf;
    this.#buf = new Uint8Array(0);
    return rest;
  }
}

/**
 * Accepts connections until `listener` is closed, handing each to `take`; one that arrives
 * once `closing()` says so is closed at once.
 */
export async function acceptAll(
  listener: Deno.TcpListener,
  closing: () => boolean,
  take: (conn: Deno.TcpConn) => void,
): Promise<void> {
  for (;;) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch {
      return; // listener closed
    }
    if (closing()) closeQuietly(conn);
    else take(conn);
  }
}
