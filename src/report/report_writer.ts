/**
 * Writes a report file while the run goes: the head when the run starts,
 * each file's record as it is decided, the tail at the end. Everything goes
 * to a temporary file next to the target (`<report>.tmp-<ns>-<pid>`), renamed
 * into place only once the tail is written, so a crash or a `kill -9` never
 * leaves half a report under the report's name (an older report there stays
 * whole). Memory holds one buffer, not the records.
 *
 * A write that fails (disk full) is remembered, not thrown: the run goes on,
 * and `finish` says why the report could not be written.
 *
 * A run killed with SIGKILL leaves its temporary file behind. The next run
 * writing the same report removes such leftovers: `<report>.tmp-<pid>-<random>`
 * files untouched for an hour, while a live run touches its own every
 * minute. Age, not the pid, tells them apart: Deno grants no look at `/proc`
 * without `--allow-all`, and a pid means nothing to a run in another
 * container on a shared volume. Nothing else is removed.
 *
 * @module
 */

import {
  fileJson,
  headJson,
  type ReportFile,
  type ReportHead,
  type ReportTail,
  tailJson,
} from "./report.ts";

/** Where a run's records go as they are decided (see `ReportWriter`). */
export interface ReportSink {
  /** The fields known at the start; called once, before any `file`. */
  begin(head: ReportHead): void;
  file(f: ReportFile): void;
}

/** Bytes gathered before one write. */
const FLUSH_AT = 256 * 1024;
/** Records older than this are written out anyway (a slow run's file still grows). */
const FLUSH_AFTER_MS = 1000;

/** How often a live run touches its temporary report (its mtime says it is alive). */
export const HEARTBEAT_MS = 60_000;
/** A temporary report untouched this long is a killed run's (60 missed heartbeats). */
export const STALE_AFTER_MS = 3_600_000;

/** Where a report can go besides a file: standard output. */
export interface ByteStream {
  writeSync(p: Uint8Array): number;
}

export class ReportWriter implements ReportSink {
  /** The temporary file (undefined when writing to a stream). */
  readonly tmp?: string;
  readonly path?: string;
  /** Leftover temporary files of dead runs that `begin` removed (their paths). */
  removed: string[] = [];
  #file?: ByteStream & { close?(): void };
  /** Records encoded and not yet written: bytes, not strings the collector would keep moving. */
  #buffer = new Uint8Array(FLUSH_AT);
  #size = 0;
  #flushedAt = Date.now();
  #count = 0;
  #error?: string;
  #encoder = new TextEncoder();
  #heartbeat?: ReturnType<typeof setInterval>;

  /**
   * `to`: the report's path, or a stream (standard output) written as is.
   * `heartbeatMs`: how often the temporary file is touched (tests shorten it).
   */
  constructor(
    to: string | ByteStream,
    readonly secrets: readonly (string | undefined)[] = [],
    readonly heartbeatMs = HEARTBEAT_MS,
  ) {
    if (typeof to === "string") {
      this.path = to;
      this.tmp = temporaryName(to);
    } else this.#file = to;
  }

  /** How many file records were written so far. */
  get count(): number {
    return this.#count;
  }

  begin(head: ReportHead): void {
    if (this.path) this.removed = removeStaleTemporaries(this.path);
    try {
      if (this.tmp) {
        const file = Deno.openSync(this.tmp, { write: true, create: true, truncate: true });
        this.#file = file;
        this.#heartbeat = setInterval(() => {
          try {
            const now = new Date();
            file.utimeSync(now, now);
          } catch { /* closed: the run is ending */ }
        }, this.heartbeatMs);
        // Never what keeps a run alive.
        const timer = this.#heartbeat as unknown as { unref?: () => void };
        if (typeof timer.unref === "function") timer.unref();
        else Deno.unrefTimer(this.#heartbeat as unknown as number);
      }
    } catch (e) {
      this.#error = (e as Error).message;
    }
    this.#push(headJson(head));
  }

  file(f: ReportFile): void {
    if (this.#error !== undefined) return;
    this.#count++;
    this.#push((this.#count === 1 ? "" : ",") + fileJson(f, this.secrets));
  }

  /**
   * Writes the tail and renames the file into place. Returns the error
   * message, or `undefined` when the report is there, whole.
   */
  finish(tail: ReportTail): string | undefined {
    this.#push(tailJson(tail, this.#count));
    this.#flush();
    if (!this.tmp) return this.#error;
    clearInterval(this.#heartbeat);
    try {
      this.#file?.close?.();
    } catch { /* closed already */ }
    this.#file = undefined;
    if (this.#error === undefined) {
      try {
        Deno.renameSync(this.tmp, this.path!);
        return undefined;
      } catch (e) {
        this.#error = (e as Error).message;
      }
    }
    this.abort();
    return this.#error;
  }

  /** Drops the temporary file (the run could not finish its report). */
  abort(): void {
    if (!this.tmp) return;
    clearInterval(this.#heartbeat);
    try {
      this.#file?.close?.();
    } catch { /* closed already */ }
    this.#file = undefined;
    try {
      Deno.removeSync(this.tmp);
    } catch { /* never created */ }
  }

  #push(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.#size + text.length * 3 > FLUSH_AT) this.#flush();
    if (text.length * 3 > FLUSH_AT) this.#write(this.#encoder.encode(text));
    else this.#size += this.#encoder.encodeInto(text, this.#buffer.subarray(this.#size)).written;
    if (Date.now() - this.#flushedAt >= FLUSH_AFTER_MS) this.#flush();
  }

  #flush(): void {
    this.#write(this.#buffer.subarray(0, this.#size));
    this.#size = 0;
    this.#flushedAt = Date.now();
  }

  #write(bytes: Uint8Array): void {
    if (this.#error !== undefined || !this.#file) return;
    try {
      for (let off = 0; off < bytes.length;) off += this.#file.writeSync(bytes.subarray(off));
    } catch (e) {
      this.#error = (e as Error).message;
    }
  }
}

/** The temporary name a report is written under before it is renamed into place. */
export function temporaryName(path: string, pid = Deno.pid): string {
  return `${path}.tmp-${pid}-${RUN_TAG}`;
}

/** Tells apart runs with one pid (PID 1 in two containers writing to a shared volume). */
const RUN_TAG = Array.from(
  crypto.getRandomValues(new Uint8Array(4)),
  (b) => b.toString(16).padStart(2, "0"),
).join("");

/**
 * Removes the temporary files next to `path` that killed runs left: exactly
 * `<name>.tmp-<pid>-<8 hex digits>`, a plain file, not modified for
 * {@linkcode STALE_AFTER_MS} (a live run touches its own every
 * {@linkcode HEARTBEAT_MS}), and not this run's. Files of an older version's
 * pattern (`<name>.tmp-<pid>`, no heartbeat) are left alone. Returns the
 * paths removed; errors (a folder that cannot be read) remove nothing.
 */
export function removeStaleTemporaries(path: string, now = Date.now()): string[] {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  const prefix = `${path.slice(slash + 1)}.tmp-`;
  const own = temporaryName(path);
  const removed: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isFile || !e.name.startsWith(prefix)) continue;
      if (!/^[1-9][0-9]{0,9}-[0-9a-f]{8}$/.test(e.name.slice(prefix.length))) continue;
      const stale = slash < 0 ? e.name : `${dir === "/" ? "" : dir}/${e.name}`;
      if (stale === own) continue;
      try {
        const mtime = Deno.lstatSync(stale).mtime?.getTime();
        if (mtime === undefined || now - mtime < STALE_AFTER_MS) continue;
        Deno.removeSync(stale);
        removed.push(stale);
      } catch { /* gone already, or not ours to remove */ }
    }
  } catch { /* the folder cannot be read: leave everything */ }
  return removed;
}
