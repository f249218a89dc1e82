/**
 * One upload worker as the pool sees it: the Web Worker, what state it is in,
 * the jobs handed to it and not yet answered, the folder group it is
 * creating. Starting, messaging and closing a worker live here; what to give
 * it lives in `pool.ts`.
 *
 * @module
 */

import type { FromWorker, ToWorker, UploadJob, UploadSettings } from "./messages.ts";
import { type WarmWorker, workerName } from "./warm_workers.ts";

const FINISH_WAIT_MS = 3000;

export class WorkerSlot {
  readonly worker: Worker;
  /** `connecting` until its first login; `closing` after `finish`; `gone` once it ended. */
  state: "connecting" | "ready" | "busy" | "closing" | "gone" = "connecting";
  /** Jobs sent to it without a result yet. */
  readonly inflight = new Map<number, UploadJob>();
  /** The folder group it is creating. */
  group?: string[];

  constructor(
    readonly id: number,
    url: URL,
    settings: UploadSettings,
    onMessage: (slot: WorkerSlot, msg: FromWorker) => void,
    onCrash: (slot: WorkerSlot, message: string) => void,
    /** Started earlier (`warm_workers.ts`), under this slot's name. */
    warm?: WarmWorker,
  ) {
    this.worker = warm?.worker ?? new Worker(url, { type: "module", name: workerName(id) });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(this, e.data);
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      onCrash(this, e.message);
    };
    // It failed to load while warming: a crash like any other, once the pool holds the slot.
    const early = warm?.error;
    if (early !== undefined) setTimeout(() => onCrash(this, early), 0);
    this.send({ type: "init", settings });
  }

  send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  /** Neither ended nor closing. */
  get live(): boolean {
    return this.state !== "gone" && this.state !== "closing";
  }

  /** Logged in now (a worker still making its first connection is not). */
  get loggedIn(): boolean {
    return this.live && this.state !== "connecting";
  }

  /** Asks it to log out and close; resolves when it did, or after a short wait. */
  finish(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FINISH_WAIT_MS);
      this.worker.addEventListener("message", (e) => {
        if ((e as MessageEvent<FromWorker>).data.type === "closed") {
          clearTimeout(timer);
          resolve();
        }
      });
      this.state = "closing";
      this.send({ type: "finish" });
    });
  }
}
