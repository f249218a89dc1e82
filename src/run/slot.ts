/**
 * One upload worker as the pool sees it: the Web Worker, what state it is in,
 * the jobs handed to it and not yet answered, the folder group it is
 * creating. Starting, messaging and closing a worker live here; what to give
 * it lives in `pool.ts`.
 *
 * @module
 */

import type { FromWorker, ToWorker, UploadJob, UploadSettings } from "./messages.ts";

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
  ) {
    // The name tells workers apart in crash messages (and lets a test crash one on purpose).
    this.worker = new Worker(url, { type: "module", name: `upload-${id}` });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(this, e.data);
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      onCrash(this, e.message);
    };
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
