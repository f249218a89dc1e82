/**
 * The files parked on one connection (`parked.ts`): verified, their rename
 * riding in front of a later command. Once their replies are in, a renamed
 * file is a result; a refused or lost rename is tried again on its own. When
 * the connection is gone for good (refused as one too many), every parked
 * file not renamed is handed back with a ShrinkRequest: never dropped.
 *
 * @module
 */

import { type JobResult, ShrinkRequest, type UploadJob } from "./job.ts";
import type { Parked } from "./parked.ts";

export class ParkedFiles {
  #parked: Parked[] = [];

  constructor(
    /** Uploads a parked file again on its own (throws ShrinkRequest when refused). */
    readonly again: (job: UploadJob) => Promise<JobResult>,
    /** A parked file's rename was refused or lost: what that says about the session. */
    readonly renameFailed: (p: Parked) => void,
  ) {}

  get size(): number {
    return this.#parked.length;
  }

  add(p: Parked): void {
    this.#parked.push(p);
  }

  /** The parked files whose rename replies are in (or lost), taken off the list. */
  done(): Parked[] {
    const done = this.#parked.filter((p) => p.outcome);
    this.#parked = this.#parked.filter((p) => !p.outcome);
    return done;
  }

  /** Every parked file, once its replies are in or lost, taken off the list. */
  async settled(): Promise<Parked[]> {
    await Promise.all(this.#parked.map((p) => p.settled));
    return this.done();
  }

  /**
   * The results of `done` (after `results`): a renamed file is uploaded, a refused or lost
   * rename is tried again on its own. When that try is refused as one connection too many,
   * it and the files after it are handed back: ShrinkRequest, never a file dropped.
   */
  async conclude(done: Parked[], results: JobResult[]): Promise<JobResult[]> {
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
  async handBack(done: Parked[]): Promise<{ results: JobResult[]; returned: UploadJob[] }> {
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
