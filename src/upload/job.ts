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

/** Why a connection could not be made: the run decides to retry, shrink or stop. */
export type ConnectFailure = "auth" | "unreachable" | "tooMany";
