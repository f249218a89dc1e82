/**
 * What one upload is (a job), what came of it (a result) and the settings an
 * uploader works with: the shapes the run layer hands down to `uploader.ts`.
 *
 * @module
 */

import type { FtpLogin } from "../ftp/login.ts";

/** Everything an uploader needs to know once, at start. */
export interface UploadSettings {
  server: FtpLogin;
  retries: number;
  atomic: boolean;
  verify: "size" | "hash";
  backoffBaseMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
  /** How long an outage spends no tries (default `OUTAGE_WINDOW_MS`; tests shorten it). */
  outageWindowMs?: number;
}

/** One file to upload. `size`/`mtimeMs` are what the coordinator saw when it checked the source. */
export interface UploadJob {
  id: number;
  source: string;
  destination: string;
  size: number;
  mtimeMs: number;
  /** Inode and change time where the platform gives them: a rewrite in place changes ctime. */
  ino?: number;
  ctimeMs?: number;
  /** The destination folder was created by this run, so no leftover temporary file can be there. */
  fresh?: boolean;
  /** Progress of earlier attempts by another worker, when the job was handed back. */
  carried?: { attempts: number; bytesSent: number; resumedFrom: number[] };
}

/** Outcome of one job, as the worker saw it. */
export interface JobResult {
  id: number;
  status: "uploaded" | "failed";
  /** Bytes put on the data connections for this file, over all attempts. */
  bytesSent: number;
  attempts: number;
  /** Offsets at which an attempt resumed instead of starting at 0. */
  resumedFrom: number[];
  durationMs: number;
  /** Which check proved an uploaded file: its size, or its size and the server's hash. */
  verified?: "size" | "hash";
  /** Whether the uploaded file got the local modification time (`unsupported`: the server sets none). */
  timeSet?: "set" | "failed" | "unsupported";
  /** The server said it is out of space (452/552): the run sends it no more files. */
  serverFull?: true;
  error?: string;
  /** Why it failed, when not for a reason of its own (those are logged one by one). */
  failure?: Failure;
}

/** Failures that are not a file's own: said once for the run, not once per file. */
export const Failure = {
  /** Never sent (or not again): no connection left, the server full, a folder missing. */
  NotSent: "notSent",
  /** The run was interrupted while the file was under way. */
  Interrupted: "interrupted",
} as const;
export type Failure = typeof Failure[keyof typeof Failure];

/**
 * An operation failed and is tried again after `delayMs`: `path` is the file's
 * destination (or the folder being created), `attempt` the try about to be
 * made, `error` the failure (already made safe: `describe`), `reconnect` when
 * the connection is dropped and a new one logged in first.
 */
export interface RetryNotice {
  path: string;
  attempt: number;
  error: string;
  delayMs: number;
  reconnect: boolean;
}

/** A transfer under way: `bytesSent` for this job so far (all attempts), `position` reached in the file. */
export interface TransferProgress {
  id: number;
  bytesSent: number;
  position: number;
}

/**
 * Why a connection could not be made: `unreachable` is retried, `tooMany`
 * shrinks the pool, `auth` (login refused), `certificate` (untrusted TLS
 * certificate) and `notFtp` (another protocol answered, such as SSH) stop the run.
 */
export type ConnectFailure = "auth" | "certificate" | "notFtp" | "unreachable" | "tooMany";

/**
 * The result of a job that was never sent (its earlier progress, if any, kept), failed for
 * `reason`; `failure` says which kind (the run says it once, not once per file).
 */
export function unsentResult(
  job: UploadJob,
  reason: string,
  failure: Failure = Failure.NotSent,
): JobResult {
  return {
    id: job.id,
    status: "failed",
    bytesSent: job.carried?.bytesSent ?? 0,
    attempts: job.carried?.attempts ?? 0,
    resumedFrom: job.carried?.resumedFrom ?? [],
    durationMs: 0,
    error: reason,
    failure,
  };
}

/** The reason given to files not sent after the server said it is full (`serverWords`: its reply). */
export function notSentServerFull(serverWords: string): string {
  return `not sent: the server reported it is full (${serverWords})`;
}

/**
 * This connection is over: the server wants fewer connections (`tooMany`), or
 * it could not be reached again for longer than the outage window
 * (`unreachable`: the next file would only spend its tries the same way). Hand
 * `jobs` (with their progress so far) back; `results`: files finished before it
 * came (pending renames confirmed).
 */
export class ShrinkRequest extends Error {
  constructor(
    readonly jobs: UploadJob[] = [],
    readonly results: JobResult[] = [],
    readonly reason: "tooMany" | "unreachable" = "tooMany",
    why = "server refused another connection (too many)",
  ) {
    super(why);
    this.name = "ShrinkRequest";
  }
}
