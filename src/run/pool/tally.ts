/**
 * The pool's running count of bytes for the live progress line: bytes put
 * on data connections (files finished and transfers under way), and how far
 * the transfers under way got, as their workers report them (a `progress`
 * message every ~250 ms), so the line moves while a large file is still going.
 *
 * @module
 */

import type { ProgressEvent } from "../../report/events.ts";
import type { JobResult, TransferProgress } from "./messages.ts";

export class ByteTally {
  /** Bytes sent for the files finished. */
  #sent = 0;
  /** The transfer under way on each worker, by worker id. */
  #moving = new Map<number, TransferProgress>();

  /** A worker's transfer got this far. */
  moved(worker: number, p: TransferProgress): void {
    this.#moving.set(worker, p);
  }

  /** A file finished; the worker's transfer of it is over. */
  finished(worker: number, result: JobResult): void {
    this.#sent += result.bytesSent;
    if (this.#moving.get(worker)?.id === result.id) this.#moving.delete(worker);
  }

  /** The worker is gone: its transfer no longer moves (its file goes back to the queue). */
  lost(worker: number): void {
    this.#moving.delete(worker);
  }

  /** The counts now, with the connections logged in. */
  snapshot(connections: number): ProgressEvent {
    let bytesSent = this.#sent;
    let bytesMoving = 0;
    for (const p of this.#moving.values()) {
      bytesSent += p.bytesSent;
      bytesMoving += p.position;
    }
    return { type: "progress", bytesSent, bytesMoving, connections };
  }
}
