/**
 * The embedded server's STOR/APPE, in place of ftp-srv's: ftp-srv treats any
 * data-socket `end` as success (226) and cannot cut at a byte (see the
 * embedded server's header for the cut's shape and why it is a reset).
 *
 * @module
 */
import type { Socket } from "node:net";
import type { Writable } from "node:stream";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { type Connection, fsPathOf } from "./internals.ts";
import type { Faults, FaultUses, ServerStats } from "./test_hooks.ts";

/** The server-wide state a store reads and counts into. */
export interface StoreContext {
  faults: Faults;
  uses: FaultUses;
  stats: ServerStats;
  /** STOR/APPE transfers under way now. */
  transfers: { active: number };
}

/** STOR/APPE: like ftp-srv's handler, plus exact-byte cuts and a 426 for incomplete data. */
export async function store(conn: Connection, path: string, append: boolean, ctx: StoreContext) {
  const { faults, uses, stats, transfers } = ctx;
  const rest = conn.restByteCount ?? 0;
  conn.restByteCount = 0; // REST applies to the next transfer only
  conn.commandSocket.pause(); // no commands during a transfer, as in ftp-srv
  let counted = false;
  try {
    let data: Socket;
    try {
      data = await conn.connector.waitForConnection();
    } catch {
      return await conn.reply(425, "No connection established");
    }
    const { stream: file, clientPath, offset } = conn.fs!.write(path, { append, start: rest });
    counted = true;
    stats.peakTransfers = Math.max(stats.peakTransfers, ++transfers.active);
    const fault = faults.cutDataAt;
    const cutAt = fault && offset <= fault.byte && (fault.path === undefined ||
        (typeof fault.path === "string"
          ? clientPath.includes(fault.path)
          : fault.path.test(clientPath)))
      ? fault
      : undefined;
    await conn.reply(150);
    const complete = await receive(data, file, offset, cutAt, ctx);
    if (!file.writableEnded) file.end();
    await finished(file);
    if (complete && faults.corruptStore && uses.take(faults.corruptStore)) {
      await flipFirstByte(fsPathOf(conn, path));
    }
    await (complete
      ? conn.reply(226, clientPath)
      : conn.reply(426, "Connection closed; transfer aborted"));
  } catch (err) {
    // Error code only: the message would show the local path.
    await conn.reply(550, `Cannot store ${path}: ${(err as { code?: string }).code ?? "error"}`);
  } finally {
    if (counted) transfers.active--;
    conn.connector.end();
    conn.commandSocket.resume();
  }
}

/**
 * The data connection's bytes into `file` from `offset` on, cut at `cutAt.byte` (an RST
 * after the prefix is on disk) and throttled as the faults say. True when it all came.
 */
async function receive(
  data: Socket,
  file: Writable,
  offset: number,
  cutAt: { byte: number; times?: number } | undefined,
  { faults, uses }: StoreContext,
): Promise<boolean> {
  let pos = offset;
  const started = performance.now();
  try {
    for await (const chunk of data as AsyncIterable<Uint8Array>) {
      // Cut only when this upload would write past the byte (and `times` is not spent).
      if (cutAt && pos <= cutAt.byte && pos + chunk.length > cutAt.byte && uses.take(cutAt)) {
        // Prefix on disk first (a reconnecting client's SIZE must see it), then an RST
        // like a network failure.
        const part = chunk.subarray(0, cutAt.byte - pos);
        await new Promise((written) => file.write(part, written));
        data.resetAndDestroy();
        return false;
      }
      pos += chunk.length;
      if (!file.write(chunk)) await once(file, "drain");
      const rate = faults.throttleBytesPerSecond;
      if (rate) {
        const due = started + ((pos - offset) / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    return true;
  } catch {
    return false; // data connection reset by the client: the file is incomplete
  }
}

/** `faults.corruptStore`: the file's first byte flipped, its size kept. */
async function flipFirstByte(fsPath: string): Promise<void> {
  const fd = await Deno.open(fsPath, { read: true, write: true });
  const first = new Uint8Array(1);
  await fd.read(first);
  await fd.seek(0, Deno.SeekMode.Start);
  await fd.write(new Uint8Array([first[0] ^ 0xff]));
  fd.close();
}
