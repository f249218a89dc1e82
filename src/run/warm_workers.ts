/**
 * Upload workers started before the pool needs them: a worker's isolate and
 * module graph take longer to load than anything else at start-up, so the run
 * starts them while the skip phase waits on the network, and the pool adopts
 * them (`slot.ts`) instead of starting its own. A warm worker has not been
 * told its settings, so it has not logged in and has sent nothing; those the
 * pool does not take (everything was skipped, the login was refused, fewer
 * files than connections) are ended unused.
 *
 * @module
 */

/** A started worker not yet adopted; `error` when it failed to load meanwhile. */
export interface WarmWorker {
  worker: Worker;
  error?: string;
}

export class WarmWorkers {
  #idle = new Map<string, WarmWorker>();

  /** Starts `count` workers named `upload-1`… as the pool names its first ones. */
  constructor(url: URL, count: number) {
    for (let id = 1; id <= count; id++) {
      const name = workerName(id);
      const warm: WarmWorker = { worker: new Worker(url, { type: "module", name }) };
      // A module that fails to load must not take the process down before a slot watches it.
      warm.worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        warm.error ??= e.message;
      };
      this.#idle.set(name, warm);
    }
  }

  /** The warm worker for slot `id`, once. */
  take(id: number): WarmWorker | undefined {
    const warm = this.#idle.get(workerName(id));
    this.#idle.delete(workerName(id));
    return warm;
  }

  /** Ends every worker not taken. */
  close(): void {
    for (const { worker } of this.#idle.values()) worker.terminate();
    this.#idle.clear();
  }
}

/** The name tells workers apart in crash messages (and lets a test crash one on purpose). */
export function workerName(id: number): string {
  return `upload-${id}`;
}
