/**
 * The pool's side of a streamed job source (folder sources, `folder_jobs.ts`):
 * pulls the next chunk of walked files when the queue runs low, has the
 * chunk's new remote folders created (by one worker, parents first) before
 * any of its files is handed out, and fails the files under a folder that
 * could not be created. One chunk is in flight at a time, so memory holds
 * the queue and one chunk, not the walk.
 *
 * @module
 */

import { isUnder } from "../../plan/plan.ts";
import type { UploadJob } from "../../upload/job.ts";
import type { FailedFolder } from "./folders.ts";

/** Files walked since the last chunk and the remote folders they need first (parents first). */
export interface JobChunk {
  dirs: string[];
  jobs: UploadJob[];
}

/** A lazily produced list of jobs: `next()` is called again only after the last call settled. */
export interface JobStream {
  /** The next chunk, or undefined when there is no more. */
  next(): Promise<JobChunk | undefined>;
}

/** Jobs a chunk releases to the queue, and those that fail unsent (their folder failed). */
export interface Release {
  ready: UploadJob[];
  blocked: { job: UploadJob; reason: string }[];
}

const NOTHING: Release = { ready: [], blocked: [] };

/** Queue this long per worker, and the next chunk is pulled. */
const LOW_WATER_PER_WORKER = 64;

export class JobStreamReader {
  #pulling = false;
  #exhausted = false;
  #stopped = false;
  #dirs?: string[];
  #holder?: number;
  #held: UploadJob[] = [];
  #created = new Set<string>();
  #failed: FailedFolder[] = [];

  constructor(readonly stream: JobStream, readonly onError: (message: string) => void) {}

  /** Nothing more will come: the walk is over (or stopped) and no chunk is in flight. */
  get over(): boolean {
    return (this.#exhausted || this.#stopped) && !this.#pulling && this.#dirs === undefined;
  }

  /**
   * Pulls the next chunk when the queue is low and none is in flight.
   * `arrived(count, release)`: `count` new jobs; `release` holds those that
   * can go now and those that fail (under a folder that could not be
   * created); the rest wait for their folders.
   */
  pull(queued: number, workers: number, arrived: (count: number, release: Release) => void) {
    if (this.#pulling || this.#exhausted || this.#stopped || this.#dirs) return;
    if (queued >= Math.max(1, workers) * LOW_WATER_PER_WORKER) return;
    this.#pulling = true;
    this.stream.next().then((chunk) => {
      this.#pulling = false;
      if (!chunk) this.#exhausted = true;
      if (!chunk || this.#stopped) return arrived(0, NOTHING);
      if (chunk.dirs.length > 0) {
        this.#dirs = chunk.dirs;
        this.#held = chunk.jobs;
        return arrived(chunk.jobs.length, NOTHING);
      }
      arrived(chunk.jobs.length, this.#release(chunk.jobs));
    }, (e) => {
      this.#pulling = false;
      this.#exhausted = true;
      this.onError(`walking the folder sources failed: ${e instanceof Error ? e.message : e}`);
      arrived(0, NOTHING);
    });
  }

  /** The folders waiting to be created, for worker `slot`, if nobody has them. */
  takeDirs(slot: number): string[] | undefined {
    if (!this.#dirs || this.#holder !== undefined || this.#stopped) return undefined;
    this.#holder = slot;
    return this.#dirs;
  }

  /** Worker `slot` is creating the current chunk's folders. */
  holds(slot: number): boolean {
    return this.#holder === slot;
  }

  /** The holder finished: the chunk's files go, but those under a failed folder fail. */
  dirsDone(created: string[], failed: FailedFolder[]): Release {
    for (const d of created) this.#created.add(d);
    this.#failed.push(...failed);
    const jobs = this.#held;
    this.#dirs = undefined;
    this.#holder = undefined;
    this.#held = [];
    return this.#release(jobs);
  }

  /** Splits jobs into those that can go and those under a folder that failed (asked in an earlier chunk too). */
  #release(jobs: UploadJob[]): Release {
    if (this.#failed.length === 0) return { ready: jobs, blocked: [] };
    const ready: UploadJob[] = [];
    const blocked: { job: UploadJob; reason: string }[] = [];
    for (const job of jobs) {
      const bad = this.#failed.find((f) => isUnder(job.destination, f.dir));
      if (bad) {
        blocked.push({ job, reason: `could not create remote folder ${bad.dir}: ${bad.error}` });
      } else ready.push(job);
    }
    return { ready, blocked };
  }

  /** The holder was lost: the folders wait for another worker. */
  lost(slot: number): void {
    if (this.#holder === slot) this.#holder = undefined;
  }

  /** No more pulling; returns the jobs held back for their folders (to fail them). */
  stop(): UploadJob[] {
    this.#stopped = true;
    const held = this.#held;
    this.#held = [];
    this.#dirs = undefined;
    this.#holder = undefined;
    return held;
  }

  /** This run created the job's folder: no leftover temporary file can be there. */
  isFresh(job: UploadJob): boolean {
    const slash = job.destination.lastIndexOf("/");
    return this.#created.has(job.destination.slice(0, slash));
  }
}
