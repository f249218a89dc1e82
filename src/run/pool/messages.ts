/**
 * Typed messages between the coordinator and the upload workers.
 *
 * The coordinator owns the queue; a worker owns one FTP connection. A worker
 * that runs out of work says `idle` and gets the next batch, so one slow file
 * never holds up the others. The pool knows which worker sent a message by
 * the worker it came from, so messages carry no worker id.
 *
 * @module
 */

import type {
  ConnectFailure,
  JobResult,
  RetryNotice,
  TransferProgress,
  UploadJob,
  UploadSettings,
} from "../../upload/job.ts";

import type { SkipRule } from "../../config/types.ts";
import type { ServerClock } from "../../plan/server_clock.ts";

export type { ConnectFailure, JobResult, RetryNotice, TransferProgress, UploadJob, UploadSettings };

/** The skip check of the listed files, on the worker's own login (`worker_check.ts`). */
export interface CheckRequest {
  jobs: UploadJob[];
  rule: SkipRule;
  /** Most connections to read with at once (the worker's own, then logins of their own). */
  connections: number;
  /** What the run knows of the server's clocks; comes back as the worker learned it. */
  clock?: ServerClock;
}

/** What the check decided, by job id, and what it learned and said. */
export interface CheckReply {
  send: number[];
  skipped: { id: number; reason: string }[];
  /** Said once in the report. */
  notes: string[];
  /** Progress lines (the run's log). */
  logs: string[];
  clock?: ServerClock;
  loginRefused?: string;
}

export type ToWorker =
  | { type: "init"; settings: UploadSettings }
  /** Before the pool adopts it: the skip check on this login; `checked` answers. */
  | { type: "check"; check: CheckRequest }
  | { type: "mkdirs"; dirs: string[] }
  | { type: "jobs"; jobs: UploadJob[] }
  /** The server is out of space: the jobs still queued here fail with `reason`, unsent. */
  | { type: "stopSending"; reason: string }
  /** No more work: log out and close. */
  | { type: "finish" }
  /** Interrupted: stop after the current attempt reaches a resumable state. */
  | { type: "interrupt" };

export type FromWorker =
  /** Logged in and ready for work. */
  | { type: "ready" }
  /** The first login failed and will be tried again: `attempt` (2..) of `of`, after `pauseMs`. */
  | { type: "connectRetry"; attempt: number; of: number; pauseMs: number; error: string }
  /** Could not log in at all; the worker has closed itself. */
  | { type: "connectFailed"; kind: ConnectFailure; error: string }
  | {
    type: "mkdirsDone";
    /** Folders this run created (MKD succeeded): empty, nothing to resume there. */
    created: string[];
    failed: { dir: string; error: string }[];
  }
  | { type: "result"; result: JobResult }
  /**
   * The skip check found a destination folder missing: something will be sent. `alone`: it
   * reads over this one connection (the other workers may log in now).
   */
  | { type: "missing"; alone: boolean }
  | { type: "checked"; check: CheckReply }
  /** Finished its batch; wants more. */
  | { type: "idle" }
  /**
   * Holds no file any more (every result told, nothing queued or waiting for a rename), after `batches`
   * batches: a file the pool still counts as its, sent no later, was lost on the way.
   */
  | { type: "drained"; batches: number }
  /**
   * The connection is over: the server refused a (re)login as "too many connections", or
   * could not be reached past the outage window. These jobs go back; the worker closes.
   */
  | {
    type: "shrink";
    returned: UploadJob[];
    /** `unreachable`: the server could not be reached again past the outage window. */
    reason: "tooMany" | "unreachable";
    error: string;
  }
  /** Logged in again after a lost connection (`cause`: the retry that dropped it). */
  | { type: "reconnected"; cause?: RetryNotice }
  /** A failed try is followed by another after `notice.delayMs`. */
  | { type: "retry"; notice: RetryNotice }
  /** Work went on without bytes moving (a folder created, a file verified): for the watchdog. */
  | { type: "alive" }
  /** Every ~250 ms while a transfer moves: how far it got. */
  | ({ type: "progress" } & TransferProgress)
  | { type: "closed" };
