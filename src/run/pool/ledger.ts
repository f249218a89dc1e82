/**
 * Who owns each file of a run: every file the pool was given is *queued*,
 * *held* by exactly one worker, or *finished* (its result told). A worker
 * that ends, however it ends (refused as one connection too many, login
 * refused, crashed, ended by the watchdog, interrupted), gives back what it
 * held in one call, {@linkcode Ledger.release}; the run is over when
 * {@linkcode Ledger.settled} says nothing is queued or held.
 *
 * Pure bookkeeping, no I/O. Finished files leave the maps: only the counts
 * stay, so the ledger's size follows the files in flight, not the run's.
 *
 * @example
 * ```ts
 * import { Ledger } from "./ledger.ts";
 * const ledger = new Ledger<{ id: number }>();
 * ledger.add([{ id: 1 }, { id: 2 }]);
 * ledger.take(7, 2); // worker 7 holds both
 * ledger.finish(7, 1); // true: its result counts
 * ledger.release(7); // file 2 is queued again
 * ledger.settled; // false: file 2 waits for another worker
 * ```
 *
 * @module
 */

/** What a ledger needs of a file: a number unique in the run. */
export interface Owned {
  id: number;
}

export class Ledger<J extends Owned> {
  /** Queued, in order; files given back go to the front. */
  #queue: J[] = [];
  /** worker -> the files it holds. */
  #held = new Map<number, Map<number, J>>();
  /** file -> the worker holding it (held files only). */
  #holder = new Map<number, number>();
  #queuedIds = new Set<number>();
  #finished = 0;
  #added = 0;

  /** New files join the back of the queue (a file already known is ignored). */
  add(jobs: Iterable<J>): void {
    for (const j of jobs) {
      if (this.#queuedIds.has(j.id) || this.#holder.has(j.id)) continue;
      this.#queue.push(j);
      this.#queuedIds.add(j.id);
      this.#added++;
    }
  }

  /** Up to `n` queued files, now held by `worker`. */
  take(worker: number, n: number): J[] {
    const batch = this.#queue.splice(0, Math.max(0, n));
    if (batch.length === 0) return batch;
    let mine = this.#held.get(worker);
    if (!mine) this.#held.set(worker, mine = new Map());
    for (const j of batch) {
      this.#queuedIds.delete(j.id);
      mine.set(j.id, j);
      this.#holder.set(j.id, worker);
    }
    return batch;
  }

  /**
   * `worker` told the result of file `id`: true when the result counts (the
   * worker held it), false for a file it does not hold (a late or repeated
   * result; the file's owner is someone else, or it is finished).
   */
  finish(worker: number, id: number): boolean {
    if (this.#holder.get(id) !== worker) return false;
    this.#holder.delete(id);
    this.#held.get(worker)!.delete(id);
    this.#finished++;
    return true;
  }

  /** Finishes a file that is queued (failed without being sent); false if it is not queued. */
  finishQueued(id: number): boolean {
    if (!this.#queuedIds.delete(id)) return false;
    this.#queue = this.#queue.filter((j) => j.id !== id);
    this.#finished++;
    return true;
  }

  /**
   * `worker` ended: every file it held goes back to the front of the queue, in
   * the order it got them. `returned` are its own copies of some of them (they
   * carry the progress made so far) and replace the pool's; a returned file the
   * worker did not hold is ignored. Returns the files given back.
   */
  release(worker: number, returned: Iterable<J> = []): J[] {
    const mine = this.#held.get(worker);
    this.#held.delete(worker);
    if (!mine) return [];
    for (const j of returned) if (mine.has(j.id)) mine.set(j.id, j);
    const back = [...mine.values()];
    for (const j of back) {
      this.#holder.delete(j.id);
      this.#queuedIds.add(j.id);
    }
    this.#queue.unshift(...back);
    return back;
  }

  /** Takes every queued file out (to fail them, or on interrupt); they count as finished. */
  drainQueue(): J[] {
    const out = this.#queue;
    this.#queue = [];
    this.#queuedIds.clear();
    this.#finished += out.length;
    return out;
  }

  /** Removes the queued files `drop` says so (to fail them); they count as finished. */
  dropQueued(drop: (job: J) => boolean): J[] {
    const out: J[] = [];
    this.#queue = this.#queue.filter((j) => {
      if (!drop(j)) return true;
      out.push(j);
      this.#queuedIds.delete(j.id);
      return false;
    });
    this.#finished += out.length;
    return out;
  }

  /** The files `worker` holds, in the order it got them. */
  heldBy(worker: number): J[] {
    return [...(this.#held.get(worker)?.values() ?? [])];
  }

  /** File `id` as `worker` holds it, or undefined when it does not hold it. */
  heldAs(worker: number, id: number): J | undefined {
    return this.#held.get(worker)?.get(id);
  }

  /** How many files `worker` holds. */
  holding(worker: number): number {
    return this.#held.get(worker)?.size ?? 0;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Files held by some worker now. */
  get held(): number {
    return this.#holder.size;
  }

  get finished(): number {
    return this.#finished;
  }

  /** Files ever added (each counted once). */
  get added(): number {
    return this.#added;
  }

  /** Nothing queued and nothing held: every file added is finished. */
  get settled(): boolean {
    return this.#queue.length === 0 && this.#holder.size === 0;
  }
}
