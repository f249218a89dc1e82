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
  return new UploadWorker(port);
}

/** One worker's state: its connection, the files in hand, and what was said to the pool. */
class UploadWorker implements UploadService {
  #uploader: Uploader | undefined;
  #queue: UploadJob[] = [];
  #running = false;
  /** `idle` was said since the last batch came. */
  #askedForMore = false;
  /** Folders to create once the files in hand are done (asked for during the run). */
  #waitingDirs: string[] | undefined;
  /** Set when the server said it is full: queued jobs fail unsent with this reason. */
  #stopReason: string | undefined;
  /** Batches of files received (told with `drained`, so the pool knows which it means). */
  #batches = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;
  /** The first login under way: `finish` waits for it, so a login made is also ended (QUIT). */
  #loggingIn: Promise<void> | undefined;
  /** The skip check under way (`check`), stopped by an interrupt. */
  #checking: AbortController | undefined;

  readonly #port: UploadPort;

  constructor(port: UploadPort) {
    this.#port = port;
  }

  receive(msg: ToWorker): void {
    switch (msg.type) {
      case "init":
        return this.#guard(this.#loggingIn = this.#init(msg.settings));
      case "check":
        return this.#guard(this.#check(msg.check));
      case "mkdirs":
        this.#askedForMore = false;
        // Asked for while files are still going (the early `idle`): after them, on the same
        // connection, never beside them.
        if (this.#running) this.#waitingDirs = msg.dirs;
        else this.#guard(this.#mkdirs(msg.dirs));
        return;
      case "jobs":
        this.#askedForMore = false;
        this.#batches++;
        this.#queue.push(...msg.jobs);
        return this.#guard(this.#run());
      case "stopSending":
        this.#stopReason ??= msg.reason;
        return;
      case "interrupt":
        this.#checking?.abort();
        this.#uploader?.interrupt();
        return;
      case "finish":
        return this.#guard(this.#finish());
    }
  }

  end(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#uploader?.interrupt();
  }

  #post(msg: FromWorker): void {
    this.#port.post(msg);
  }

  #close(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#port.close();
  }

  #guard(p: Promise<void>): void {
    void p.catch((e) => {
      this.end();
      this.#port.fail(e);
    });
  }

  async #init(settings: UploadSettings): Promise<void> {
    const up = this.#uploader = new Uploader(
      settings,
      (cause) => this.#post({ type: "reconnected", ...(cause ? { cause } : {}) }),
      (notice) => this.#post({ type: "retry", notice }),
    );
    this.#startTicker(up);
    // A server that is briefly unreachable gets the same retry budget as a file (counted by
    // tries); only `unreachable` is tried again, and an interrupt ends the pause at once.
    const budget = new RetryBudget(settings);
    try {
      await retryLoop(() => up.connect(), budget, up.pause, {
        classify: (e) => classifyError(toConnectError(e, (x) => up.describe(x))),
        stopped: () => up.interrupted,
        describe: (e) => up.describe(e),
        retrying: (e, _action, attempt, pauseMs) =>
          this.#post({
            type: "connectRetry",
            attempt,
            of: settings.retries + 1,
            pauseMs,
            error: toConnectError(e, (x) => up.describe(x)).message,
          }),
      });
      this.#post({ type: "ready" });
    } catch (e) {
      const err = toConnectError(e instanceof GaveUp ? e.last : e, (x) => up.describe(x));
      this.#post({ type: "connectFailed", kind: err.kind, error: err.message });
      this.#close();
    }
  }

  /**
   * A transfer under way says how far it got, a few times a second (the live rate counts it);
   * steps without bytes (folders created, files verified) say only that they happened, for the
   * pool's watchdog.
   */
  #startTicker(up: Uploader): void {
    let last = -1;
    let steps = up.steps;
    this.#ticker = setInterval(() => {
      const p = up.progress();
      if (p && p.bytesSent !== last) this.#post({ type: "progress", ...p });
      else if (up.steps !== steps) this.#post({ type: "alive" });
      last = p?.bytesSent ?? -1;
      steps = up.steps;
    }, PROGRESS_MS);
  }

  /** The skip check on this login, before the pool adopts the worker (`worker_check.ts`). */
  async #check(request: CheckRequest): Promise<void> {
    const up = this.#uploader!;
    const checking = this.#checking = new AbortController();
    let missing = false;
    const reply = await runCheck(() => up.live(), up.settings, request, {
      // Said once: the run has the other workers log in.
      missing: (alone) => {
        if (!missing) this.#post({ type: "missing", alone });
        missing = true;
      },
      signal: checking.signal,
    });
    this.#checking = undefined;
    this.#post({ type: "checked", check: reply });
  }

  async #mkdirs(dirs: string[]): Promise<void> {
    try {
      const { created, failed } = await this.#uploader!.mkdirs(dirs);
      this.#post({ type: "mkdirsDone", created, failed });
    } catch (e) {
      if (e instanceof ShrinkRequest) return this.#shrink([], e);
      const error = this.#uploader!.describe(e);
      this.#post({ type: "mkdirsDone", created: [], failed: dirs.map((dir) => ({ dir, error })) });
    }
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    while (this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      if (this.#stopReason) {
        this.#post({ type: "result", result: unsentResult(job, this.#stopReason) });
        continue;
      }
      // The last of the batch: ask for the next one now, so it is here when this file is done
      // and the pipeline runs on (the pool hands out nothing when it has nothing).
      if (this.#queue.length === 0) this.#askForMore();
      // With more to come, this file's rename goes out with the next file's first command.
      const more = () => this.#queue.length > 0 && !this.#stopReason;
      if (!await this.#reportAll(() => this.#uploader!.pipeline(job, more))) return;
    }
    if (!await this.#reportAll(() => this.#uploader!.settle())) return;
    // Jobs may have come in while the last renames were settled.
    this.#running = false;
    if (this.#queue.length > 0) return this.#run();
    this.#post({ type: "drained", batches: this.#batches });
    const dirs = this.#waitingDirs;
    this.#waitingDirs = undefined;
    if (dirs) return this.#mkdirs(dirs); // its `mkdirsDone` makes the pool hand out the next work
    if (!this.#askedForMore) this.#askForMore();
  }

  /**
   * Reports the results of one step; false when the connection is over (`ShrinkRequest`: its
   * files and the queue go back). Any other error is a bug: the pool sees the worker die.
   */
  async #reportAll(step: () => Promise<JobResult[]>): Promise<boolean> {
    try {
      for (const result of await step()) this.#report(result);
      return true;
    } catch (e) {
      if (!(e instanceof ShrinkRequest)) throw e;
      for (const result of e.results) this.#report(result);
      this.#shrink([...e.jobs, ...this.#queue.splice(0)], e);
      return false;
    }
  }

  /** Says `idle` once per batch: the pool then hands out the next batch, if it has one. */
  #askForMore(): void {
    this.#askedForMore = true;
    this.#post({ type: "idle" });
  }

  #report(result: JobResult): void {
    if (result.serverFull) this.#stopReason ??= notSentServerFull(result.error ?? "");
    this.#post({ type: "result", result });
  }

  /** This connection is over (refused as too many, or unreachable): its files go back. */
  #shrink(returned: UploadJob[], why: ShrinkRequest): void {
    this.#post({ type: "shrink", returned, reason: why.reason, error: why.message });
    this.#close();
  }

  async #finish(): Promise<void> {
    // Told to finish while still logging in (a worker told ahead and not needed): log out after.
    await this.#loggingIn;
    await this.#uploader?.close();
    this.#post({ type: "closed" });
    this.#close();
  }
}
