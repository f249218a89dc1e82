/**
 * The folder phase of a run: before any file is sent, the destination
 * folders are created, the trunk (the folders every file is under) first and
 * alone, then the branches below it in parallel groups. Remembers which
 * folders this run created (nothing to resume there) and which failed (the
 * files under them fail with the reason, unsent).
 *
 * @module
 */

import { posix } from "node:path";
import { isUnder, planFolders } from "../../plan/plan.ts";
import type { UploadJob } from "../../upload/job.ts";

/** A folder that could not be created, with the server's reason. */
export interface FailedFolder {
  dir: string;
  error: string;
}

export class FolderPhase {
  #groups: string[][];
  #trunk?: string[];
  #afterTrunk: string[][];
  #pending: number;
  #failed: FailedFolder[] = [];
  #created = new Set<string>();

  constructor(destinations: string[]) {
    const folders = planFolders(destinations);
    this.#trunk = folders.trunk.length > 0 ? folders.trunk : undefined;
    this.#groups = this.#trunk ? [this.#trunk] : folders.groups;
    this.#afterTrunk = this.#trunk ? folders.groups : [];
    this.#pending = this.#groups.length + this.#afterTrunk.length;
  }

  /** Every group is done: files may go. */
  get done(): boolean {
    return this.#pending === 0;
  }

  /** A group is waiting for a worker. */
  get waiting(): boolean {
    return this.#groups.length > 0;
  }

  /** The next group for a worker to create, if one can start now. */
  take(): string[] | undefined {
    return this.#groups.shift();
  }

  /** A worker lost its group before finishing: it goes first again. */
  giveBack(group: string[]): void {
    this.#groups.unshift(group);
  }

  /**
   * A worker finished `group`. Returns true when it was the trunk: its
   * branches can now start, on any worker.
   */
  finished(group: string[], created: string[], failed: FailedFolder[]): boolean {
    this.#failed.push(...failed);
    for (const d of created) this.#created.add(d);
    this.#pending--;
    if (group !== this.#trunk) return false;
    this.#groups.push(...this.#afterTrunk);
    this.#afterTrunk = [];
    return true;
  }

  /** Nothing more is created (interrupted, or the run ends early). */
  clear(): void {
    this.#groups = [];
    this.#afterTrunk = [];
  }

  /** Why `job` cannot go (a folder above it failed), or undefined. */
  blocked(job: UploadJob): string | undefined {
    const bad = this.#failed.find((f) => isUnder(job.destination, f.dir));
    return bad && `could not create remote folder ${bad.dir}: ${bad.error}`;
  }

  /** This run created the job's folder: no leftover temporary file can be there. */
  isFresh(job: UploadJob): boolean {
    return this.#created.has(posix.dirname(job.destination));
  }
}
