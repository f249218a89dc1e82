/**
 * Checks a folder's files (`checkFile`: one `stat` each) on two threads: a
 * helper worker (`workers/stat_worker.ts`) takes the files of a batch one by
 * one from a shared counter, and so does the walk's own thread when it needs
 * a batch that is not done yet, so neither waits on the other for more than
 * the one `stat` in flight. Batches are handed out a few ahead of the one the
 * walk is at, so the worker checks the next files while the run deals with
 * the ones before (a million files: the `stat`s are most of a dry run).
 *
 * The worker answers only for plain readable files (size, times, inode);
 * anything else (a folder, a missing file, one the mode bits call
 * unreadable) is checked again by `checkFile` here, so the answers are the
 * same as without the worker. The worker is started only for a large walk
 * (small runs do not pay for it) and ended by `close`.
 *
 * @module
 */

import { type CheckedFile, checkFile, processIds } from "./sources.ts";

/** Files per batch handed to the worker. */
const BATCH = 256;
/** Batches handed out ahead of the one the walk is at. */
const AHEAD = 4;
/** Numbers per file in a batch's answer: state, size, mtime, inode, ctime. */
export const FIELDS = 5;
/** Files a walk checks on its own before it starts the worker. */
const START_AFTER = 2000;
/** A folder with fewer files to check is checked here (not worth a batch). */
const MIN_FOLDER = 32;
/** No file done by the worker for this long: it is given up. */
const STUCK_MS = 30_000;

/** One batch: its files, a shared counter (next, done) and the worker's answers. */
interface Batch {
  start: number;
  paths: string[];
  ctl: Int32Array;
  out: Float64Array;
  /** The answers, once the batch is done (checked here or read from `out`). */
  done?: CheckedFile[];
}

/** One batch as the worker gets it (`workers/stat_worker.ts`): paths joined by NUL. */
export interface BatchMessage {
  paths: string;
  ctl: Int32Array;
  out: Float64Array;
}

const DEFAULT_WORKER = new URL("../../../workers/stat_worker.ts", import.meta.url);

/** When the worker starts and who checks; tests change them. */
export interface StatAheadOptions {
  /** Files checked here before the worker starts (2,000). */
  startAfter?: number;
  /** Fewer files in a folder are checked here (32). */
  minFolder?: number;
  /** The walk's thread checks files the worker has not taken yet (true); false: only waits. */
  steal?: boolean;
  /** A worker that finishes nothing for this long is given up (30 s): the walk checks alone. */
  stuckMs?: number;
}

/** What the checks of one walk share: answers counted, and whether the worker was given up. */
interface Shared {
  fromWorker: number;
  stuck: boolean;
}

/** The checks of one walk: starts its worker when the walk turns out large. */
export class StatAhead {
  #worker?: Worker;
  #checked = 0;
  #closed = false;
  /** Answers read from the worker (for tests), and whether it was given up. */
  readonly counts: Shared = { fromWorker: 0, stuck: false };
  /** Stat workers running in this process (for tests: a stopped walk ends its own). */
  static running = 0;

  constructor(readonly o: StatAheadOptions = {}, readonly workerUrl: URL = DEFAULT_WORKER) {}

  /** The checks of one folder's files, in order: `get(i)` for i = 0, 1, … */
  folder(paths: string[]): (i: number) => CheckedFile {
    this.#checked += paths.length;
    if (
      paths.length < (this.o.minFolder ?? MIN_FOLDER) ||
      this.#checked < (this.o.startAfter ?? START_AFTER) || this.#closed || this.counts.stuck
    ) {
      return (i) => checkFile(paths[i]);
    }
    this.#worker ??= this.#start();
    return new FolderChecks(paths, this.#worker, this.o, this.counts).get;
  }

  /** Ends the worker (the walk is over or was stopped). */
  close(): void {
    this.#closed = true;
    if (!this.#worker) return;
    this.#worker.terminate();
    this.#worker = undefined;
    StatAhead.running--;
  }

  #start(): Worker {
    const worker = new Worker(this.workerUrl, { type: "module", name: "ftpbatch-stat" });
    worker.postMessage({ ids: processIds() });
    StatAhead.running++;
    return worker;
  }
}

class FolderChecks {
  #batches: Batch[] = [];
  #posted = 0;

  constructor(
    readonly paths: string[],
    readonly worker: Worker,
    readonly o: StatAheadOptions,
    readonly shared: Shared,
  ) {}

  get = (i: number): CheckedFile => {
    const b = Math.floor(i / BATCH);
    const due = Math.min(b + AHEAD, Math.ceil(this.paths.length / BATCH));
    // The batches due go in one message: posting costs more than the cloning.
    if (this.#posted < due) {
      const batches: BatchMessage[] = [];
      while (this.#posted < due) batches.push(this.#batch(this.#posted++));
      this.worker.postMessage(batches);
    }
    const batch = this.#batches[b];
    const done = batch.done ?? this.#finish(batch);
    if (i - batch.start === batch.paths.length - 1) delete this.#batches[b]; // its last file
    return done[i - batch.start];
  };

  #batch(k: number): BatchMessage {
    const start = k * BATCH;
    const paths = this.paths.slice(start, start + BATCH);
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    const out = new Float64Array(new SharedArrayBuffer(paths.length * FIELDS * 8));
    this.#batches[k] = { start, paths, ctl, out };
    // One string, not a list: cloning costs per value (NUL is in no path).
    return { paths: paths.join("\0"), ctl, out };
  }

  /** Checks what the worker has not taken yet, waits for what it has, and reads its answers. */
  #finish(batch: Batch): CheckedFile[] {
    const { paths, ctl, out } = batch;
    const n = paths.length;
    const mine: (CheckedFile | undefined)[] = new Array(n);
    const steal = this.o.steal ?? true;
    for (let i; (steal || this.shared.stuck) && (i = Atomics.add(ctl, 0, 1)) < n;) {
      mine[i] = checkFile(paths[i]);
      Atomics.add(ctl, 1, 1);
    }
    this.#wait(ctl, n);
    const done = mine as CheckedFile[];
    for (let i = 0; i < n; i++) {
      if (mine[i] !== undefined) continue;
      const o = i * FIELDS;
      if (this.shared.stuck) {
        done[i] = checkFile(paths[i]); // the worker's answers are not waited for: none is taken
        continue;
      }
      this.shared.fromWorker++;
      if (out[o] !== 1) {
        done[i] = checkFile(paths[i]); // not a plain readable file: say exactly why
        continue;
      }
      const file: CheckedFile = { ok: true, size: out[o + 1], mtimeMs: out[o + 2] };
      if (!Number.isNaN(out[o + 3])) file.ino = out[o + 3];
      if (!Number.isNaN(out[o + 4])) file.ctimeMs = out[o + 4];
      done[i] = file;
    }
    batch.done = done;
    return done;
  }

  /**
   * Waits until the batch's files are all done. The worker is on one `stat`
   * at most, so this is short; a worker that finishes nothing for `stuckMs`
   * (a hung file system, a crash) is given up for the rest of the walk, so
   * a run always ends.
   */
  #wait(ctl: Int32Array, n: number): void {
    const limit = this.o.stuckMs ?? STUCK_MS;
    let last = -1;
    let since = 0;
    for (let c; !this.shared.stuck && (c = Atomics.load(ctl, 1)) < n;) {
      if (c !== last) [last, since] = [c, Date.now()];
      else if (Date.now() - since > limit) this.shared.stuck = true;
      Atomics.wait(ctl, 1, c, 50);
    }
  }
}
