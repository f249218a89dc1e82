/**
 * The pool's running count of bytes for the live progress line: bytes put
 * on data connections and bytes of the files done, each counting the
 * transfers under way as their workers report them (a `progress` message
 * every ~250 ms), so the rate moves while a large file is still going.
 *
 * @module
 */

import type { ProgressEvent } from "../report/events.ts";
import type { JobResult, TransferProgress } from "./messages.ts";

export class ByteTally {
  /** Bytes sent for the files finished. */
  #sent = 0;
  /** Sizes of the files finished, whatever their outcome: no longer work to do. */
  #done = 0;
  /** The transfer under way on each worker, by worker id. */
  #moving = new Map<number, TransferProgress>();

  /** A worker's transfer got this far. */
  moved(worker: number, p: TransferProgress): void {
    this.#moving.set(worker, p);
  }

  /** A file finished (`size`: its size); the worker's transfer of it is over. */
  finished(worker: number, size: number, result: JobResult): void {
    this.#sent += result.bytesSent;
    this.#done += size;
    if (this.#moving.get(worker)?.id === result.id) this.#moving.delete(worker);
  }

  /** The worker is gone: its transfer no longer moves (its file goes back to the queue). */
  lost(worker: number): void {
    this.#moving.delete(worker);
  }

  /** The counts now, with the connections logged in. */
  snapshot(connections: number): ProgressEvent {
    let bytesSent = this.#sent;
    let bytesDone = this.#done;
    for (const p of this.#moving.values()) {
      bytesSent += p.bytesSent;
      bytesDone += p.position;
    }
    return { type: "progress", bytesSent, bytesDone, connections };
  }
}
