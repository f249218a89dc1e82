/**
 * Upload workers started before the pool needs them: a worker's isolate and
 * module graph take longer to load than anything else at start-up, so the run
 * starts them while the skip phase waits on the network, and the pool adopts
 * them (`slot.ts`) instead of starting its own. A warm worker is told its
 * settings (and logs in) only when the run knows something will be sent: the
 * first for the skip check (`worker_check.ts`), the others once that check
 * found a folder missing (`loginAhead`); until then it has sent nothing. Those
 * the pool does not take (everything was skipped, the login was refused,
 * fewer files than connections) are ended, after a QUIT where they logged in.
 *
 * @module
 */

import type { FromWorker, ToWorker } from "./messages.ts";
import { InlineWorker, type UploadWorker } from "./inline_worker.ts";

/** A started worker not yet adopted; `error` when it failed to load meanwhile. */
export interface WarmWorker {
  worker: UploadWorker;
  error?: string;
  /** Told its settings (`init`): the slot that adopts it does not tell it again. */
  told?: true;
  /** Logged in (it did the skip check, `worker_check.ts`): ready for work as it is. */
  ready?: true;
  /** Told ahead of the pool (`loginAhead`): what it said meanwhile, for its slot to hear. */
  said?: FromWorker[];
}

export class WarmWorkers {
  #idle = new Map<string, WarmWorker>();
  #timer?: ReturnType<typeof setTimeout>;
  #next = 1;
  /** Every worker not told yet gets this at once (`loginAhead`). */
  #init?: ToWorker;

  /**
   * Starts `count` workers named `upload-1`… as the pool names its first ones:
   * one now, the others one per turn of the event loop, since `new Worker`
   * blocks this thread until the worker's isolate exists, and the skip phase's
   * replies are read on it meanwhile.
   */
  /** `url`: Web Workers of that module; `"inline"`: workers in this isolate (`inline_worker.ts`). */
  constructor(readonly url: URL | "inline", public count: number) {
    this.#startNext();
  }

  /** Starts more, up to `count` in all (those started early, for the run that adopts them). */
  grow(count: number): void {
    if (count <= this.count) return;
    const idle = this.#timer === undefined && this.#next > this.count;
    this.count = count;
    if (idle) this.#timer = setTimeout(() => this.#startNext(), 0);
  }

  #startNext(): void {
    this.#timer = undefined;
    const id = this.#next++;
    if (id > this.count) return;
    const name = workerName(id);
    const worker = this.url === "inline"
      ? new InlineWorker()
      : new Worker(this.url, { type: "module", name });
    const warm: WarmWorker = { worker };
    // A module that fails to load must not take the process down before a slot watches it.
    warm.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      warm.error ??= e.message;
    };
    this.#idle.set(name, warm);
    if (this.#init) tellAhead(warm, this.#init);
    if (this.#next <= this.count) this.#timer = setTimeout(() => this.#startNext(), 0);
  }

  /** The warm worker for slot `id`, once; undefined when it was not started yet (none will be). */
  take(id: number): WarmWorker | undefined {
    const warm = this.#idle.get(workerName(id));
    this.#idle.delete(workerName(id));
    // The pool starts its own from here on: no more warm ones.
    if (!warm) this.#stop();
    return warm;
  }

  /**
   * From now on each worker not told yet (and each started later) is sent
   * `init` at once: its login overlaps the rest of the skip check. What it
   * says meanwhile is kept for the slot that adopts it.
   */
  loginAhead(init: ToWorker): void {
    this.#init ??= init;
    for (const warm of this.#idle.values()) if (!warm.told) tellAhead(warm, this.#init);
  }

  /** The warm worker for slot `id`, left in place for the pool (the skip check rides on it). */
  borrow(id: number): WarmWorker | undefined {
    return this.#idle.get(workerName(id));
  }

  /** Slot `id`'s worker is logged in: the pool adopts it as it is. */
  adoptReady(id: number): void {
    const warm = this.#idle.get(workerName(id));
    if (warm) warm.ready = true;
  }

  /** Ends slot `id`'s worker (it could not log in, or died): the pool starts a fresh one. */
  discard(id: number): void {
    this.#idle.get(workerName(id))?.worker.terminate();
    this.#idle.delete(workerName(id));
  }

  #stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#next = this.count + 1;
  }

  /**
   * Ends every worker not taken, and starts no more. One that is logged in
   * says goodbye to the server first (resolved when it did, or after a short wait).
   */
  close(): Promise<void> {
    this.#stop();
    const ending = [...this.#idle.values()].map((w) => w.told ? goodbye(w.worker) : end(w.worker));
    this.#idle.clear();
    return Promise.all(ending).then(() => {});
  }
}

/** Sends `init` to a warm worker and keeps what it says until a slot adopts it. */
function tellAhead(warm: WarmWorker, init: ToWorker): void {
  const said: FromWorker[] = warm.said = [];
  warm.told = true;
  warm.worker.onmessage = (e: MessageEvent<FromWorker>) => void said.push(e.data);
  warm.worker.postMessage(init);
}

/** How long a logged-in worker may take to log out before it is ended anyway. */
const GOODBYE_WAIT_MS = 3000;

function end(worker: UploadWorker): Promise<void> {
  worker.terminate();
  return Promise.resolve();
}

/** Asks a logged-in worker to log out (QUIT), then ends it. */
function goodbye(worker: UploadWorker): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      worker.terminate();
      resolve();
    };
    const timer = setTimeout(done, GOODBYE_WAIT_MS);
    worker.onmessage = (e: MessageEvent<{ type: string }>) => {
      if (e.data.type === "closed") done();
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      done();
    };
    worker.postMessage({ type: "finish" });
  });
}

let early: WarmWorkers | undefined;

/**
 * For `main.ts` on `upload`: the first worker starts before the rest of the
 * program is even loaded, so its isolate and module graph load beside the
 * command line's, the config's checks and the skip phase.
 */
export function startEarly(url: URL): void {
  early ??= new WarmWorkers(url, 1);
}

/** The workers a run starts ahead: the early one (grown to `count`) when it is the same module. */
export function warmWorkers(url: URL | "inline", count: number): WarmWorkers {
  const started = early;
  early = undefined;
  if (started && started.url !== "inline" && url !== "inline" && started.url.href === url.href) {
    started.grow(count);
    return started;
  }
  started?.close();
  return new WarmWorkers(url, count);
}

/** The name tells workers apart in crash messages (and lets a test crash one on purpose). */
export function workerName(id: number): string {
  return `upload-${id}`;
}
