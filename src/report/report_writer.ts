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
 * A run killed with SIGKILL leaves its temporary file behind; the next run
 * writing the same report removes such leftovers: `<report>.tmp-<ns>-<pid>`
 * of a process that is no longer running in this run's own PID namespace
 * `<ns>`, nothing else. A pid means nothing outside its namespace: two
 * containers sharing a volume each see the other's runs as not running.
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

  /** `to`: the report's path, or a stream (standard output) written as is. */
  constructor(to: string | ByteStream, readonly secrets: readonly (string | undefined)[] = []) {
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
        this.#file = Deno.openSync(this.tmp, { write: true, create: true, truncate: true });
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
  return `${path}.tmp-${pidNamespace() ?? "0"}-${pid}`;
}

let namespace: string | null | undefined;

/**
 * This process's PID namespace (the inode of `/proc/self/ns/pid`), or null
 * where it cannot be read (no `/proc`: not Linux, or hidden).
 */
function pidNamespace(): string | null {
  if (namespace === undefined) {
    try {
      namespace = /^pid:\[(\d+)\]$/.exec(Deno.readLinkSync("/proc/self/ns/pid"))?.[1] ?? null;
    } catch {
      namespace = null;
    }
  }
  return namespace;
}

/**
 * Removes the temporary files next to `path` that a killed run left: exactly
 * `<name>.tmp-<ns>-<pid>`, a plain file, where `<ns>` is this process's PID
 * namespace and process `pid` is not running (`/proc/<pid>`). Where the
 * namespace cannot be read, nothing is removed: a live run's file cannot be
 * told from a dead one's. Nor is a file of an older version's pattern
 * (`<name>.tmp-<pid>`), whose pid may be another namespace's. Returns the
 * paths removed; errors (a folder that cannot be read) remove nothing.
 */
export function removeStaleTemporaries(path: string): string[] {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash) || "/";
  const ns = pidNamespace();
  const removed: string[] = [];
  if (ns === null) return removed;
  const prefix = `${path.slice(slash + 1)}.tmp-${ns}-`;
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isFile || !e.name.startsWith(prefix)) continue;
      const pid = e.name.slice(prefix.length);
      if (!/^[1-9][0-9]{0,9}$/.test(pid) || Number(pid) === Deno.pid || running(pid)) continue;
      const stale = slash < 0 ? e.name : `${dir === "/" ? "" : dir}/${e.name}`;
      try {
        Deno.removeSync(stale);
        removed.push(stale);
      } catch { /* gone already, or not ours to remove */ }
    }
  } catch { /* the folder cannot be read: leave everything */ }
  return removed;
}

function running(pid: string): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound); // cannot tell: keep its file
  }
}
