/**
 * Folder sources as a stream of jobs: walks each folder entry in config
 * order (`walk.ts`), names each file's destination (the entry's remote
 * folder + the relative path, NFC), keeps only this shard's files (by each
 * file's destination, like listed files), and hands them to the pool in
 * chunks together with the remote folders they need that no earlier chunk
 * asked for (each folder once, parents first). Empty local folders are
 * created too (by the shard their own path falls in).
 *
 * It keeps nothing per file: each walked file goes to `onFile` as it is
 * found (the run tells it when it is decided), and the walk itself holds
 * only the folders still to visit.
 *
 * @module
 */

import { basename, dirname, join, posix } from "node:path";
import { shardOf } from "../../plan/shard.ts";
import type { CheckedSource } from "../../plan/plan.ts";
import type { FileEntry, Shard } from "../../config/types.ts";
import { looksLikeTempName } from "../../config/files.ts";
import { TEMP_MARK } from "../../upload/temp_name.ts";
import type { UploadJob } from "../../upload/job.ts";
import type { JobChunk, JobStream } from "../pool/job_stream_reader.ts";
import { type WalkHook, type WalkItem, walkTree } from "./walk.ts";

/** A folder entry whose source was found to be a folder. */
export interface FolderSource {
  entry: FileEntry;
  /** The remote folder the tree goes under. */
  remote: string;
}

/** One walked file as the report needs it; `id` is its job's id. */
export type WalkedFile = CheckedSource & { id: number };

/** What the walk of one folder entry met, besides its files. */
export interface FolderTally {
  /** Symlinks not followed (`followSymlinks` false, or a loop). */
  symlinks: number;
  /** Empty folders to create remotely (this shard's). */
  emptyFolders: number;
}

/**
 * Decides which of a chunk's jobs to send (the skip rules: what is already on
 * the server is not sent again); the others are reported with the reason.
 */
export type SkipFilter =
  & ((jobs: UploadJob[]) => Promise<{
    send: UploadJob[];
    skipped: { job: UploadJob; reason: string }[];
  }>)
  & {
    /** The walk is over: let go of what the filter holds (its connection). */
    close?: () => Promise<void>;
  };

/** `text` in NFC; plain ASCII (most names) is NFC already, and testing it is cheaper. */
function nfc(text: string): string {
  return ASCII.test(text) ? text : text.normalize("NFC");
}

/** No character above U+007F (control characters are fine here: NFC leaves them alone). */
const ASCII = /^[^\u0080-\uffff]*$/;

/** Entries the count-ahead looks at per turn of the event loop. */
const COUNT_SLICE = 1000;

/** Files per chunk: enough to keep workers busy, small enough that uploads start early. */
const CHUNK_FILES = 256;

export class FolderJobs implements JobStream {
  readonly tallies: FolderTally[];
  /** Walked files not sent because `skipFilter` found them on the server. */
  skippedCount = 0;
  /** Said once for the run (report notes): include globs that matched no file. */
  readonly notes: string[] = [];
  #nextId: number;
  #ensured = new Set<string>(["/"]);
  #walks: Generator<[number, WalkItem]>;
  #done = false;
  #ignoreLengths: Set<number>;
  /** The outputs' names, and (made on first need) their paths with the folder's links resolved. */
  #ignoreNames: Set<string>;
  #ignoreReal?: Set<string>;

  constructor(
    readonly folders: FolderSource[],
    private readonly o: {
      shard?: Shard;
      /** Destinations of listed files: a walked file with one of them is left to the list. */
      listed: Set<string>;
      /** First job id (above every listed entry's index). */
      firstId: number;
      log?: (line: string) => void;
      hook?: WalkHook;
      /** Check the walk's files on two threads (`stat_ahead.ts`): when the walk is the work. */
      statAhead?: boolean;
      skipFilter?: SkipFilter;
      /** Local files never sent (the run's report and lock files). */
      ignore?: Set<string>;
      /** Why a destination cannot be sent in the server's code page (`server.encoding`). */
      unencodable?: (destination: string) => string | undefined;
      /** Each walked file (or unreadable folder) as it is found, before its job is queued. */
      onFile?: (file: WalkedFile) => void;
      /** A walked file `skipFilter` found on the server: not sent, for `reason`. */
      onSkipped?: (id: number, reason: string) => void;
    },
  ) {
    this.tallies = folders.map(() => ({ symlinks: 0, emptyFolders: 0 }));
    this.#ignoreLengths = new Set([...o.ignore ?? []].map((p) => p.length));
    this.#ignoreNames = new Set([...o.ignore ?? []].map((p) => basename(p)));
    this.#nextId = o.firstId;
    this.#walks = this.#walkAll();
  }

  async next(): Promise<JobChunk | undefined> {
    // A chunk whose files were all on the server already is not the end: walk on.
    while (!this.#done) {
      const chunk: JobChunk = { dirs: [], jobs: [] };
      while (chunk.jobs.length < CHUNK_FILES) {
        const step = this.#walks.next();
        if (step.done) {
          this.#done = true;
          break;
        }
        this.#take(step.value[0], step.value[1], chunk);
      }
      if (this.o.skipFilter && chunk.jobs.length > 0) {
        const { send, skipped } = await this.o.skipFilter(chunk.jobs);
        this.skippedCount += skipped.length;
        for (const s of skipped) this.o.onSkipped?.(s.job.id, s.reason);
        chunk.jobs = send;
      }
      if (chunk.jobs.length > 0 || chunk.dirs.length > 0) return chunk;
    }
    return undefined;
  }

  /**
   * Walks the rest without sending (a dry run, or what a run that stopped
   * sending did not reach): each chunk's jobs go to `onJobs` (to be told).
   */
  async drain(onJobs: (jobs: UploadJob[]) => void = () => {}): Promise<void> {
    for (let chunk; (chunk = await this.next());) onJobs(chunk.jobs);
  }

  /**
   * Lets go of the walk (its stat worker, `stat_ahead.ts`) and of the skip
   * filter's connection: the run is over, the walk finished or not.
   */
  async close(): Promise<void> {
    this.#walks.return(undefined);
    await this.o.skipFilter?.close?.();
  }

  /**
   * Counts the files and bytes the walk will report (what `onFile` will be
   * told), walking the folders a second time ahead of the real walk, so the
   * progress line knows the total early. Names and sizes only; a slice of
   * entries per turn of the event loop, so uploads go on meanwhile. Stops
   * when `stopped()` says so.
   */
  async countAhead(
    counted: (files: number, bytes: number, done: boolean) => void,
    stopped: () => boolean,
  ): Promise<void> {
    let files = 0;
    let bytes = 0;
    let seen = 0;
    // Not in the caller's turn: the pool starts its workers first (the first file goes sooner).
    await new Promise((r) => setTimeout(r, 0));
    if (stopped()) return;
    for (const [i, item] of this.#walkAll(false)) {
      const n = this.#counted(i, item);
      if (n) {
        files++;
        bytes += n.bytes;
      }
      if (++seen % COUNT_SLICE === 0) {
        counted(files, bytes, false);
        await new Promise((r) => setTimeout(r, 0));
        if (stopped()) return;
      }
    }
    counted(files, bytes, true);
  }

  /** Whether `#take` will record `item` (a file of the report), and with how many bytes. */
  #counted(i: number, item: WalkItem): { bytes: number } | undefined {
    if (item.kind !== "file" && item.kind !== "unreadable" && item.kind !== "refused") return;
    const destination = this.#destinationOf(i, item.rel);
    if (!this.#mine(destination)) return;
    if (item.kind === "unreadable") return { bytes: 0 };
    if (this.o.listed.has(destination)) return;
    if (item.kind === "refused") return { bytes: item.size };
    if (this.#ignored(i, item.path)) return;
    return { bytes: item.checked.ok && !looksLikeTempName(destination) ? item.checked.size : 0 };
  }

  *#walkAll(hooked = true): Generator<[number, WalkItem]> {
    for (let i = 0; i < this.folders.length; i++) {
      const { entry, remote } = this.folders[i];
      // The remote folder itself exists after the run even when nothing is in it.
      if (this.#mine(remote)) yield [i, { kind: "emptyDir", rel: "" }];
      const tree = entry.tree ?? { include: [], exclude: [], followSymlinks: false };
      // A stat worker helps where the walk is the work (a dry run, the count-ahead); an upload
      // walks only as fast as files go, and would pay for the worker's memory for nothing.
      const stats = !hooked || this.o.statAhead ? {} : { startAfter: Infinity };
      for (const item of walkTree(entry.source, tree, hooked ? this.o.hook : undefined, stats)) {
        yield [i, item];
      }
    }
  }

  /** Left to the listed files (a set lookup hashes the whole path: only when there are any). */
  #listed(destination: string): boolean {
    return this.o.listed.size > 0 && this.o.listed.has(destination);
  }

  /**
   * One of the run's own files (compared by length first: most paths are not one). Under
   * `followSymlinks`, a link in the source may lead to the report's folder: a file named as an
   * output is then compared with its folder's links resolved.
   */
  #ignored(i: number, path: string): boolean {
    if (this.#ignoreLengths.has(path.length) && this.o.ignore!.has(path)) return true;
    if (!this.folders[i].entry.tree?.followSymlinks) return false;
    if (!this.#ignoreNames.has(basename(path))) return false;
    this.#ignoreReal ??= new Set([...this.o.ignore!].map(realFolder));
    return this.#ignoreReal.has(realFolder(path));
  }

  #mine(destination: string): boolean {
    const { shard } = this.o;
    return !shard || shardOf(destination, shard.count) === shard.index;
  }

  /** The remote path of `rel` below folder source `i`. */
  #destinationOf(i: number, rel: string): string {
    const { remote } = this.folders[i];
    // The walk's names are plain (no "." or ".." parts): joined without posix.join's normalizing.
    return rel ? (remote.endsWith("/") ? remote : remote + "/") + nfc(rel) : remote;
  }

  #take(i: number, item: WalkItem, chunk: JobChunk): void {
    const { entry } = this.folders[i];
    const shard = this.o.shard;
    const rel = "rel" in item ? item.rel : "";
    const destination = this.#destinationOf(i, rel);
    switch (item.kind) {
      case "symlink":
        // Counted by the shard its path falls in, so merged shard reports add up.
        if (!this.#mine(destination)) return;
        if (this.tallies[i].symlinks++ === 0 || item.loop || item.again !== undefined) {
          this.o.log?.(`files[${entry.index}]: ${symlinkNote(item)}`);
        }
        return;
      case "refused": {
        if (!this.#mine(destination) || this.o.listed.has(destination)) return;
        // Failed in the report at once, nothing sent: the name cannot be sent as itself.
        this.#record(
          i,
          destination,
          item.path,
          { ok: true, size: item.size, mtimeMs: 0 },
          item.reason,
        );
        return;
      }
      case "unmatched":
        for (const k of item.include) {
          const note = `files[${entry.index}].include[${k}] matched no file${
            shard ? " (in this shard)" : ""
          }; globs match the path below the folder, case included ("sub/**", "**/*.html")`;
          this.notes.push(note);
          this.o.log?.(`warning: ${note}`);
        }
        return;
      case "emptyDir":
        if (!this.#mine(destination)) return;
        if (item.rel) this.tallies[i].emptyFolders++;
        return this.#need(destination, chunk);
      case "unreadable":
        if (!this.#mine(destination)) return;
        this.#record(i, destination, join(entry.source, item.rel), {
          ok: false,
          reason: item.rel ? `folder: ${item.reason}` : item.reason,
        });
        return;
      case "file": {
        if (!this.#mine(destination) || this.#listed(destination)) return;
        if (this.#ignored(i, item.path)) return;
        if (looksLikeTempName(destination)) {
          const reason =
            `has the shape of ftpbatch's temporary names (.<name>${TEMP_MARK}<fingerprint>.part); not sent`;
          this.#record(i, destination, item.path, { ok: false, reason });
          return;
        }
        const unencodable = this.o.unencodable?.(destination);
        const rec = this.#record(i, destination, item.path, item.checked, unencodable);
        if (!item.checked.ok || unencodable) return;
        this.#need(posix.dirname(destination), chunk);
        const { size, mtimeMs, ino, ctimeMs } = item.checked;
        const job: UploadJob = { id: rec.id, source: item.path, destination, size, mtimeMs };
        if (ino !== undefined) job.ino = ino;
        if (ctimeMs !== undefined) job.ctimeMs = ctimeMs;
        chunk.jobs.push(job);
      }
    }
  }

  #record(
    i: number,
    destination: string,
    source: string,
    checked: { ok: true; size: number; mtimeMs: number } | { ok: false; reason: string },
    unencodable?: string,
  ): WalkedFile {
    const entry: FileEntry = { index: this.folders[i].entry.index, source, destination };
    if (unencodable) entry.unencodable = unencodable; // failed in the report, not sent
    const rec = checked.ok
      ? {
        entry,
        ok: true as const,
        size: checked.size,
        mtimeMs: checked.mtimeMs,
        id: this.#nextId++,
      }
      : { entry, ok: false as const, reason: checked.reason, id: this.#nextId++ };
    this.o.onFile?.(rec);
    return rec;
  }

  /** Adds `dir` and its parents not asked for yet to the chunk's folders, parents first. */
  #need(dir: string, chunk: JobChunk): void {
    const missing: string[] = [];
    for (let d = dir; !this.#ensured.has(d); d = posix.dirname(d)) missing.push(d);
    for (let k = missing.length - 1; k >= 0; k--) {
      this.#ensured.add(missing[k]);
      chunk.dirs.push(missing[k]);
    }
  }
}

/** What a symlink item means, for the log line (said for the first and for every loop). */
function symlinkNote(item: { rel: string; loop?: true; again?: string }): string {
  if (item.loop) {
    return `${item.rel} is a symlink loop (it leads back to a folder above it); not followed`;
  }
  if (item.again !== undefined) {
    return `${item.rel} leads to a folder already walked through ${item.again}; not walked again`;
  }
  return `symlinks are not followed (${item.rel}); see the report for the count`;
}

/** `path` with its folder's links resolved (as it is where that cannot be done). */
function realFolder(path: string): string {
  try {
    return join(Deno.realPathSync(dirname(path)), basename(path));
  } catch {
    return path;
  }
}
