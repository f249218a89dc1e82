/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Upload worker in its own isolate: the pool's messages go to the same service an inline worker
 * runs (`src/run/pool/upload_service.ts`: one FTP connection, one result message per file).
 * The pool uses it when asked for Web Workers (`FTPBATCH_WORKER_THREADS=1`) and in the tests
 * that build their own worker from this one.
 *
 * @module
 */

import type { ToWorker } from "../src/run/pool/messages.ts";
import { serveUploads } from "../src/run/pool/upload_service.ts";

// Registered before any await so no message is lost.
const service = serveUploads({
  // Looked up at each call: a test build may wrap `self.postMessage`.
  post: (msg) => self.postMessage(msg),
  close: () => self.close(),
  // Uncaught, as any bug here: the worker dies and the pool sees it (`onerror`).
  fail: (e) =>
    queueMicrotask(() => {
      throw e;
    }),
});
self.onmessage = (e: MessageEvent<ToWorker>) => service.receive(e.data);
