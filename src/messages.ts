/**
 * Typed messages between the coordinator and the upload workers.
 *
 * The coordinator owns the queue; a worker owns one FTP connection. A worker
 * that runs out of work says `idle` and gets the next batch, so one slow file
 * never holds up the others.
 *
 * @module
 */

import type { Secure } from "./types.ts";

/** Connection settings a worker needs; the password is already resolved. */
export interface WorkerServer {
  host: string;
  port: number;
  user?: string;
  password?: string;
  secure: Secure;
}

/** Everything a worker needs to know once, at start. */
export interface WorkerSettings {
  workerId: number;
  server: WorkerServer;
  retries: number;
  atomic: boolean;
  verify: "size" | "hash";
  backoffBaseMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
}

/** One file to upload. `size`/`mtimeMs` are what the coordinator saw when it checked the source. */
export interface UploadJob {
  id: number;
  source: string;
  destination: string;
  size: number;
  mtimeMs: number;
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
  error?: string;
}

export type ToWorker =
  | { type: "init"; settings: WorkerSettings }
  | { type: "mkdirs"; dirs: string[] }
  | { type: "jobs"; jobs: UploadJob[] }
  /** No more work: log out and close. */
  | { type: "finish" }
  /** Interrupted: stop after the current attempt reaches a resumable state. */
  | { type: "interrupt" };

/** Why a worker could not (re)connect. */
export type ConnectFailure = "auth" | "unreachable" | "tooMany";

export type FromWorker =
  /** Logged in and ready for work. */
  | { type: "ready"; workerId: number }
  /** Could not log in at all; the worker has closed itself. */
  | {
    type: "connectFailed";
    workerId: number;
    kind: ConnectFailure;
    error: string;
  }
  | {
    type: "mkdirsDone";
    workerId: number;
    /** Folders this run created (MKD succeeded): empty, nothing to resume there. */
    created: string[];
    failed: { dir: string; error: string }[];
  }
  | { type: "result"; workerId: number; result: JobResult }
  /** Finished its batch; wants more. */
  | { type: "idle"; workerId: number }
  /** The server refused a (re)login as "too many connections": these jobs go back to the queue and the worker closes. */
  | { type: "shrink"; workerId: number; returned: UploadJob[] }
  | { type: "reconnected"; workerId: number }
  | { type: "closed"; workerId: number };
