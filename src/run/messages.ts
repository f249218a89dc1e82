/**
 * Typed messages between the coordinator and the upload workers.
 *
 * The coordinator owns the queue; a worker owns one FTP connection. A worker
 * that runs out of work says `idle` and gets the next batch, so one slow file
 * never holds up the others.
 *
 * @module
 */

import type { ConnectFailure, JobResult, UploadJob, UploadSettings } from "../upload/job.ts";

export type { ConnectFailure, JobResult, UploadJob, UploadSettings };

export type ToWorker =
  | { type: "init"; workerId: number; settings: UploadSettings }
  | { type: "mkdirs"; dirs: string[] }
  | { type: "jobs"; jobs: UploadJob[] }
  /** No more work: log out and close. */
  | { type: "finish" }
  /** Interrupted: stop after the current attempt reaches a resumable state. */
  | { type: "interrupt" };

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
