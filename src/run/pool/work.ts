/**
 * What is left to do in a run and who holds it: the ledger of files
 * (`ledger.ts`), the folder phase (`folders.ts`), the files walked from folder
 * sources (`job_stream_reader.ts`), and whether the server said it is full. The pool
 * (`pool.ts`) asks it what to give a ready worker and hands back what a lost
 * worker held; it never sends or records anything itself.
 *
 * @module
 */

import { batchSize } from "../../plan/plan.ts";
import type { UploadJob } from "../../upload/job.ts";
import { type JobStream, JobStreamReader, type Release } from "./job_stream_reader.ts";
import { FolderPhase } from "./folders.ts";
import { Ledger } from "./ledger.ts";

/** What a ready worker gets: folders to create (`group`: of the folder phase) or files. */
export type Task =
  | { type: "mkdirs"; dirs: string[]; group: boolean }
  | { type: "jobs"; jobs: UploadJob[] };

export class Work {
  readonly ledger = new Ledger<UploadJob>();
  readonly folders: FolderPhase;
  readonly stream?: JobStreamReader;
  /** Set once the server said it is full: the reason unsent files get. */
  full?: string;

  constructor(jobs: UploadJob[], stream: JobStream | undefined, log: (line: string) => void) {
    this.ledger.add(jobs);
    this.folders = new FolderPhase(jobs.map((j) => j.destination));
    if (stream) this.stream = new JobStreamReader(stream, log);
  }

  /**
   * The next task for `worker`: a folder group (first phase), a chunk's folders,
   * or a batch of files (`walked`: files walked meanwhile arrive there).
   */
  next(worker: number, live: number, walked: (r: Release) => void): Task | undefined {
    const group = this.folders.take();
    if (group) return { type: "mkdirs", dirs: group, group: true };
    if (!this.folders.done) return undefined;
    const dirs = this.stream?.takeDirs(worker);
    if (dirs) return { type: "mkdirs", dirs, group: false };
    this.stream?.pull(this.ledger.queued, live, (_count, release) => walked(release));
    if (this.ledger.queued === 0) return undefined;
    const batch = this.ledger.take(worker, batchSize(this.ledger.queued, live));
    for (const j of batch) {
      if (this.folders.isFresh(j) || this.stream?.isFresh(j)) j.fresh = true;
    }
    return { type: "jobs", jobs: batch };
  }

  /** Files, folders or walked files still to be handed out. */
  get waiting(): boolean {
    return this.ledger.queued > 0 || this.folders.waiting || this.stream?.over === false;
  }

  /** Whether `worker` holds anything: files, a folder group, a chunk's folders. */
  holds(worker: number, group: boolean): boolean {
    return this.ledger.holding(worker) > 0 || group || this.stream?.holds(worker) === true;
  }

  /** Nothing queued or held, and nothing more will come (interrupted: nothing more is sent). */
  finished(interrupted: boolean): boolean {
    if (!this.ledger.settled) return false;
    return interrupted || (!this.folders.waiting && (this.stream?.over ?? true));
  }

  /** A worker ended: its files, its folder group and its chunk go back. */
  release(worker: number, group: string[] | undefined, returned: UploadJob[]): void {
    this.ledger.release(worker, returned);
    this.stream?.lost(worker);
    if (group) this.folders.giveBack(group);
  }

  /** The folder phase is over: the queued files under a folder that failed, with why. */
  blocked(): { job: UploadJob; reason: string }[] {
    return this.ledger.dropQueued((j) => this.folders.blocked(j) !== undefined)
      .map((job) => ({ job, reason: this.folders.blocked(job)! }));
  }

  /** Nothing more is handed out; returns the walked files not queued yet. */
  stop(): UploadJob[] {
    this.folders.clear();
    return this.stream?.stop() ?? [];
  }
}
