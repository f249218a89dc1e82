/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Upload worker: one FTP connection, jobs from the coordinator, one result
 * message per file. Protocol and retry logic live in `src/upload/`.
 *
 * @module
 */

import type {
  CheckRequest,
  FromWorker,
  JobResult,
  ToWorker,
  UploadJob,
  UploadSettings,
} from "../src/run/pool/messages.ts";
import { runCheck } from "../src/run/skip/worker_check.ts";
import { notSentServerFull, unsentResult } from "../src/upload/job.ts";
import { ShrinkRequest, Uploader } from "../src/upload/uploader.ts";
import {
  classifyError,
  GaveUp,
  RetryBudget,
  retryLoop,
  toConnectError,
} from "../src/upload/retry.ts";

let uploader: Uploader | undefined;
const queue: UploadJob[] = [];
let running = false;
/** `idle` was said since the last batch came. */
let askedForMore = false;
/** Folders to create once the files in hand are done (asked for during the run). */
let waitingDirs: string[] | undefined;
/** How often a transfer under way reports its progress. */
const PROGRESS_MS = 250;
/** Set when the server said it is full: queued jobs fail unsent with this reason. */
let stopReason: string | undefined;
/** Batches of files received (told with `drained`, so the pool knows which it means). */
let batches = 0;
/** The first login under way: `finish` waits for it, so a login made is also ended (QUIT). */
let loggingIn: Promise<void> | undefined;
/** The skip check under way (`check`), stopped by an interrupt. */
let checking: AbortController | undefined;

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

// Registered before any await so no message is lost.
self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case "init":
      loggingIn = init(msg.settings);
      break;
    case "check":
      void check(msg.check);
      break;
    case "mkdirs":
      askedForMore = false;
      // Asked for while files are still going (the early `idle`): after them, on the same
      // connection, never beside them.
      if (running) waitingDirs = msg.dirs;
      else void mkdirs(msg.dirs);
      break;
    case "jobs":
      askedForMore = false;
      batches++;
      queue.push(...msg.jobs);
      void run();
      break;
    case "stopSending":
      stopReason ??= msg.reason;
      break;
    case "interrupt":
      checking?.abort();
      uploader?.interrupt();
      break;
    case "finish":
      void finish();
      break;
  }
};

async function init(settings: UploadSettings): Promise<void> {
  const up = uploader = new Uploader(
    settings,
    (cause) => post({ type: "reconnected", ...(cause ? { cause } : {}) }),
    (notice) => post({ type: "retry", notice }),
  );
  // A transfer under way says how far it got, a few times a second (the live rate counts it);
  // steps without bytes (folders created, files verified) say only that they happened, for the
  // pool's watchdog.
  let last = -1;
  let steps = up.steps;
  setInterval(() => {
    const p = up.progress();
    if (p && p.bytesSent !== last) post({ type: "progress", ...p });
    else if (up.steps !== steps) post({ type: "alive" });
    last = p?.bytesSent ?? -1;
    steps = up.steps;
  }, PROGRESS_MS);
  // A server that is briefly unreachable gets the same retry budget as a file (counted by
  // tries); only `unreachable` is tried again, and an interrupt ends the pause at once.
  const budget = new RetryBudget(settings);
  try {
    await retryLoop(() => up.connect(), budget, up.pause, {
      classify: (e) => classifyError(toConnectError(e, (x) => up.describe(x))),
      stopped: () => up.interrupted,
      describe: (e) => up.describe(e),
      retrying: (e, _action, attempt, pauseMs) =>
        post({
          type: "connectRetry",
          attempt,
          of: settings.retries + 1,
          pauseMs,
          error: toConnectError(e, (x) => up.describe(x)).message,
        }),
    });
    post({ type: "ready" });
  } catch (e) {
    const err = toConnectError(e instanceof GaveUp ? e.last : e, (x) => up.describe(x));
    post({ type: "connectFailed", kind: err.kind, error: err.message });
    self.close();
  }
}

/** The skip check on this login, before the pool adopts the worker (`worker_check.ts`). */
async function check(request: CheckRequest): Promise<void> {
  const up = uploader!;
  checking = new AbortController();
  let missing = false;
  const reply = await runCheck(() => up.live(), up.settings, request, {
    // Said once: the run starts loading the other workers.
    missing: (alone) => {
      if (!missing) post({ type: "missing", alone });
      missing = true;
    },
    signal: checking.signal,
  });
  checking = undefined;
  post({ type: "checked", check: reply });
}

async function mkdirs(dirs: string[]): Promise<void> {
  try {
    const { created, failed } = await uploader!.mkdirs(dirs);
    post({ type: "mkdirsDone", created, failed });
  } catch (e) {
    if (e instanceof ShrinkRequest) return shrink([], e);
    const error = uploader!.describe(e);
    post({ type: "mkdirsDone", created: [], failed: dirs.map((dir) => ({ dir, error })) });
  }
}

async function run(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const job = queue.shift()!;
    if (stopReason) {
      post({ type: "result", result: unsentResult(job, stopReason) });
      continue;
    }
    // The last of the batch: ask for the next one now, so it is here when this file is done
    // and the pipeline runs on (the pool hands out nothing when it has nothing).
    if (queue.length === 0) askForMore();
    try {
      // With more to come, this file's rename goes out with the next file's first command.
      const more = () => queue.length > 0 && !stopReason;
      for (const result of await uploader!.pipeline(job, more)) report(result);
    } catch (e) {
      if (e instanceof ShrinkRequest) {
        for (const result of e.results) report(result);
        return shrink([...e.jobs, ...queue.splice(0)], e);
      }
      throw e; // a bug: let the coordinator see the worker die and reassign
    }
  }
  try {
    for (const result of await uploader!.settle()) report(result);
  } catch (e) {
    if (e instanceof ShrinkRequest) {
      for (const result of e.results) report(result);
      return shrink([...e.jobs, ...queue.splice(0)], e);
    }
    throw e;
  }
  // Jobs may have come in while the last renames were settled.
  running = false;
  if (queue.length > 0) return run();
  post({ type: "drained", batches });
  const dirs = waitingDirs;
  waitingDirs = undefined;
  if (dirs) return mkdirs(dirs); // its `mkdirsDone` makes the pool hand out the next work
  if (!askedForMore) askForMore();
}

/** Says `idle` once per batch: the pool then hands out the next batch, if it has one. */
function askForMore(): void {
  askedForMore = true;
  post({ type: "idle" });
}

function report(result: JobResult): void {
  if (result.serverFull) stopReason ??= notSentServerFull(result.error ?? "");
  post({ type: "result", result });
}

/** This connection is over (refused as too many, or unreachable): its files go back. */
function shrink(returned: UploadJob[], why: ShrinkRequest): void {
  post({ type: "shrink", returned, reason: why.reason, error: why.message });
  self.close();
}

async function finish(): Promise<void> {
  // Told to finish while still logging in (a worker told ahead and not needed): log out after.
  await loggingIn;
  await uploader?.close();
  post({ type: "closed" });
  self.close();
}
