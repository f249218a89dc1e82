/**
 * The pending renames of one connection (`pending_rename.ts`): files verified,
 * their rename sent in front of a later command. Once their replies are in, a renamed
 * file is a result; a refused or lost rename is tried again on its own. When
 * the connection is gone for good (refused as one too many), every pending
 * file not renamed is handed back with a ShrinkRequest: never dropped.
 *
 * @module
 */

import { type JobResult, ShrinkRequest, type UploadJob } from "./job.ts";
import type { PendingRename } from "./pending_rename.ts";

export class PendingRenames {
  #files: PendingRename[] = [];

  constructor(
    /** Uploads a pending file again on its own (throws ShrinkRequest when refused). */
    readonly again: (job: UploadJob) => Promise<JobResult>,
    /** A pending file's rename was refused or lost: what that says about the session. */
    readonly renameFailed: (p: PendingRename) => void,
  ) {}

  get size(): number {
    return this.#files.length;
  }

  add(p: PendingRename): void {
    this.#files.push(p);
  }

  /** The pending files whose rename replies are in (or lost), taken off the list. */
  done(): PendingRename[] {
    const done = this.#files.filter((p) => p.outcome);
    this.#files = this.#files.filter((p) => !p.outcome);
    return done;
  }

  /** Every pending file, once its replies are in or lost, taken off the list. */
  async settled(): Promise<PendingRename[]> {
    await Promise.all(this.#files.map((p) => p.settled));
    return this.done();
  }

  /**
   * The results of `done` (after `results`): a renamed file is uploaded, a refused or lost
   * rename is tried again on its own. When that try is refused as one connection too many,
   * it and the files after it are handed back: ShrinkRequest, never a file dropped.
   */
  async conclude(done: PendingRename[], results: JobResult[]): Promise<JobResult[]> {
    for (const [i, p] of done.entries()) {
      if (p.outcome!.kind === "renamed") {
        results.push(await p.uploaded(p.before));
        continue;
      }
      this.renameFailed(p);
      try {
        results.push(await this.again(p.again));
      } catch (e) {
        if (!(e instanceof ShrinkRequest)) throw e;
        const rest = await this.handBack(done.slice(i + 1));
        const jobs = [...e.jobs, ...rest.returned];
        throw new ShrinkRequest(jobs, [...results, ...rest.results], e.reason, e.message);
      }
    }
    return results;
  }

  /** The connection is gone: renamed files are results, the others go back to the pool. */
  async handBack(done: PendingRename[]): Promise<{ results: JobResult[]; returned: UploadJob[] }> {
    const results: JobResult[] = [];
    const returned: UploadJob[] = [];
    for (const p of done) {
      if (p.outcome!.kind === "renamed") {
        results.push(await p.uploaded(p.before));
      } else {
        this.renameFailed(p);
        returned.push(p.again);
      }
    }
    return { results, returned };
  }
}
