/**
 * What an upload worker does with its messages: one FTP connection (`Uploader`), jobs from the
 * pool, one result message per file. It runs inside a Web Worker (`workers/upload_worker.ts`) or
 * in the main isolate (`inline_worker.ts`); `port` is how it talks back either way.
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
} from "./messages.ts";
import { runCheck } from "../skip/check_on_login.ts";
import { notSentServerFull, unsentResult } from "../../upload/job.ts";
import { ShrinkRequest, Uploader } from "../../upload/uploader.ts";
import {
  classifyError,
  GaveUp,
  RetryBudget,
  retryLoop,
  toConnectError,
} from "../../upload/retry.ts";

/** How a worker answers the pool and ends itself. */
export interface UploadPort {
  post(msg: FromWorker): void;
  /** The worker is over: no more messages in or out. */
  close(): void;
  /** A bug: the pool sees the worker die (an uncaught error in a Web Worker). */
  fail(e: unknown): void;
}

/** How often a transfer under way reports its progress. */
const PROGRESS_MS = 250;

/** One worker's side: what the pool's messages go to, and how it is ended from outside. */
export interface UploadService {
  receive(msg: ToWorker): void;
  /** Ended by the pool (or after a bug): the connection is closed, nothing more is said. */
  end(): void;
}

/** Starts one worker's state. */
export function serveUploads(port: UploadPort): UploadService {
  let uploader: Uploader | undefined;
  const queue: UploadJob[] = [];
  let running = false;
  /** `idle` was said since the last batch came. */
  let askedForMore = false;
  /** Folders to create once the files in hand are done (asked for during the run). */
  let waitingDirs: string[] | undefined;
  /** Set when the server said it is full: queued jobs fail unsent with this reason. */
  let stopReason: string | undefined;
  /** Batches of files received (told with `drained`, so the pool knows which it means). */
  let batches = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  /** The first login under way: `finish` waits for it, so a login made is also ended (QUIT). */
  let loggingIn: Promise<void> | undefined;
  /** The skip check under way (`check`), stopped by an interrupt. */
  let checking: AbortController | undefined;
  const post = (msg: FromWorker) => port.post(msg);
  const close = () => {
    if (ticker !== undefined) clearInterval(ticker);
    port.close();
  };
  const end = () => {
    if (ticker !== undefined) clearInterval(ticker);
    ticker = undefined;
    uploader?.interrupt();
  };
  const guard = (p: Promise<void>) =>
    void p.catch((e) => {
      end();
      port.fail(e);
    });

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
    ticker = setInterval(() => {
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
      close();
    }
  }

  /** The skip check on this login, before the pool adopts the worker (`worker_check.ts`). */
  async function check(request: CheckRequest): Promise<void> {
    const up = uploader!;
    checking = new AbortController();
    let missing = false;
    const reply = await runCheck(() => up.live(), up.settings, request, {
      // Said once: the run has the other workers log in.
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
        // With more to come, this file's rename rides with the next file's first command.
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
    close();
  }

  async function finish(): Promise<void> {
    // Told to finish while still logging in (a worker told ahead and not needed): log out after.
    await loggingIn;
    await uploader?.close();
    post({ type: "closed" });
    close();
  }

  const receive = (msg: ToWorker) => {
    switch (msg.type) {
      case "init":
        return guard(loggingIn = init(msg.settings));
      case "check":
        return guard(check(msg.check));
      case "mkdirs":
        askedForMore = false;
        // Asked for while files are still going (the early `idle`): after them, on the same
        // connection, never beside them.
        if (running) waitingDirs = msg.dirs;
        else guard(mkdirs(msg.dirs));
        return;
      case "jobs":
        askedForMore = false;
        batches++;
        queue.push(...msg.jobs);
        return guard(run());
      case "stopSending":
        stopReason ??= msg.reason;
        return;
      case "interrupt":
        checking?.abort();
        uploader?.interrupt();
        return;
      case "finish":
        return guard(finish());
    }
  };
  return { receive, end };
}
