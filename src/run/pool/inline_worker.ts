/**
 * An upload worker in the main isolate: the same service as `workers/upload_worker.ts`
 * (`upload_service.ts`), behind the part of the `Worker` interface the pool uses. A Web Worker
 * costs an isolate that loads and compiles the upload code again, and every message crosses
 * threads; on small files that was most of the run's CPU (docs/benchmarks.md). Messages are
 * handed over, not copied: neither side changes one after sending it. They arrive in order, each
 * in a later microtask, never inside the sender's call.
 *
 * @module
 */

import type { FromWorker, ToWorker } from "./messages.ts";
import { serveUploads, type UploadService } from "./upload_service.ts";

/** What the pool uses of a worker (`slot.ts`): a Web Worker or an inline one. */
export interface UploadWorker {
  onmessage: ((e: MessageEvent<FromWorker>) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  postMessage(msg: ToWorker): void;
  addEventListener(type: "message", fn: (e: Event) => void): void;
  terminate(): void;
}

export class InlineWorker implements UploadWorker {
  onmessage: ((e: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  #listeners: ((e: Event) => void)[] = [];
  #closed = false;
  #service: UploadService;

  constructor() {
    this.#service = serveUploads({
      post: (msg) => this.#toPool(msg),
      close: () => this.#close(),
      fail: (e) => this.#fail(e),
    });
  }

  postMessage(msg: ToWorker): void {
    if (this.#closed) return;
    queueMicrotask(() => {
      if (!this.#closed) this.#service.receive(msg);
    });
  }

  addEventListener(_type: "message", fn: (e: Event) => void): void {
    this.#listeners.push(fn);
  }

  /** Ended by the pool: closing the uploader's sockets makes whatever it awaits fail. */
  terminate(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#service.end();
  }

  #toPool(msg: FromWorker): void {
    if (this.#closed && msg.type !== "closed") return;
    queueMicrotask(() => {
      const e = new MessageEvent("message", { data: msg });
      this.onmessage?.(e);
      for (const fn of this.#listeners) fn(e);
    });
  }

  #close(): void {
    this.#closed = true;
  }

  #fail(e: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = e instanceof Error ? e : new Error(String(e));
    const event = new ErrorEvent("error", { message: `Uncaught ${error}`, error });
    queueMicrotask(() => this.onerror?.(event));
  }
}

const WORKER_MODULE = new URL("../../../workers/upload_worker.ts", import.meta.url);

/**
 * Where the pool's workers run: the module a test gives; Web Workers of the upload worker for
 * FTPS, or when `FTPBATCH_WORKER_THREADS=1` (to compare, see docs/benchmarks.md); else inline.
 * FTPS stays in Web Workers: with several basic-ftp connections in one isolate, proftpd refused
 * data connections ("425 Unable to build data connection: Operation not permitted", its check
 * that the data connection resumes the control connection's TLS session), which one connection
 * per isolate never saw. The native FTPS transport (`native_ftps.ts`, which hands each data
 * connection its own control connection's session) meets the same refusal inline: tried on
 * 2026-12-05, proftpd's FTPS matrix case failed 4 of 20 files with that `425` with 3 inline
 * connections, and passed in Web Workers: Deno's node:tls resumes the latest session made with
 * the host in the isolate, not the one given (docs/ftps.md).
 */
export function uploadWorkerModule(
  testModule?: URL,
  secure: boolean | "implicit" = false,
): URL | "inline" {
  if (testModule) return testModule;
  if (secure !== false) return WORKER_MODULE;
  let threads: string | undefined;
  try {
    threads = Deno.env.get("FTPBATCH_WORKER_THREADS");
  } catch {
    // no --allow-env: the default
  }
  return threads === "1" ? WORKER_MODULE : "inline";
}
