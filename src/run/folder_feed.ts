/**
 * Folder sources as a stream of jobs: walks each folder entry in config
 * order (`walk.ts`), names each file's destination (the entry's remote
 * folder + the relative path, NFC), keeps only this shard's files (by each
 * file's destination, like listed files), and hands them to the pool in
 * chunks together with the remote folders they need that no earlier chunk
 * asked for (each folder once, parents first). Empty local folders are
 * created too (by the shard their own path falls in).
 *
 * What it keeps for the report is one small record per file (the report
 * lists every file); the walk itself holds only the folders still to visit.
 *
 * @module
 */

import { join, posix } from "node:path";
import { shardOf } from "../plan/shard.ts";
import type { CheckedSource } from "../plan/plan.ts";
import type { FileEntry, Shard } from "../config/types.ts";
import { looksLikeTempName } from "../config/files.ts";
import { TEMP_MARK } from "../upload/temp_name.ts";
import type { UploadJob } from "../upload/job.ts";
import type { FeedChunk, JobFeed } from "./feed_stage.ts";
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
export type Screen = (jobs: UploadJob[]) => Promise<{
  send: UploadJob[];
  skipped: { job: UploadJob; reason: string }[];
}>;

/** Files per chunk: enough to keep workers busy, small enough that uploads start early. */
const CHUNK_FILES = 256;

export class FolderFeed implements JobFeed {
  /** Per folder source (same order), its walked files in walk order. */
  readonly files: WalkedFile[][];
  readonly tallies: FolderTally[];
  /** Walked files not sent because `screen` found them on the server, by job id, with the reason. */
  readonly skipped = new Map<number, string>();
  /** Said once for the run (report notes): include globs that matched no file. */
  readonly notes: string[] = [];
  #nextId: number;
  #ensured = new Set<string>(["/"]);
  #walks: AsyncGenerator<[number, WalkItem]>;
  #done = false;

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
      screen?: Screen;
      /** Local files never sent (the run's report and lock files). */
      ignore?: Set<string>;
      /** Why a destination cannot be sent in the server's code page (`server.encoding`). */
      unencodable?: (destination: string) => string | undefined;
    },
  ) {
    this.files = folders.map(() => []);
    this.tallies = folders.map(() => ({ symlinks: 0, emptyFolders: 0 }));
    this.#nextId = o.firstId;
    this.#walks = this.#walkAll();
  }

  async next(): Promise<FeedChunk | undefined> {
    if (this.#done) return undefined;
    const chunk: FeedChunk = { dirs: [], jobs: [] };
    while (chunk.jobs.length < CHUNK_FILES) {
      const step = await this.#walks.next();
      if (step.done) {
        this.#done = true;
        break;
      }
      this.#take(step.value[0], step.value[1], chunk);
    }
    if (this.o.screen && chunk.jobs.length > 0) {
      const { send, skipped } = await this.o.screen(chunk.jobs);
      for (const s of skipped) this.skipped.set(s.job.id, s.reason);
      chunk.jobs = send;
    }
    return chunk.jobs.length > 0 || chunk.dirs.length > 0 ? chunk : undefined;
  }

  /** Walks the rest without sending (a dry run, or what a stopped run did not reach). */
  async drain(): Promise<void> {
    while (await this.next());
  }

  async *#walkAll(): AsyncGenerator<[number, WalkItem]> {
    for (let i = 0; i < this.folders.length; i++) {
      const { entry, remote } = this.folders[i];
      // The remote folder itself exists after the run even when nothing is in it.
      if (this.#mine(remote)) yield [i, { kind: "emptyDir", rel: "" }];
      const tree = entry.tree ?? { include: [], exclude: [], followSymlinks: false };
      for await (const item of walkTree(entry.source, tree, this.o.hook)) yield [i, item];
    }
  }

  #mine(destination: string): boolean {
    const { shard } = this.o;
    return !shard || shardOf(destination, shard.count) === shard.index;
  }

  #take(i: number, item: WalkItem, chunk: FeedChunk): void {
    const { entry, remote } = this.folders[i];
    const shard = this.o.shard;
    const rel = "rel" in item ? item.rel : "";
    const destination = rel ? posix.join(remote, rel.normalize("NFC")) : remote;
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
        const rec = this.#record(i, destination, item.path, {
          ok: true,
          size: item.size,
          mtimeMs: 0,
        });
        rec.entry.unencodable = item.reason;
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
        if (!this.#mine(destination) || this.o.listed.has(destination)) return;
        if (this.o.ignore?.has(item.path)) return;
        if (looksLikeTempName(destination)) {
          const reason =
            `has the shape of ftpbatch's temporary names (.<name>${TEMP_MARK}<fingerprint>.part); not sent`;
          this.#record(i, destination, item.path, { ok: false, reason });
          return;
        }
        const rec = this.#record(i, destination, item.path, item.checked);
        const unencodable = this.o.unencodable?.(destination);
        if (unencodable) rec.entry.unencodable = unencodable; // failed in the report, not sent
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
  ): WalkedFile {
    const entry: FileEntry = { index: this.folders[i].entry.index, source, destination };
    const rec = checked.ok
      ? {
        entry,
        ok: true as const,
        size: checked.size,
        mtimeMs: checked.mtimeMs,
        id: this.#nextId++,
      }
      : { entry, ok: false as const, reason: checked.reason, id: this.#nextId++ };
    this.files[i].push(rec);
    return rec;
  }

  /** Adds `dir` and its parents not asked for yet to the chunk's folders, parents first. */
  #need(dir: string, chunk: FeedChunk): void {
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
