/**
 * One upload worker as the pool sees it: the worker (inline, `inline_worker.ts`, or a Web
 * Worker loaded from a URL), what state it is in,
 * the folder group it is creating, when it last showed life (the watchdog's
 * clock) and how many batches it was sent. Which files it holds is the
 * ledger's (`ledger.ts`). Starting, messaging and closing a worker live here;
 * what to give it lives in `pool.ts`.
 *
 * @module
 */

import type { FromWorker, ToWorker, UploadSettings } from "./messages.ts";
import { type WarmWorker, workerName } from "./warm_workers.ts";
import { InlineWorker, type UploadWorker } from "./inline_worker.ts";

const FINISH_WAIT_MS = 3000;

export type SlotState = "connecting" | "ready" | "busy" | "closing" | "gone";

export class WorkerSlot {
  readonly worker: UploadWorker;
  #state: SlotState = "connecting";
  /** The folder group it is creating. */
  group?: string[];
  /** Batches of files sent to it (a `drained` worker says how many it got). */
  batches = 0;
  /** When it last said anything or moved a byte (`performance.now()`). */
  lastSeen = performance.now();

  constructor(
    readonly id: number,
    /** `inline`: in this isolate; a URL: a Web Worker of that module. */
    url: URL | "inline",
    settings: UploadSettings,
    onMessage: (slot: WorkerSlot, msg: FromWorker) => void,
    onCrash: (slot: WorkerSlot, message: string) => void,
    /** Started earlier (`warm_workers.ts`), under this slot's name. */
    warm?: WarmWorker,
  ) {
    this.worker = warm?.worker ??
      (url === "inline"
        ? new InlineWorker()
        : new Worker(url, { type: "module", name: workerName(id) }));
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      this.seen();
      onMessage(this, e.data);
    };
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      onCrash(this, e.message);
    };
    // It failed to load while warming: a crash like any other, once the pool holds the slot.
    const early = warm?.error;
    if (early !== undefined) setTimeout(() => onCrash(this, early), 0);
    // Logged in already for the skip check (`worker_check.ts`): ready as it is.
    else if (warm?.ready) setTimeout(() => this.live && onMessage(this, { type: "ready" }), 0);
    // Told ahead (`loginAhead`): what it said meanwhile is heard first, before any new message.
    else if (warm?.said) {
      const said = warm.said;
      queueMicrotask(() => said.forEach((msg) => onMessage(this, msg)));
    }
    if (!warm?.told) this.send({ type: "init", settings });
  }

  send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  /** `connecting` until its first login; `closing` after `finish`; `gone` once it ended. */
  get state(): SlotState {
    return this.#state;
  }

  /** It showed life (any message). */
  seen(): void {
    this.lastSeen = performance.now();
  }

  /** Logged in, or done with what it was given: it may be given work. */
  ready(): void {
    if (this.live) this.#state = "ready";
  }

  /** Sends it work: folders to create or a batch of files. */
  give(msg: ToWorker & { type: "mkdirs" | "jobs" }): void {
    this.#state = "busy";
    if (msg.type === "jobs") this.batches++;
    this.send(msg);
  }

  /** It ended (closed itself, refused, crashed, or ended by the pool): never used again. */
  end(terminate = false): void {
    this.#state = "gone";
    if (terminate) this.worker.terminate();
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
      this.#state = "closing";
      this.send({ type: "finish" });
    });
  }
}
