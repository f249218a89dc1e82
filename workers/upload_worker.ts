/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Upload worker: one FTP connection, jobs from the coordinator, one result
 * message per file. All protocol and retry logic lives in `src/uploader.ts`.
 *
 * @module
 */

import type { FromWorker, ToWorker, UploadJob, UploadSettings } from "../src/run/messages.ts";
import { describe, ShrinkRequest, toConnectError, Uploader } from "../src/upload/uploader.ts";
import { backoffDelay } from "../src/upload/retry.ts";

let uploader: Uploader | undefined;
let workerId = 0;
const queue: UploadJob[] = [];
let running = false;

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

// Registered before any await so no message is lost.
self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case "init":
      workerId = msg.workerId;
      void init(msg.settings);
      break;
    case "mkdirs":
      void mkdirs(msg.dirs);
      break;
    case "jobs":
      queue.push(...msg.jobs);
      void run();
      break;
    case "interrupt":
      uploader?.interrupt();
      break;
    case "finish":
      void finish();
      break;
  }
};

async function init(settings: UploadSettings): Promise<void> {
  uploader = new Uploader(
    settings,
    () => post({ type: "reconnected", workerId }),
  );
  // A server that is briefly unreachable gets the same retry budget as a file.
  for (let attempt = 0;; attempt++) {
    try {
      await uploader.connect();
      post({ type: "ready", workerId });
      return;
    } catch (e) {
      const err = toConnectError(e);
      if (
        err.kind !== "unreachable" || attempt >= settings.retries ||
        uploader.interrupted
      ) {
        post({
          type: "connectFailed",
          workerId,
          kind: err.kind,
          error: err.message,
        });
        self.close();
        return;
      }
      const delay = backoffDelay(attempt + 1, settings.backoffBaseMs, settings.backoffMaxMs);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function mkdirs(dirs: string[]): Promise<void> {
  try {
    const { created, failed } = await uploader!.mkdirs(dirs);
    post({ type: "mkdirsDone", workerId, created, failed });
  } catch (e) {
    if (e instanceof ShrinkRequest) return shrink([]);
    post({
      type: "mkdirsDone",
      workerId,
      created: [],
      failed: dirs.map((dir) => ({ dir, error: describe(e) })),
    });
  }
}

async function run(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const job = queue.shift()!;
    try {
      const result = await uploader!.upload(job);
      post({ type: "result", workerId, result });
    } catch (e) {
      if (e instanceof ShrinkRequest) {
        return shrink(e.job ? [e.job, ...queue.splice(0)] : queue.splice(0));
      }
      throw e; // a bug: let the coordinator see the worker die and reassign
    }
  }
  running = false;
  post({ type: "idle", workerId });
}

function shrink(returned: UploadJob[]): void {
  post({ type: "shrink", workerId, returned });
  self.close();
}

async function finish(): Promise<void> {
  await uploader?.close();
  post({ type: "closed", workerId });
  self.close();
}
